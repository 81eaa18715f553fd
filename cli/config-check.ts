import { ConfigError } from '../shared/config.ts';
import { redactSecrets } from '../shared/log.ts';
import { loadRegistry, RegistryError } from '../shared/registry.ts';
import { loadVigieConfig, VigieConfig } from './config-file.ts';

/** `vigie config check FILE [--print]`: prints `FILE: valid (sections)` or each problem and sets exit code 2. */
export function runConfigCheck(file: string, opts: { print?: boolean }): void {
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
    if (cfg.collector?.schools) loadRegistry(cfg.collector.schools);
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
}
