import type { Command } from 'commander';
import { registerHttpCommands } from './http/cli.ts';

export function registerCollectorCommands(program: Command): void {
  program
    .command('collector')
    .description('receive agent measurements over MQTT, store them in InfluxDB, track presence and alert')
    .requiredOption('-c, --config <file>', 'YAML config file with a `collector:` section')
    .action(async (opts: { config: string }) => {
      const { runCollectorCommand } = await import('./main.ts');
      process.exitCode = await runCollectorCommand(opts);
    });
  registerHttpCommands(program);
}
