import type { Command } from 'commander';
import { ConfigError } from '../shared/config.ts';
import { redactSecrets } from '../shared/log.ts';
import { loadRegistry, RegistryError } from '../shared/registry.ts';
import { loadVigieConfig } from './config-file.ts';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check and show configuration files');
  config
    .command('check')
    .description('validate a config file (and the school registry it names); exit 2 when invalid')
    .argument('<file>', 'YAML config file')
    .option('--print', 'print the effective config, secrets masked')
    .action((file: string, opts: { print?: boolean }) => {
      try {
        const { config: cfg, overrides } = loadVigieConfig(file);
        if (cfg.collector?.schools) loadRegistry(cfg.collector.schools);
        for (const o of overrides) process.stdout.write(`override from environment: ${o}\n`);
        if (opts.print) process.stdout.write(`${JSON.stringify(redactSecrets(cfg), null, 2)}\n`);
        const sections = Object.keys(cfg).join(', ') || 'no section';
        process.stdout.write(`${file}: valid (${sections})\n`);
      } catch (err) {
        if (err instanceof ConfigError || err instanceof RegistryError) {
          process.stderr.write(`${err.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw err;
      }
    });
}
