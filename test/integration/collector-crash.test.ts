// kill -9 under load: the write-ahead log and the broker's persistent session between them lose no
// sequence number, for a lone collector and for one of two in a shared-subscription group.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorProcess, collectorProcess, publishLoad, storedSeqs } from '../harness/collector.ts';
import { sleep, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const SCHOOL = '0381234K';
const RATE = 200;
const COUNT = 2400; // 12 s of load

let broker: MosquittoHandle;
let influx: InfluxHandle;
const procs: CollectorProcess[] = [];

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
});

afterAll(async () => {
  for (const p of procs) await p.daemon.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

function missing(stored: Set<number>, count: number): number[] {
  const gaps: number[] = [];
  for (let seq = 0; seq < count && gaps.length < 20; seq++) if (!stored.has(seq)) gaps.push(seq);
  return gaps;
}

/** Total bytes a collector ever confirmed to InfluxDB: its log's checkpoint survives restarts. */
const confirmedBytes = (p: CollectorProcess) => {
  try {
    return Number(readFileSync(join(p.dir, 'wal', 'checkpoint'), 'utf8'));
  } catch {
    return 0;
  }
};

describe('collector killed -9 under load', () => {
  it('restarts and no sequence number is missing', async () => {
    const p = collectorProcess({
      mqttUrl: broker.url,
      influxUrl: influx.url,
      database: 'crash',
      clientId: 'c-crash',
    });
    procs.push(p);
    await p.daemon.start();
    const load = await publishLoad({
      url: broker.url,
      uai: SCHOOL,
      agent: 'box-crash',
      perSecond: RATE,
      count: COUNT,
      samplesPerBatch: 7,
    });
    try {
      await waitFor('some stored', async () => (await storedSeqs(influx, 'crash', 'box-crash')).size > RATE);
      await p.daemon.kill9();
      await sleep(1000);
      await p.daemon.start();
      await waitFor('publisher done', async () => load.acked === COUNT, 60_000, 200);
      let stored = new Set<number>();
      await waitFor(
        'every seq stored',
        async () => {
          stored = await storedSeqs(influx, 'crash', 'box-crash');
          return stored.size === COUNT;
        },
        60_000,
        500,
      ).catch(() => undefined);
      expect(missing(stored, COUNT)).toEqual([]);
    } finally {
      await load.stop();
    }
  }, 180_000);

  it('two collectors in one shared-subscription group split the load; one killed -9 and restarted loses nothing', async () => {
    const members = ['c-share-1', 'c-share-2'].map((clientId) =>
      collectorProcess({
        mqttUrl: broker.url,
        influxUrl: influx.url,
        database: 'shared',
        clientId,
        group: 'vigie',
      }),
    );
    procs.push(...members);
    await Promise.all(members.map((m) => m.daemon.start()));
    const load = await publishLoad({
      url: broker.url,
      uai: SCHOOL,
      agent: 'box-shared',
      perSecond: RATE,
      count: COUNT,
      samplesPerBatch: 7,
    });
    try {
      await waitFor(
        'some stored',
        async () => (await storedSeqs(influx, 'shared', 'box-shared')).size > RATE,
      );
      await members[0]!.daemon.kill9();
      await sleep(1000);
      await members[0]!.daemon.start();
      await waitFor('publisher done', async () => load.acked === COUNT, 60_000, 200);
      let stored = new Set<number>();
      await waitFor(
        'every seq stored',
        async () => {
          stored = await storedSeqs(influx, 'shared', 'box-shared');
          return stored.size === COUNT;
        },
        60_000,
        500,
      ).catch(() => undefined);
      expect(missing(stored, COUNT)).toEqual([]);
      // Each member carried a real share of the stream.
      const [a, b] = members.map(confirmedBytes) as [number, number];
      expect(Math.min(a, b) / (a + b), `confirmed bytes ${a} and ${b}`).toBeGreaterThan(0.2);
    } finally {
      await load.stop();
    }
  }, 180_000);
});
