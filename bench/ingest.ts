// Ingest benchmark: points/s from a publisher through Mosquitto and the collector into InfluxDB,
// printed beside the two ceilings measured in the same run on the same machine:
//  (a) InfluxDB alone: the same line protocol, pre-built, posted directly with the same batch size;
//  (b) MQTT alone: a bare mqtt.js subscriber's receive rate under the same publisher.
// Also: the `influx` package's writePoints against the collector's own writer, same points.
// Goal: the collector sustains ≥ 85 % of the lower ceiling. Run: npm run bench:ingest [-- messages]
//
// Fairness on a small box: unpinned, InfluxDB has every core to itself while its ceiling is measured,
// but shares them with the publisher, Mosquitto and the collector in the collector run, so the ratio
// measured CPU contention more than the collector. So by default every phase runs pinned: InfluxDB on
// core 0 (GOMAXPROCS=1), this process (publishers, ceiling poster), Mosquitto and the collector on the
// other cores. The ceiling is then "InfluxDB on one core", and the ratio asks whether the collector,
// beside its broker and its publishers, keeps that InfluxDB fed. The busy share of each core during the
// collector run is printed: InfluxDB's core near 100 % means the collector keeps up.
// VIGIE_BENCH_PIN=0 runs unpinned (every process on every core), as before.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InfluxDB, type IPoint } from 'influx';
import mqtt from 'mqtt';
import { resolveCollectorConfig } from '../collector/config.ts';
import { InfluxHttp } from '../collector/influx-http.ts';
import { intake } from '../collector/intake.ts';
import { toLines } from '../collector/line-protocol.ts';
import { batchToPoints } from '../collector/mapping.ts';
import type { Point } from '../collector/point.ts';
import { metricsTopic } from '../shared/topics.ts';
import { collectorProcess, makeBatch, manySamples } from '../test/harness/collector.ts';
import { waitFor } from '../test/harness/daemon.ts';
import { startInfluxdb } from '../test/harness/influxdb.ts';
import { startMosquitto } from '../test/harness/mosquitto.ts';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const SAMPLES = 20; // per message → 21 points with the batch point
const PUBLISHERS = 4;
const WINDOW = 200; // QoS 1 publishes in flight per publisher
const SCHOOL = '0381234K';
// VIGIE_BENCH_GZIP=0 runs the ceiling and the collector without compression (InfluxDB on the same host).
const GZIP = process.env['VIGIE_BENCH_GZIP'] !== '0';
const defaults = resolveCollectorConfig({ influx: { gzip: GZIP } });
const CORES = availableParallelism();
const PIN = process.env['VIGIE_BENCH_PIN'] !== '0' && CORES >= 2;
const INFLUX_CORE = '0';
const OTHER_CORES = `1-${CORES - 1}`;

/** Every thread of `pid` on `cores` (util-linux taskset); children started later inherit it. */
function pin(pid: number, cores: string): void {
  execFileSync('taskset', ['-a', '-cp', cores, String(pid)], { stdio: 'ignore' });
}

/** Busy and total jiffies of each core, from /proc/stat. */
function coreTimes(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const v = l.split(/\s+/).slice(1).map(Number);
      const idle = v[3]! + v[4]!; // idle + iowait
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    });
}
const BATCH_POINTS = defaults.influx.batchPoints;

const now = Date.now();
const payloads: { topic: string; body: string }[] = [];
for (let i = 0; i < MESSAGES; i++) {
  const agent = `box-${i % PUBLISHERS}`;
  const t = now - 3_600_000 + i;
  payloads.push({
    topic: metricsTopic(SCHOOL, agent),
    body: JSON.stringify(makeBatch(SCHOOL, agent, Math.floor(i / PUBLISHERS), t, manySamples(t, SAMPLES))),
  });
}
const POINTS_PER_MESSAGE = SAMPLES + 1;
const TOTAL_POINTS = MESSAGES * POINTS_PER_MESSAGE;

/** Each publisher sends its share with a window of QoS 1 publishes in flight. */
async function publishAll(url: string): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => mqtt.connectAsync(url, { clientId: `bench-pub-${i}` })),
  );
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, c) => {
      const mine = payloads.filter((_, i) => i % PUBLISHERS === c);
      let next = 0;
      const lane = async () => {
        while (next < mine.length) {
          const m = mine[next++]!;
          await client.publishAsync(m.topic, m.body, { qos: 1 });
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    }),
  );
  const elapsed = performance.now() - started;
  await Promise.all(clients.map((c) => c.endAsync()));
  return elapsed;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
}
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  if (PIN) {
    // Before any daemon starts: they inherit this process's cores, InfluxDB is then moved alone to its own.
    process.env['GOMAXPROCS'] = '1';
    pin(process.pid, OTHER_CORES);
  }
  const [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  if (PIN) pin(influx.daemon.pid!, INFLUX_CORE);
  try {
    // The exact lines the collector would write for these messages.
    const points: Point[] = [];
    const lines: string[] = [];
    for (const m of payloads) {
      const r = intake(m.topic, Buffer.from(m.body), {
        schools: null,
        config: defaults.ingest,
        now: Date.now(),
      });
      if (r.kind !== 'metrics') throw new Error(`bench payload refused: ${JSON.stringify(r)}`);
      lines.push(...r.lines.split('\n').filter(Boolean));
      points.push(...batchToPoints(r.batch, undefined, Date.now()));
    }

    // (a) InfluxDB's ceiling: pre-built batches posted directly, same size, gzip and concurrency. Measured
    // just before and just after the collector, into fresh databases, as InfluxDB slows while it compacts.
    const ceiling = async (db: string): Promise<number> => {
      await influx.query(`CREATE DATABASE ${db}`);
      const http = new InfluxHttp({
        url: influx.url,
        database: db,
        gzip: defaults.influx.gzip,
        timeoutMs: 60_000,
      });
      const bodies: Buffer[] = [];
      for (let i = 0; i < lines.length; i += BATCH_POINTS) {
        bodies.push(Buffer.from(`${lines.slice(i, i + BATCH_POINTS).join('\n')}\n`));
      }
      // Compressing is part of posting with gzip: it is inside the timing, as in the collector.
      const started = performance.now();
      let next = 0;
      const writer = async () => {
        while (next < bodies.length) {
          const r = await http.write(await http.encode(bodies[next++]!));
          if (!r.ok) throw new Error(`ceiling write failed: ${r.message}`);
        }
      };
      await Promise.all(Array.from({ length: defaults.influx.concurrency }, writer));
      const rate = TOTAL_POINTS / ((performance.now() - started) / 1000);
      await http.close();
      return rate;
    };

    // (b) MQTT's ceiling: a bare subscriber under the same publisher.
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'bench-bare', clean: true });
    let received = 0;
    let lastAt = 0;
    sub.on('message', () => {
      received++;
      lastAt = performance.now();
    });
    await sub.subscribeAsync('vigie/v1/+/+/metrics', { qos: 1 });
    let started = performance.now();
    await publishAll(broker.url);
    await waitFor('bare subscriber got everything', async () => received === MESSAGES, 300_000, 50);
    const mqttCeiling = (MESSAGES * POINTS_PER_MESSAGE) / ((lastAt - started) / 1000);
    await sub.endAsync();

    // The collector, as deployed: its own process, Mosquitto in, InfluxDB out.
    const proc = collectorProcess({
      mqttUrl: broker.url,
      influxUrl: influx.url,
      database: 'collector',
      clientId: 'bench-collector',
      extra: {
        influx: { flushMs: defaults.influx.flushMs, gzip: GZIP },
        wal: { fsyncMs: defaults.wal.fsyncMs },
      },
    });
    await proc.daemon.start();
    const pid = proc.daemon.pid!;
    const stored = async () =>
      Number((await influx.rows('SELECT count(seq) FROM "batch"', 'collector'))[0]?.['count'] ?? 0);
    let peakRss = rssMb(pid);
    const rssTimer = setInterval(() => {
      peakRss = Math.max(peakRss, rssMb(pid));
    }, 200);
    const influxBefore = await ceiling('ceiling_before');
    const cpu0 = cpuTicks(pid);
    const peers0 = [cpuTicks(broker.daemon.pid!), cpuTicks(influx.daemon.pid!)];
    const cores0 = coreTimes();
    started = performance.now();
    const publishMs = await publishAll(broker.url);
    await waitFor('collector stored everything', async () => (await stored()) === MESSAGES, 600_000, 100);
    const elapsed = (performance.now() - started) / 1000;
    const cpuS = (cpuTicks(pid) - cpu0) / 100;
    const [mosquittoS, influxS] = [broker.daemon.pid!, influx.daemon.pid!].map(
      (p, i) => (cpuTicks(p) - peers0[i]!) / 100,
    ) as [number, number];
    const coresBusy = coreTimes().map(
      (c, i) => `cpu${i} ${((100 * (c.busy - cores0[i]!.busy)) / (c.total - cores0[i]!.total)).toFixed(0)} %`,
    );
    clearInterval(rssTimer);
    await proc.daemon.dispose();
    const collectorRate = TOTAL_POINTS / elapsed;
    const influxAfter = await ceiling('ceiling_after');
    const influxCeiling = (influxBefore + influxAfter) / 2;

    // Writers compared on the same points: the `influx` package against ours (serialise + post).
    await influx.query('CREATE DATABASE pkg');
    await influx.query('CREATE DATABASE own');
    const pkg = new InfluxDB({ host: '127.0.0.1', port: influx.port, database: 'pkg' });
    const asIPoint = (p: Point): IPoint => ({
      measurement: p.measurement,
      tags: p.tags,
      fields: Object.fromEntries(
        Object.entries(p.fields).map(([k, v]) => [k, typeof v === 'object' ? v.int : v]),
      ),
      timestamp: new Date(p.time),
    });
    started = performance.now();
    for (let i = 0; i < points.length; i += BATCH_POINTS) {
      await pkg.writePoints(points.slice(i, i + BATCH_POINTS).map(asIPoint), { precision: 'ms' });
    }
    const pkgRate = TOTAL_POINTS / ((performance.now() - started) / 1000);
    const own = new InfluxHttp({
      url: influx.url,
      database: 'own',
      gzip: defaults.influx.gzip,
      timeoutMs: 60_000,
    });
    started = performance.now();
    for (let i = 0; i < points.length; i += BATCH_POINTS) {
      const r = await own.write(await own.encode(Buffer.from(toLines(points.slice(i, i + BATCH_POINTS)))));
      if (!r.ok) throw new Error(r.message);
    }
    const ownRate = TOTAL_POINTS / ((performance.now() - started) / 1000);
    await own.close();

    const lower = Math.min(influxCeiling, mqttCeiling);
    const report = [
      PIN
        ? `pinned: InfluxDB on core ${INFLUX_CORE} (GOMAXPROCS=1); publishers, ceiling poster, Mosquitto and collector on core ${OTHER_CORES} (VIGIE_BENCH_PIN=0: unpinned)`
        : `unpinned: every process on all ${CORES} cores`,
      `messages ${fmt(MESSAGES)} × ${POINTS_PER_MESSAGE} points = ${fmt(TOTAL_POINTS)} points, batch ${BATCH_POINTS} points, gzip ${defaults.influx.gzip}, ${PUBLISHERS} publishers`,
      `(a) InfluxDB ceiling, pre-built lines posted directly : ${fmt(influxCeiling)} points/s (before ${fmt(influxBefore)}, after ${fmt(influxAfter)})`,
      `(b) bare mqtt.js subscriber, same publisher          : ${fmt(mqttCeiling)} points/s (${fmt(mqttCeiling / POINTS_PER_MESSAGE)} msg/s)`,
      `collector end to end (Mosquitto → InfluxDB)          : ${fmt(collectorRate)} points/s (${fmt(MESSAGES / elapsed)} msg/s; publisher done in ${(publishMs / 1000).toFixed(1)} s, stored in ${elapsed.toFixed(1)} s)`,
      `collector / lower ceiling                            : ${((100 * collectorRate) / lower).toFixed(1)} % (goal ≥ 85 %)`,
      `collector CPU ${cpuS.toFixed(1)} s over ${elapsed.toFixed(1)} s (${((100 * cpuS) / elapsed).toFixed(0)} % of a core), peak RSS ${peakRss.toFixed(0)} MB; meanwhile Mosquitto ${mosquittoS.toFixed(1)} s, InfluxDB ${influxS.toFixed(1)} s CPU; cores busy ${coresBusy.join(', ')}`,
      `writers, same points: influx package writePoints ${fmt(pkgRate)} points/s, own line protocol + undici ${fmt(ownRate)} points/s`,
    ];
    process.stdout.write(`${report.join('\n')}\n`);
  } finally {
    await Promise.all([broker.daemon.dispose(), influx.daemon.dispose()]);
  }
}

await main();
