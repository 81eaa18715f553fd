// How far the collector goes: `vigie simulate` at 1,000, 5,000 and 10,000 agents against the real
// Mosquitto and one collector, then two in one shared-subscription group (docs/design-several-collectors.md),
// writing to the real InfluxDB, each a process of its own. Prints, per step: batches/s acked by the
// broker, each collector's CPU and RSS, ingest lag (newest point in InfluxDB vs. the wall clock) and how
// long InfluxDB took to hold every acked batch once the fleet stopped.
//
//   npm run bench:scale -- [--steps 1000,5000,10000] [--interval 10] [--seconds 60] [--collectors 1,2]
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadRegistry, REGISTRY_CSV_HEADER, registryCsvRow } from '../shared/registry.ts';
import { buildFleet } from '../simulator/fleet.ts';
import type { RunSummary } from '../simulator/progress.ts';
import { sleep, tempDir, waitFor } from '../test/harness/daemon.ts';
import { startInfluxdb } from '../test/harness/influxdb.ts';
import { startMosquitto } from '../test/harness/mosquitto.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const steps = arg('steps', '1000,5000,10000').split(',').map(Number);
const intervalS = Number(arg('interval', '10'));
const seconds = Number(arg('seconds', '60'));
const collectorCounts = arg('collectors', '1,2').split(',').map(Number);
const SEED = 'bench';
const CLK_TCK = 100;

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
function procUsage(pid: number): { cpuS: number; rssMB: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS, rssMB: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return null;
  }
}

function vigie(args: string[], logFile: string): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['bin/vigie.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  child.on('exit', () => writeFileSync(logFile, log));
  return { child, output: () => log };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(0)} %`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const dir = tempDir('bench-scale');
  const maxAgents = Math.max(...steps);
  const registry = [...loadRegistry('examples/agglomeration.csv').values()];
  const fleet = buildFleet(maxAgents, registry, SEED);
  const csv = [REGISTRY_CSV_HEADER, ...fleet.map(({ school }) => registryCsvRow(school))].join('\n');
  const schoolsFile = join(dir, 'fleet.csv');
  writeFileSync(schoolsFile, `${csv}\n`);

  const [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  const results: string[] = [];
  try {
    for (const count of collectorCounts) await runWith(count, { dir, schoolsFile, broker, influx, results });
  } finally {
    await Promise.all([broker.daemon.dispose(), influx.daemon.dispose()]);
  }
  console.log(
    `\nsummary (${intervalS} s interval; simulator, broker, collectors and InfluxDB share this machine):`,
  );
  for (const line of results) console.log(line);
}

interface Peers {
  dir: string;
  schoolsFile: string;
  broker: Awaited<ReturnType<typeof startMosquitto>>;
  influx: Awaited<ReturnType<typeof startInfluxdb>>;
  results: string[];
}

/** `count` collectors (a group when more than one), each step of the fleet against them. */
async function runWith(count: number, { dir, schoolsFile, broker, influx, results }: Peers): Promise<void> {
  const database = `vigie_c${count}`;
  const collectors = Array.from({ length: count }, (_, i) => {
    const name = count === 1 ? 'collector' : `collector-${i + 1}-of-${count}`;
    const configFile = join(dir, `${name}.yaml`);
    writeFileSync(
      configFile,
      [
        'collector:',
        `  schools: ${schoolsFile}`,
        '  mqtt:',
        `    url: ${broker.url}`,
        `    clientId: bench-${name}`,
        ...(count > 1 ? ['    group: bench'] : []),
        '  influx:',
        `    url: ${influx.url}`,
        `    database: ${database}`,
        '  wal:',
        `    dir: ${join(dir, `wal-${name}`)}`,
        '',
      ].join('\n'),
    );
    return { name, ...vigie(['collector', '--config', configFile], join(dir, `${name}.log`)) };
  });
  try {
    for (const c of collectors)
      await waitFor(
        `${c.name} to connect to the broker`,
        async () => {
          if (c.child.exitCode !== null) throw new Error(`${c.name} exited: see ${dir}/${c.name}.log`);
          return c.output().includes('connected to the MQTT broker');
        },
        120_000, // a loaded machine takes its time to load the TypeScript
      );
    console.log(
      `bench/scale: ${count} collector(s), ${steps.join(', ')} agents, one batch every ${intervalS} s each, ${seconds} s per step; ` +
        `Mosquitto ${broker.url}, InfluxDB ${influx.url}, collector pids ${collectors.map((c) => c.child.pid).join(', ')}; files in ${dir}`,
    );
    for (const agents of steps) {
      const stepStart = Date.now();
      const summaryFile = join(dir, `summary-${agents}.json`);
      const { child: sim } = vigie(
        [
          'simulate',
          '--agents',
          String(agents),
          '--interval',
          String(intervalS),
          '--broker',
          broker.url,
          '--schools',
          schoolsFile,
          '--seed',
          SEED,
          '--outages',
          '0',
          '--duration',
          String(seconds),
          '--progress',
          '10',
          '--summary-json',
          summaryFile,
        ],
        join(dir, `simulate-${agents}.log`),
      );
      // Measure once the fleet is up: skip the first third of the step (connect ramp, first rounds).
      const measureFrom = stepStart + (seconds * 1000) / 3;
      // CPU % (of one core) over the measured window, per process.
      const pids: Record<string, number | undefined> = {
        ...Object.fromEntries(collectors.map((c) => [c.name, c.child.pid])),
        simulator: sim.pid,
        mosquitto: broker.daemon.pid,
        influxd: influx.daemon.pid,
      };
      const cpuFrom: Record<string, { at: number; cpuS: number }> = {};
      const cpu: Record<string, number> = {};
      let rssMax = 0;
      let simRssMax = 0;
      const lags: number[] = [];
      while (sim.exitCode === null && Date.now() < stepStart + (seconds + 60) * 1000) {
        await sleep(2000);
        const now = Date.now();
        for (const col of collectors) {
          const c = procUsage(col.child.pid!);
          if (!c) throw new Error(`${col.name} died: see ${dir}/${col.name}.log`);
          rssMax = Math.max(rssMax, c.rssMB);
        }
        const s = sim.pid ? procUsage(sim.pid) : null;
        simRssMax = Math.max(simRssMax, s?.rssMB ?? 0);
        if (now < measureFrom || now > stepStart + seconds * 1000) continue;
        for (const [name, pid] of Object.entries(pids)) {
          const u = pid ? procUsage(pid) : null;
          if (!u) continue;
          const from = cpuFrom[name];
          if (!from) cpuFrom[name] = { at: now, cpuS: u.cpuS };
          else cpu[name] = (100 * (u.cpuS - from.cpuS) * 1000) / (now - from.at);
        }
        const [last] = await influx.rows('SELECT last("uptime_s") FROM "agent"', database);
        if (last) lags.push((Date.now() - Number(last['time'])) / 1000);
      }
      const code = await exited(sim);
      const stoppedAt = Date.now();
      if (code !== 0)
        throw new Error(`vigie simulate exited with ${code}: see ${dir}/simulate-${agents}.log`);
      const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary;
      // Every acked batch carries one self sample: InfluxDB holds them all once ingest caught up.
      const countSelf = async () => {
        const [row] = await influx.rows(
          `SELECT count("uptime_s") FROM "agent" WHERE time >= ${stepStart - 1000}ms`,
          database,
        );
        return Number(row?.['count'] ?? 0);
      };
      let stored = 0;
      let drainS: number | null = null;
      const drainDeadline = stoppedAt + 180_000;
      while (Date.now() < drainDeadline) {
        stored = await countSelf();
        if (stored >= summary.batchesAcked) {
          drainS = (Date.now() - stoppedAt) / 1000;
          break;
        }
        await sleep(500);
      }
      const collectorCpu = collectors.map((c) => pct(cpu[c.name])).join(' + ');
      const line =
        `${count} collector${count > 1 ? 's' : ' '} ${String(agents).padStart(6)} agents: ${summary.peakConnected} connected` +
        (summary.secondsToConnectAll !== null
          ? ` in ${summary.secondsToConnectAll.toFixed(1)} s`
          : ' (not all)') +
        `, ${summary.ackedPerSecond.toFixed(0)} batches/s acked on average` +
        (summary.steadyAckedPerSecond !== null
          ? ` (${summary.steadyAckedPerSecond.toFixed(0)}/s once all were up)`
          : '') +
        ' ' +
        `(${summary.batchesAcked} in ${summary.secondsRun.toFixed(0)} s, ${summary.refused + summary.networkErrors + summary.timeouts} connect errors)` +
        ` · collector${count > 1 ? 's' : ''} ${collectorCpu} CPU, RSS ≤ ${rssMax.toFixed(0)} MB each` +
        ` · ingest lag median ${median(lags).toFixed(1)} s, max ${Math.max(...lags).toFixed(1)} s` +
        ` · ${stored}/${summary.batchesAcked} batches in InfluxDB` +
        (drainS !== null
          ? `, all ${drainS.toFixed(1)} s after the fleet stopped`
          : ' (NOT ALL after 180 s)') +
        ` · simulator ${pct(cpu['simulator'])} CPU, RSS ≤ ${simRssMax.toFixed(0)} MB` +
        ` · mosquitto ${pct(cpu['mosquitto'])}, influxd ${pct(cpu['influxd'])} CPU` +
        ` · machine load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
      console.log(line);
      results.push(line);
    }
  } finally {
    for (const c of collectors) c.child.kill('SIGTERM');
    for (const c of collectors) {
      await Promise.race([exited(c.child), sleep(10_000)]);
      if (c.child.exitCode === null) c.child.kill('SIGKILL');
    }
  }
}

await main();
