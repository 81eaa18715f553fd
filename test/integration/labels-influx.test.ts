// What is accepted is stored (issue 14 §4): every string InfluxDB 1.x can hold is written and read back
// exactly through collector/line-protocol.ts; the few it cannot hold are normalised by shared/labels.ts,
// never refused. Then the whole path: awkward registry names and an agent's `serveur ENT\` target on a
// real Mosquitto and InfluxDB — every school gets its `school` point, every batch is stored.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagValueProblem, toLines } from '../../collector/line-protocol.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { normaliseLabel } from '../../shared/labels.ts';
import { createLogger } from '../../shared/log.ts';
import type { School } from '../../shared/registry.ts';
import type { Sample } from '../../shared/schemas.ts';
import { metricsTopic } from '../../shared/topics.ts';
import type { Uai } from '../../shared/uai.ts';
import { collectorSection, everySample, makeBatch } from '../harness/collector.ts';
import { waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

/** Tag values and strings people, configs and devices have sent. */
const AWKWARD = [
  'trailing\\',
  'two trailing\\\\',
  'newline\nname',
  'crlf\r\nname',
  'tab\tcommune',
  'Orange\\',
  'serveur ENT\\',
  'a\\,b',
  'a\\ b',
  'a\\=b',
  'a\\\\b',
  'a\\"b',
  'say "hi"',
  'a=b,c d',
  ' edge spaces ',
  'cr\ronly',
  'bell\u0007',
  'École (NFC)',
  'E\u0301cole (NFD)',
  '🎒 école',
  'line\u2028separator',
  '\\',
  '\\leading backslash',
];

let influx: InfluxHandle;
let broker: MosquittoHandle;
let collector: CollectorHandle;
let pub: MqttClient;

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
});

afterAll(async () => {
  await pub?.endAsync();
  await collector?.stop();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

describe('line protocol against the real influxd', () => {
  it('reads back every tag value and string field as written, normalising only what InfluxDB cannot hold', async () => {
    await influx.query('CREATE DATABASE lp');
    const points = AWKWARD.map((value, i) => ({
      measurement: 'awkward',
      tags: { i: String(i), v: value },
      fields: { s: value },
      time: 1_700_000_000_000 + i,
    }));
    // One request: a single badly escaped line would refuse all of them.
    await influx.write(toLines(points), 'lp', 'ms');
    const rows = await influx.rows('SELECT * FROM awkward', 'lp');
    expect(rows).toHaveLength(AWKWARD.length);
    for (const row of rows) {
      const value = AWKWARD[Number(row['i'])]!;
      const tag = tagValueProblem(value) === null ? value : normaliseLabel(value);
      expect(row['v'], JSON.stringify(value)).toBe(tag);
      expect(row['s'], JSON.stringify(value)).toBe(value.replace(/\r\n|[\r\n]/g, ' '));
    }
    // Exactly stored, not approximately: these keep their backslashes, quotes, tab and CR.
    for (const exact of [
      'a\\,b',
      'a\\ b',
      'a\\=b',
      'a\\\\b',
      'a\\"b',
      'tab\tcommune',
      'cr\ronly',
      '\\leading backslash',
    ])
      expect(rows.map((r) => r['v'])).toContain(exact);
  });
});

describe('awkward names through the collector', () => {
  const DB = 'labels';
  const school = (uai: string, name: string, commune: string, isp: string): School =>
    ({
      uai: uai as Uai,
      name,
      commune,
      isp,
      lat: 45.5,
      lon: 4.8,
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'school',
    }) as School;
  // Valid UAIs (check letters); the last one is the only school with plain names.
  const schools = [
    school('0381234K', 'trailing\\', 'Vienne', 'Orange'),
    school('0380001V', 'newline\nname', 'Saint\tJean', 'Free'),
    school('0691234S', 'École', 'Lyon', 'SFR\\'),
    school('0750001U', 'Plain', 'Paris', 'Bouygues'),
  ];

  it('writes every school point and stores every batch, `serveur ENT\\` target included', async () => {
    // The map as a registry that let them through (the old loader did) would hand it over.
    collector = await startCollector(
      collectorSection({
        mqttUrl: broker.url,
        influxUrl: influx.url,
        database: DB,
        clientId: 'labels-collector',
      }),
      {
        schools: new Map(schools.map((s) => [s.uai, s])),
        logger: createLogger('labels-collector', process.env['VIGIE_LOG_LEVEL'] ?? 'silent'),
      },
    );
    await waitFor('collector connected', async () => collector.counters().brokerConnected);
    await waitFor(
      'every school point',
      async () => (await influx.rows('SELECT * FROM school', DB)).length === schools.length,
      30_000,
    );
    const rows = await influx.rows('SELECT * FROM school', DB);
    expect(rows.map((r) => r['uai']).sort()).toEqual(schools.map((s) => s.uai).sort());
    const byUai = new Map(rows.map((r) => [r['uai'], r]));
    expect(byUai.get('0381234K')?.['name']).toBe('trailing\\');
    expect(byUai.get('0380001V')?.['commune']).toBe('Saint\tJean');
    expect(byUai.get('0691234S')?.['isp']).toBe('SFR');

    pub = await mqtt.connectAsync(broker.url, { clientId: 'labels-pub' });
    const t = Date.now() - 60_000;
    for (const [i, s] of schools.entries()) {
      const samples: Sample[] = [{ ...everySample(t, 'serveur ENT\\')[0]! } as Sample];
      await pub.publishAsync(
        metricsTopic(s.uai, 'box-1'),
        JSON.stringify(makeBatch(s.uai, 'box-1', i + 1, t, samples)),
        { qos: 1 },
      );
    }
    await waitFor(
      'every batch stored',
      async () => (await influx.rows('SELECT * FROM batch', DB)).length === schools.length,
      30_000,
    );
    const pings = await influx.rows('SELECT * FROM ping', DB);
    expect(pings).toHaveLength(schools.length);
    for (const p of pings) expect(p['target']).toBe('serveur ENT');
    expect(collector.counters().rejected['unwritable'] ?? 0).toBe(0);
  });
});
