import type { Command } from 'commander';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check configuration files');
  config
    .command('check')
    .description(
      'validate a config file, the school registry it names and every file the processes open at start; exit 2 when invalid',
    )
    .argument('<file>', 'YAML config file')
    .option('--print', 'print the effective config, secrets masked')
    .option(
      '--no-files',
      "skip opening the files the processes open at start: checking a config made for another machine (an agent's box)",
    )
    .action(async (file: string, opts: { print?: boolean; files: boolean }) => {
      // Loaded here, not at start: the config schemas weigh most of a `vigie --help`.
      const { runConfigCheck } = await import('./config-check.ts');
      runConfigCheck(file, opts);
    });
}
