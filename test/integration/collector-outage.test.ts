// InfluxDB stopped for 60 s under steady load, two collectors on the same broker:
// - "roomy" (its own process, heap capped as deployed) takes a heavy stream; its write-ahead log grows
//   by more than the memory bound while its RSS stays within it; every batch is stored afterwards.
// - "tight" (a 64 KB log) takes a light stream from the one school its registry knows, refusing the
//   heavy one; the outage ends in back-pressure (acks held, the broker queues), then nothing is lost.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CollectorHandle } from '../../collector/service.ts';
import {
  type CollectorProcess,
  collectorProcess,
  publishLoad,
  startTestCollector,
  storedSeqs,
} from '../harness/collector.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const HEAVY_SCHOOL = '0381234K';
const LIGHT_SCHOOL = '0380577W';
const OUTAGE_MS = 60_000;
const WARMUP_S = 10;
const HEAVY_RATE = 300; // batches/s of 50 samples: about 2.5 MB/s of line protocol
const LIGHT_RATE = 100; // batches/s of 7 samples
const SMALL_WAL = 64 * 1024;
const HEAP_MB = 64;
/**
 * RSS allowed above steady state: the heap cap plus V8's external-memory allowance (message buffers
 * are freed in bursts of about 64 MB). The roomy log must grow by more than this during the outage.
 */
const MEMORY_BOUND = (HEAP_MB + 64) * 1024 * 1024;

let broker: MosquittoHandle;
let influx: InfluxHandle;
let roomy: CollectorProcess;
let tight: CollectorHandle;

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

const walBytes = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  roomy = collectorProcess(
    { mqttUrl: broker.url, influxUrl: influx.url, database: 'roomy', clientId: 'c-roomy' },
    { NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` },
  );
  await roomy.daemon.start();
  const schools = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps\n${LIGHT_SCHOOL},École du Bourg,Estrablin,45.51,4.95,Orange,20,2\n`,
  );
  tight = await startTestCollector({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database: 'tight',
    clientId: 'c-tight',
    schools,
    extra: { wal: { maxBytes: SMALL_WAL }, ingest: { rejectUnknownSchools: true } },
  });
  await waitFor('tight collector connected', async () => tight.counters().brokerConnected);
});

afterAll(async () => {
  await tight?.stop();
  await roomy?.daemon.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

describe('InfluxDB outage under steady load', () => {
  it('loses nothing after 60 s: memory bounded with a roomy log, back-pressure with a tiny one', async () => {
    const seconds = WARMUP_S + OUTAGE_MS / 1000 + 5;
    const heavyCount = HEAVY_RATE * seconds;
    const lightCount = LIGHT_RATE * seconds;
    const heavy = await publishLoad({
      url: broker.url,
      uai: HEAVY_SCHOOL,
      agent: 'box-heavy',
      perSecond: HEAVY_RATE,
      count: heavyCount,
      samplesPerBatch: 50,
    });
    const light = await publishLoad({
      url: broker.url,
      uai: LIGHT_SCHOOL,
      agent: 'box-light',
      perSecond: LIGHT_RATE,
      count: lightCount,
      samplesPerBatch: 7,
    });
    try {
      const pid = roomy.daemon.pid!;
      // Baseline at steady state: the heap settles in the first seconds of load.
      let baseline = 0;
      for (let i = 0; i < WARMUP_S; i++) {
        await sleep(1000);
        baseline = Math.max(baseline, rssBytes(pid));
      }
      expect((await storedSeqs(influx, 'roomy', 'box-heavy')).size).toBeGreaterThan(0);
      const walBefore = walBytes(join(roomy.dir, 'wal'));
      await influx.daemon.stop();
      const rss: number[] = [];
      let peakTightWal = 0;
      // At least 60 s, and on a loaded machine (publishers slower than their rate) until the roomy log
      // has grown past the memory bound, the heavy stream has all been taken, or 4 minutes.
      const started = Date.now();
      let walGrowth = 0;
      while (
        Date.now() - started < OUTAGE_MS ||
        (walGrowth <= MEMORY_BOUND && heavy.acked < heavyCount && Date.now() - started < 4 * OUTAGE_MS)
      ) {
        await sleep(1000);
        rss.push(rssBytes(pid));
        peakTightWal = Math.max(peakTightWal, tight.counters().walBytes);
        walGrowth = walBytes(join(roomy.dir, 'wal')) - walBefore;
      }
      const tightAtEnd = tight.counters();
      await influx.daemon.start();

      const trace = `log +${Math.round(walGrowth / 1e6)} MB, RSS ${Math.round(baseline / 1e6)} → ${rss.map((b) => Math.round(b / 1e6)).join(' ')} MB`;
      expect(walGrowth, trace).toBeGreaterThan(MEMORY_BOUND);
      expect(Math.max(...rss) - baseline, trace).toBeLessThan(MEMORY_BOUND);
      expect(tightAtEnd.backpressure).toBe(true);
      expect(tightAtEnd.rejected['unknown_school']).toBeGreaterThan(0);
      // At most one record past the bound: the one that found the log nearly empty.
      expect(peakTightWal).toBeLessThan(SMALL_WAL + 4096);

      await waitFor(
        'publishers done',
        async () => heavy.acked === heavyCount && light.acked === lightCount,
        240_000,
        200,
      );
      await waitFor(
        'roomy: every seq stored',
        async () => (await storedSeqs(influx, 'roomy', 'box-heavy')).size === heavyCount,
        120_000,
        1000,
      );
      await waitFor(
        'tight: every seq stored',
        async () => (await storedSeqs(influx, 'tight', 'box-light')).size === lightCount,
        120_000,
        1000,
      );
      await waitFor('tight: acking again', async () => !tight.counters().backpressure, 10_000);
    } finally {
      await Promise.all([heavy.stop(), light.stop()]);
    }
  }, 900_000);
});
