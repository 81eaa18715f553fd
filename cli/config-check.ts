import type { Command } from 'commander';
import { agentStartFiles } from '../agent/config-file.ts';
import { resolveCollectorConfig } from '../collector/config.ts';
import { collectorStartFiles } from '../collector/config-file.ts';
import { ConfigError } from '../shared/config.ts';
import { redactSecrets } from '../shared/log.ts';
import { checkHoursProfiles, loadRegistry, RegistryError } from '../shared/registry.ts';
import { DEFAULT_HOURS_PROFILES } from '../shared/school-hours.ts';
import { startFileProblems } from '../shared/start-files.ts';
import { loadVigieConfig, VigieConfig } from './config-file.ts';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check and show configuration files');
  config
    .command('check')
    .description(
      'validate a config file, the school registry it names and every file the processes open at start; exit 2 when invalid',
    )
    .argument('<file>', 'YAML config file')
    .option('--print', 'print the effective config, secrets masked')
    .action((file: string, opts: { print?: boolean }) => {
      try {
        const { config: cfg, overrides, warnings } = loadVigieConfig(file);
        const sections = Object.keys(cfg);
        if (sections.length === 0)
          throw new ConfigError(file, [
            {
              path: '(top level)',
              expected: `at least one section (${Object.keys(VigieConfig.properties).join(', ')})`,
              found: 'none',
            },
          ]);
        // Everything the processes open at start, each missing one said (they exit 2 on the first).
        const files = startFileProblems([
          ...(cfg.agent ? agentStartFiles(cfg.agent) : []),
          ...(cfg.collector ? collectorStartFiles(resolveCollectorConfig(cfg.collector)) : []),
        ]);
        if (files.length) throw new ConfigError(file, files, warnings);
        if (cfg.collector?.schools)
          checkHoursProfiles(cfg.collector.schools, loadRegistry(cfg.collector.schools), [
            ...Object.keys(DEFAULT_HOURS_PROFILES),
            ...Object.keys(cfg.collector.alerts?.hours ?? {}),
          ]);
        for (const o of overrides) process.stdout.write(`override from environment: ${o}\n`);
        for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
        if (opts.print) process.stdout.write(`${JSON.stringify(redactSecrets(cfg), null, 2)}\n`);
        process.stdout.write(`${file}: valid (${sections.join(', ')})\n`);
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
