// The build command's body: check options, read thresholds from the config if given, write files.
import { resolve } from 'node:path';
import { outDirProblem } from '../cli/out-dir.ts';
import { DEFAULT_THRESHOLDS, mergeThresholdLevels } from '../collector/thresholds.ts';
import { buildFiles, DEFAULT_BUILD, writeFiles } from './build.ts';
import { LANGS, type Lang } from './kit.ts';
import { parseInterval } from './provisioning.ts';

export interface BuildCommand {
  out: string;
  lang: string;
  config: string | undefined;
  influxUrl: string;
  database: string;
  minInterval: string;
}

function fail(message: string): number {
  process.stderr.write(`vigie dashboards build: ${message}\n`);
  return 2;
}

export async function runBuild(cmd: BuildCommand): Promise<number> {
  const badOut = outDirProblem(cmd.out);
  if (badOut) return fail(badOut);
  if (!LANGS.includes(cmd.lang as Lang))
    return fail(`--lang must be one of ${LANGS.join(', ')}, not "${cmd.lang}"`);
  if (!/^https?:\/\/\S+$/.test(cmd.influxUrl))
    return fail(`--influx-url must be an http(s) URL, not "${cmd.influxUrl}"`);
  try {
    parseInterval(cmd.minInterval);
  } catch {
    return fail(`--min-interval must look like 30s, 1m or 500ms, not "${cmd.minInterval}"`);
  }
  let thresholds = DEFAULT_THRESHOLDS;
  if (cmd.config) {
    const { loadCollectorConfig } = await import('../collector/config-file.ts');
    try {
      const { config } = loadCollectorConfig(cmd.config);
      thresholds = mergeThresholdLevels(DEFAULT_THRESHOLDS, config.collector?.alerts.thresholds);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
  }
  const out = resolve(cmd.out);
  const files = buildFiles({
    ...DEFAULT_BUILD,
    lang: cmd.lang as Lang,
    thresholds,
    influxUrl: cmd.influxUrl,
    database: cmd.database,
    minInterval: cmd.minInterval,
  });
  writeFiles(out, files);
  process.stdout.write(`wrote ${files.size} files to ${out}\n`);
  return 0;
}
