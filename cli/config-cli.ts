import type { Command } from 'commander';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check configuration files');
  config
    .command('check')
    .description('validate a config file (and the school registry it names); exit 2 when invalid')
    .argument('<file>', 'YAML config file')
    .option('--print', 'print the effective config, secrets masked')
    .action(async (file: string, opts: { print?: boolean }) => {
      // Loaded here, not at start: the config schemas weigh most of a `vigie --help`.
      const { runConfigCheck } = await import('./config-check.ts');
      runConfigCheck(file, opts);
    });
}
