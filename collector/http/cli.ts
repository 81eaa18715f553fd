// `vigie speedtest-token --config FILE UAI...`: the token each school's agent puts in
// `probes.speedtest.token`, derived from the collector's `http.speedtest.secret`.
import type { Command } from 'commander';
import { uaiProblem } from '../../shared/uai.ts';

export function registerHttpCommands(program: Command): void {
  program
    .command('speedtest-token')
    .description("print each school's speed-test token (derived from collector.http.speedtest.secret)")
    .requiredOption('-c, --config <file>', 'YAML config file with a `collector:` section')
    .argument('<uai...>', 'school UAIs')
    .action(async (uais: string[], opts: { config: string }) => {
      process.exitCode = await printSpeedtestTokens(opts.config, uais);
    });
}

export async function printSpeedtestTokens(file: string, uais: string[]): Promise<number> {
  const { loadCollectorConfig } = await import('../config-file.ts');
  const { speedtestToken } = await import('./auth.ts');
  let secret: string | undefined;
  try {
    secret = loadCollectorConfig(file).config.collector?.http.speedtest.secret;
  } catch (err) {
    process.stderr.write(`vigie speedtest-token: ${(err as Error).message}\n`);
    return 2;
  }
  if (!secret) {
    process.stderr.write(`vigie speedtest-token: ${file} sets no collector.http.speedtest.secret\n`);
    return 2;
  }
  const bad = uais.map((u) => uaiProblem(u)).filter((p): p is string => p !== null);
  if (bad.length) {
    process.stderr.write(`vigie speedtest-token: ${bad.join('; ')}\n`);
    return 2;
  }
  for (const uai of uais) process.stdout.write(`${uai}\t${speedtestToken(secret, uai)}\n`);
  return 0;
}
