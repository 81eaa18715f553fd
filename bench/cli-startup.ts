// CLI start-up benchmark: `vigie --version`, `vigie --help` and the collector's time to ready, each
// beside a bare `node -e 0` measured in the same run (interleaved, so a loaded machine weighs on both).
// Goal (issue 16): --version and --help ≤ 3× a bare Node start; collector ready (connected to a real
// Mosquitto, InfluxDB up) ≤ 2 s. Run: npm run bench:cli-startup [-- rounds]  (builds dist/ first;
// VIGIE_FROM_SOURCES=1 measures the TypeScript sources through tsx instead, for comparison).
// The collector's CPU time until ready is printed too (Linux): on a loaded machine it varies far less
// than wall time, which waits for the cores.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { collectorSection } from '../test/harness/collector.ts';
import { tempDir } from '../test/harness/daemon.ts';
import { startInfluxdb } from '../test/harness/influxdb.ts';
import { startMosquitto } from '../test/harness/mosquitto.ts';

const ROUNDS = Number(process.argv[2] ?? 7);
const ROOT = resolve(import.meta.dirname, '..');
const VIGIE = join(ROOT, 'bin/vigie.js');
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Run {
  ms: number;
  rssMiB?: number;
}

/** Wall time of one command, and its peak RSS when GNU time is there. */
function run(args: string[]): Run {
  const started = performance.now();
  const r = TIME
    ? spawnSync(TIME, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  const kb = TIME ? Number(r.stderr.trim().split('\n').pop()) : Number.NaN;
  return { ms, ...(Number.isFinite(kb) ? { rssMiB: kb / 1024 } : {}) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** CPU time (user + system) a live process has used, in ms; undefined without Linux's /proc. */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks (USER_HZ: 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

interface Ready {
  ms: number;
  cpuMs?: number | undefined;
}

/** Milliseconds from spawning `vigie collector` to its "connected to the MQTT broker" line, and its CPU time then. */
async function collectorReady(configFile: string): Promise<Ready> {
  const started = performance.now();
  const child = spawn(process.execPath, [VIGIE, 'collector', '--config', configFile], {
    env: { ...process.env, VIGIE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`collector exited with ${code} before it was ready`))),
  );
  exited.catch(() => {});
  const ready = new Promise<Ready>((done) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('connected to the MQTT broker'))
        done({ ms: performance.now() - started, cpuMs: cpuMs(child.pid) });
    });
  });
  try {
    return await Promise.race([ready, exited]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const [mosquitto, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
try {
  const dir = tempDir('bench-cli');
  const configFile = join(dir, 'vigie.yaml');
  writeFileSync(
    configFile,
    stringify({
      collector: collectorSection({
        mqttUrl: mosquitto.url,
        influxUrl: influx.url,
        database: 'bench_cli',
        walDir: join(dir, 'wal'),
      }),
    }),
  );
  const bare: Run[] = [];
  const version: Run[] = [];
  const help: Run[] = [];
  const bareForCollector: Run[] = [];
  const ready: Ready[] = [];
  run([VIGIE, '--version']); // warm the file cache
  for (let i = 0; i < ROUNDS; i++) {
    bare.push(run(['-e', '0']));
    version.push(run([VIGIE, '--version']));
    help.push(run([VIGIE, '--help']));
    bareForCollector.push(run(['-e', '0']));
    ready.push(await collectorReady(configFile));
  }
  const bareMs = median([...bare, ...bareForCollector].map((r) => r.ms));
  const rss = (rs: Run[]) => {
    const xs = rs.flatMap((r) => (r.rssMiB === undefined ? [] : [r.rssMiB]));
    return xs.length ? `${median(xs).toFixed(0)} MiB` : 'n/a';
  };
  const line = (name: string, rs: Run[], goal?: number) => {
    const ms = median(rs.map((r) => r.ms));
    const ratio = ms / bareMs;
    const verdict =
      goal === undefined ? '' : ratio <= goal ? `  ok (≤ ${goal}×)` : `  OVER (goal ≤ ${goal}×)`;
    return `${name.padEnd(22)} ${ms.toFixed(0).padStart(6)} ms  ${rss(rs).padStart(8)}  ${ratio.toFixed(2)}× bare${verdict}`;
  };
  const readyMs = median(ready.map((r) => r.ms));
  const cpus = ready.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs]));
  const readyCpu = cpus.length ? `, CPU ${median(cpus).toFixed(0)} ms` : '';
  const source = process.env['VIGIE_FROM_SOURCES'] === '1' ? 'sources through tsx' : 'dist/ when fresh';
  process.stdout.write(
    [
      `vigie start-up, median of ${ROUNDS} rounds (${source}):`,
      line('node -e 0', [...bare, ...bareForCollector]),
      line('vigie --version', version, 3),
      line('vigie --help', help, 3),
      `${'collector ready'.padEnd(22)} ${readyMs.toFixed(0).padStart(6)} ms            ${(readyMs / bareMs).toFixed(2)}× bare  ${readyMs <= 2000 ? 'ok (≤ 2 s)' : 'OVER (goal ≤ 2 s)'}${readyCpu}`,
      '',
    ].join('\n'),
  );
} finally {
  await Promise.all([mosquitto.daemon.dispose(), influx.daemon.dispose()]);
}
