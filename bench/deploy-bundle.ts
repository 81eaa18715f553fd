// What the single-file agent costs and saves on a school's box, measured side by side in one run:
// bundle size (raw and gzip), and the cold start of `config check` (load the CLI, parse and validate a
// config, exit) through the bundle vs through tsx from the repository, runs interleaved, medians.
//
//   npx tsx bench/deploy-bundle.ts [--runs 9]
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../test/harness/daemon.ts';

const ROOT = join(import.meta.dirname, '..');
const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 9;

const dir = tempDir('bench-bundle');
const bundle = join(dir, 'vigie-agent.mjs');
execFileSync(process.execPath, [join(ROOT, 'scripts/build-agent'), bundle], { stdio: 'pipe' });
const config = join(dir, 'agent.yaml');
writeFileSync(config, 'agent:\n  uai: "0690001B"\n  spool: { dir: /tmp/vigie-bench-spool }\n');

const variants: Record<string, string[]> = {
  bundle: [bundle, 'config', 'check', config],
  'tsx (repository)': [join(ROOT, 'bin/vigie.js'), 'config', 'check', config],
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < runs; r++) {
  for (const [name, args] of Object.entries(variants)) {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(process.execPath, args, { cwd: dir, stdio: 'pipe' });
    if (res.status !== 0) throw new Error(`${name}: exit ${res.status}: ${res.stderr}`);
    times[name]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const raw = readFileSync(bundle);
console.log(
  `bundle: ${(raw.length / 1024).toFixed(0)} KiB, gzip ${(gzipSync(raw).length / 1024).toFixed(0)} KiB`,
);
for (const [name, xs] of Object.entries(times)) {
  console.log(`config check cold start, ${name}: median ${median(xs).toFixed(0)} ms over ${runs} runs`);
}
const ratio = median(times['tsx (repository)']!) / median(times['bundle']!);
console.log(`bundle starts ${ratio.toFixed(1)}× faster than tsx`);
rmSync(dir, { recursive: true, force: true });
