// Round trip through real Mosquitto into real InfluxDB: every sample kind with its tags, fields and
// types, exact escaping, bad input refused with its reason while the good messages around it are stored.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_MEASUREMENTS } from '../../collector/schema.ts';
import type { CollectorHandle } from '../../collector/service.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { everySample, makeBatch, startTestCollector, storedSeqs } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const DB = 'ingest';
const SCHOOL = '0381234K';
const COMMUNE = 'École Saint-Exupéry, Vienne = "Isère" 🎒';
const ISP = 'Orange Pro\\Fibre 1,2';
const UNKNOWN = '0380001V'; // valid check letter, not in the registry

let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorHandle;
let pub: MqttClient;
const statuses: string[] = [];
const rejections: string[] = [];

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  const dir = tempDir('schools');
  const schools = join(dir, 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps\n${SCHOOL},École Saint-Exupéry,"${COMMUNE.replace(/"/g, '""')}",45.52,4.87,"${ISP}",100,20\n`,
  );
  collector = await startTestCollector(
    { mqttUrl: broker.url, influxUrl: influx.url, database: DB, schools },
    [
      {
        onStatus: (m) => statuses.push(`${m.uai}/${m.agent}:${m.state}`),
        onRejected: (reason) => rejections.push(reason),
      },
    ],
  );
  await waitFor('collector connected', async () => collector.counters().brokerConnected);
  pub = await mqtt.connectAsync(broker.url, { clientId: 'ingest-pub' });
});

afterAll(async () => {
  await pub?.endAsync();
  await collector?.stop();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

const publish = (topic: string, payload: string | Buffer) => pub.publishAsync(topic, payload, { qos: 1 });

describe('collector ingest against Mosquitto and InfluxDB', () => {
  it('stores every sample kind with the right tags, fields and field types', async () => {
    const t = Date.now() - 60_000;
    await publish(
      metricsTopic(SCHOOL, 'box-1'),
      JSON.stringify(makeBatch(SCHOOL, 'box-1', 1, t, everySample(t))),
    );
    await waitFor('points written', async () => (await storedSeqs(influx, DB, 'box-1')).has(1));

    for (const sample of everySample(t)) {
      const spec = SAMPLE_MEASUREMENTS[sample.probe];
      const rows = await influx.rows(`SELECT * FROM "${spec.measurement}" WHERE agent = 'box-1'`, DB);
      expect(rows, spec.measurement).toHaveLength(1);
      const row = rows[0]!;
      expect(row['time']).toBe(t);
      expect(row['uai']).toBe(SCHOOL);
      expect(row['commune']).toBe(COMMUNE);
      expect(row['isp']).toBe(ISP);
      for (const [tag, key] of Object.entries(spec.tags)) {
        expect(row[tag], `${spec.measurement}.${tag}`).toBe((sample as Record<string, unknown>)[key]);
      }
      for (const [field, [key]] of Object.entries(spec.fields)) {
        expect(row[field], `${spec.measurement}.${field}`).toBe((sample as Record<string, unknown>)[key]);
      }
      const keys = await influx.rows(`SHOW FIELD KEYS FROM "${spec.measurement}"`, DB);
      const types = Object.fromEntries(keys.map((k) => [k['fieldKey'], k['fieldType']]));
      const expected = Object.fromEntries(Object.entries(spec.fields).map(([f, [, type]]) => [f, type]));
      expect(types, spec.measurement).toEqual(expected);
    }
    const batch = await influx.rows(`SELECT * FROM "batch" WHERE agent = 'box-1'`, DB);
    expect(batch[0]).toMatchObject({ seq: 1, samples: 7, uai: SCHOOL, commune: COMMUNE });
  });

  it('round-trips spaces, commas, =, quotes, backslashes, accents and emoji exactly', async () => {
    const t = Date.now() - 50_000;
    const targets = [
      'École Saint-Exupéry, Vienne',
      'a b,c=d "quoted" \'single\'',
      'C:\\temp\\x y',
      'emoji 🎉🏫 ñ 漢字',
      'trailing=',
    ];
    const samples = targets.map((target, i) => ({
      probe: 'http' as const,
      t: t + i,
      target,
      ok: true,
      status: 200,
      error: `say "${target}" \\ back\\slash`,
    }));
    await publish(
      metricsTopic(SCHOOL, 'box-esc'),
      JSON.stringify(makeBatch(SCHOOL, 'box-esc', 1, t, samples)),
    );
    await waitFor('escaped points', async () => (await storedSeqs(influx, DB, 'box-esc')).has(1));
    const rows = await influx.rows(
      `SELECT target, "error" FROM http WHERE agent = 'box-esc' ORDER BY time`,
      DB,
    );
    expect(rows.map((r) => r['target'])).toEqual(targets);
    expect(rows.map((r) => r['error'])).toEqual(samples.map((s) => s.error));
    const tagValues = await influx.rows(
      `SHOW TAG VALUES FROM http WITH KEY = target WHERE agent = 'box-esc'`,
      DB,
    );
    expect(tagValues.map((r) => r['value']).sort()).toEqual([...targets].sort());
  });

  it('writes the registry as `school` points at start, for the dashboards (names, places, contract)', async () => {
    let rows: Record<string, unknown>[] = [];
    await waitFor('the school point', async () => {
      rows = await influx.rows(`SELECT * FROM school WHERE uai = '${SCHOOL}'`, DB);
      return rows.length > 0;
    });
    expect(rows[0]).toMatchObject({
      uai: SCHOOL,
      commune: COMMUNE,
      isp: ISP,
      label: `${SCHOOL} École Saint-Exupéry`,
      name: 'École Saint-Exupéry',
      lat: 45.52,
      lon: 4.87,
      contracted_down_bps: 100e6,
      contracted_up_bps: 20e6,
      hours: 'school',
    });
  });

  it('refuses bad input with a reason each, stays up, and stores every good message around it', async () => {
    const t = Date.now() - 40_000;
    const good = (seq: number) =>
      JSON.stringify(makeBatch(SCHOOL, 'box-mix', seq, t + seq, everySample(t + seq).slice(0, 1)));
    const topic = metricsTopic(SCHOOL, 'box-mix');
    const other = '0381517T';
    const bad: [string, string, string | Buffer][] = [
      ['malformed_json', topic, '{"v":1,"uai":'],
      ['unknown_version', topic, JSON.stringify({ ...JSON.parse(good(0)), v: 2 })],
      ['schema', topic, JSON.stringify({ ...JSON.parse(good(0)), samples: [{ probe: 'ping', t }] })],
      ['topic_mismatch', metricsTopic(other, 'box-mix'), good(0)],
      ['oversize', topic, Buffer.alloc(300 * 1024, 0x20)],
      ['non_finite', topic, good(0).replace('"lossPct":10', '"lossPct":1e999')],
      ['malformed_json', topic, good(0).replace('"lossPct":10', '"lossPct":NaN')],
      [
        'clock_future',
        topic,
        JSON.stringify(makeBatch(SCHOOL, 'box-mix', 0, t, everySample(Date.now() + 86_400_000).slice(0, 1))),
      ],
      [
        'clock_past',
        topic,
        JSON.stringify(
          makeBatch(SCHOOL, 'box-mix', 0, t, everySample(Date.now() - 400 * 86_400_000).slice(0, 1)),
        ),
      ],
      // A target ending in a backslash was refused `unwritable` (and the batch lost): issue 14 §4 makes
      // every label storable (shared/labels.ts); labels-influx.test.ts stores and reads such names back.
      ['bad_topic', 'vigie/v1/12345678/box/metrics', good(0)],
    ];
    const before = collector.counters().rejected;
    let seq = 0;
    for (const [, badTopic, payload] of bad) {
      await publish(topic, good(seq++));
      await publish(badTopic, payload);
    }
    await publish(topic, good(seq++));
    await publish(
      statusTopic(UNKNOWN, 'box-x'),
      JSON.stringify({ v: 1, uai: UNKNOWN, agent: 'box-x', state: 'online', t }),
    );

    await waitFor(
      'every good batch stored',
      async () => (await storedSeqs(influx, DB, 'box-mix')).size === seq,
    );
    const after = collector.counters().rejected;
    const expected: Record<string, number> = {};
    for (const [reason] of bad) expected[reason] = (expected[reason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(expected)) {
      expect(after[reason] ?? 0, reason).toBe((before[reason] ?? 0) + n);
    }
    expect(new Set(rejections)).toEqual(new Set(Object.keys(expected)));
    const letters = collector.deadLetters();
    expect(letters.find((l) => l.reason === 'topic_mismatch')?.error).toMatch(
      /payload says 0381234K\/box-mix, topic says 0381517T/,
    );
    expect(letters.find((l) => l.reason === 'clock_future')?.error).toMatch(/ahead of the collector's clock/);
    await waitFor('unknown school counted, status passed on', async () =>
      statuses.includes(`${UNKNOWN}/box-x:online`),
    );
    expect(collector.counters().unknownSchools).toBeGreaterThanOrEqual(1);
  });

  it('creates the retention policies and a 5-minute rollup per measurement', async () => {
    const rps = await influx.rows(`SHOW RETENTION POLICIES ON "${DB}"`);
    expect(rps.map((r) => [r['name'], r['default']])).toEqual(
      expect.arrayContaining([
        ['raw', true],
        ['long', false],
      ]),
    );
    const cqs = (await influx.query('SHOW CONTINUOUS QUERIES')).results[0]?.series?.find(
      (s) => s.name === DB,
    );
    const names = (cqs?.values ?? []).map((v) => String(v[0]));
    for (const spec of Object.values(SAMPLE_MEASUREMENTS))
      expect(names).toContain(`vigie_${spec.measurement}`);
    expect(String(cqs?.values.find((v) => v[0] === 'vigie_ping')?.[1])).toMatch(/GROUP BY time\(5m\)/);
  });
});
