// Series bounds through the stack's real Mosquitto (its mosquitto.conf, TLS, and the ACL `vigie enroll`
// writes, which lets a school publish under any agent id of its own UAI), the real collector and the
// real InfluxDB: a runaway school stays within its bounds, is counted, and another school is untouched.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVigieConfig } from '../../cli/config-file.ts';
import type { CollectorHandle } from '../../collector/service.ts';
import { enroll } from '../../deploy/enroll.ts';
import type { Sample } from '../../shared/schemas.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { everySample, makeBatch, startTestCollector, storedSeqs } from '../harness/collector.ts';
import { freePort, tempDir, waitFor } from '../harness/daemon.ts';
import type { InfluxHandle } from '../harness/influxdb.ts';
import type { MosquittoHandle } from '../harness/mosquitto.ts';
import { envFile, makePki, startStackPeers } from './deploy-pki.ts';

const DB = 'cardinality';
const RUNAWAY_TARGETS = '0690001B'; // 5 batches of 2,000 new ping targets each
const RUNAWAY_AGENTS = '0381234K'; // 200 invented agent ids
const NORMAL = '0380042P'; // publishes as usual meanwhile
const SCHOOLS_YAML = `schools:
${[RUNAWAY_TARGETS, RUNAWAY_AGENTS, NORMAL]
  .map(
    (uai) =>
      `  - { uai: "${uai}", name: "École ${uai}", commune: Vienne, lat: 45.52, lon: 4.87, isp: Orange, contractedDownMbps: 100, contractedUpMbps: 20 }`,
  )
  .join('\n')}
`;

let dir: string;
let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorHandle;
const agents: MqttClient[] = [];
/** uai → agent ids presence and alerts heard of (observer calls). */
const heard = new Map<string, Set<string>>();
const hear = (uai: string, agent: string) => heard.set(uai, (heard.get(uai) ?? new Set()).add(agent));

/** A school's box, connected with its enrolled credential as its generated config gives it. */
async function schoolClient(uai: string): Promise<MqttClient> {
  const { config } = loadVigieConfig(join(dir, 'enroll/agents', `${uai}.yaml`), {});
  const m = config.agent!.mqtt!;
  const client = await mqtt.connectAsync(m.url, {
    username: m.username,
    password: m.password,
    ca: readFileSync(m.ca!),
    rejectUnauthorized: true,
    reconnectPeriod: 0,
  });
  agents.push(client);
  return client;
}

beforeAll(async () => {
  dir = tempDir('cardinality');
  chmodSync(dir, 0o755); // the broker drops to its own user before it reads the password file
  makePki(join(dir, 'pki'), 'localhost', '127.0.0.1');
  const [tlsPort, healthPort] = [await freePort(), await freePort()];
  const tlsUrl = `mqtts://localhost:${tlsPort}`;
  const schools = join(dir, 'schools.yaml');
  writeFileSync(schools, SCHOOLS_YAML);
  enroll({ schools, out: join(dir, 'enroll'), broker: tlsUrl, ca: join(dir, 'pki/ca.crt') });
  const env = envFile(join(dir, 'enroll/collector.env'));
  const user = Object.entries(env).find(([k]) => k.endsWith('USERNAME'))![1];
  const password = Object.entries(env).find(([k]) => k.endsWith('PASSWORD'))![1];
  [broker, influx] = await startStackPeers(dir, tlsPort, healthPort);
  collector = await startTestCollector(
    {
      mqttUrl: tlsUrl,
      influxUrl: influx.url,
      database: DB,
      schools,
      extra: { mqtt: { username: user, password, ca: join(dir, 'pki/ca.crt') } },
    },
    [
      {
        onMetrics: (b) => hear(b.uai, b.agent),
        onStatus: (m) => hear(m.uai, m.agent),
        onEvent: (m) => hear(m.uai, m.agent),
      },
    ],
  );
  await waitFor('collector connected', async () => collector.counters().brokerConnected);
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((c) => c.endAsync(true).catch(() => undefined)));
  await collector?.stop();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Series InfluxDB holds for a school, by measurement. */
async function seriesOf(uai: string): Promise<Record<string, number>> {
  const rows = await influx.rows(`SHOW SERIES WHERE uai = '${uai}'`, DB);
  const out: Record<string, number> = {};
  for (const r of rows) {
    const measurement = String(r['key']).split(',')[0]!;
    out[measurement] = (out[measurement] ?? 0) + 1;
  }
  return out;
}

/** The normal school's box: one batch of every probe kind per call, seq counting up. */
async function normalSchool(): Promise<(seq: number) => Promise<void>> {
  const box = await schoolClient(NORMAL);
  return async (seq) => {
    const t = Date.now() - 60_000 + seq;
    await box.publishAsync(
      metricsTopic(NORMAL, 'box'),
      JSON.stringify(makeBatch(NORMAL, 'box', seq, t, everySample(t))),
      { qos: 1 },
    );
  };
}

async function expectNormalSchoolStored(seqs: number[]): Promise<void> {
  await waitFor(
    'the normal school stored',
    async () => (await storedSeqs(influx, DB, 'box')).size >= seqs.length,
  );
  expect([...(await storedSeqs(influx, DB, 'box'))].sort((a, b) => a - b)).toEqual(seqs);
  const series = await seriesOf(NORMAL);
  expect(series).toEqual({
    agent: 1,
    batch: 1,
    dns: 1,
    http: 1,
    ping: 1,
    school: 1,
    speedtest: 1,
    wan: 1,
    wifi: 1,
  });
}

describe('series bounds through Mosquitto, the collector and InfluxDB', () => {
  it('keeps 5 batches × 2,000 new ping targets to 160 series, counts the rest, stores the other school', async () => {
    const box = await schoolClient(RUNAWAY_TARGETS);
    const normal = await normalSchool();
    const t = Date.now() - 120_000;
    for (let m = 0; m < 5; m++) {
      const samples: Sample[] = Array.from({ length: 2000 }, (_, i) => ({
        probe: 'ping',
        t: t + m,
        target: `t-${m * 2000 + i}`,
        sent: 10,
        received: 10,
        lossPct: 0,
      }));
      await box.publishAsync(
        metricsTopic(RUNAWAY_TARGETS, 'runaway'),
        JSON.stringify(makeBatch(RUNAWAY_TARGETS, 'runaway', m, t + m, samples)),
        { qos: 1 },
      );
      await normal(m);
    }
    // Every batch of the runaway agent is kept (its batch point, with its seq), its new series are not.
    await waitFor(
      'the runaway batches stored',
      async () => (await storedSeqs(influx, DB, 'runaway')).size === 5,
    );
    await collector.drained();

    expect(await seriesOf(RUNAWAY_TARGETS)).toEqual({ batch: 1, ping: 160, school: 1 });
    const c = collector.counters();
    expect(c.rejected['too_many_series']).toBe(5);
    expect(c.cardinality.samplesDropped).toBe(5 * 2000 - 160);
    expect(collector.deadLetters().find((l) => l.reason === 'too_many_series')?.error).toMatch(
      /^school 0690001B, agent runaway: 1840 of 2000 samples dropped \(ping 1840\).*maxSeriesPerProbe.*first: ping target="t-160"$/,
    );
    await expectNormalSchoolStored([0, 1, 2, 3, 4]);
  });

  it('lets 4 of 200 invented agent ids in, refuses the rest with a count, stores the other school', async () => {
    const school = await schoolClient(RUNAWAY_AGENTS);
    const normal = await normalSchool();
    const before = collector.counters();
    const t = Date.now() - 60_000;
    const ids = Array.from({ length: 200 }, (_, i) => `invented-${String(i).padStart(3, '0')}`);
    for (const [i, agent] of ids.entries()) {
      const birth = { v: 1, uai: RUNAWAY_AGENTS, agent, state: 'online', t, reason: 'birth' };
      await school.publishAsync(statusTopic(RUNAWAY_AGENTS, agent), JSON.stringify(birth), { qos: 1 });
      const batch = makeBatch(RUNAWAY_AGENTS, agent, 0, t, everySample(t).slice(0, 1));
      await school.publishAsync(metricsTopic(RUNAWAY_AGENTS, agent), JSON.stringify(batch), { qos: 1 });
      if (i % 40 === 0) await normal(10 + i / 40);
    }
    // Each status goes before its batch on one connection: all are handled once the batches are.
    await waitFor(
      'every batch handled',
      async () => collector.counters().received.metrics - before.received.metrics === 200 + 5,
    );
    await collector.drained();

    const stored = await influx.rows(
      `SHOW TAG VALUES FROM batch WITH KEY = agent WHERE uai = '${RUNAWAY_AGENTS}'`,
      DB,
    );
    expect(stored.map((r) => r['value'])).toEqual(ids.slice(0, 4));
    expect(await seriesOf(RUNAWAY_AGENTS)).toEqual({ batch: 4, ping: 4, school: 1 });
    expect([...(heard.get(RUNAWAY_AGENTS) ?? [])]).toEqual(ids.slice(0, 4));
    // A status and a batch refused for each of the 196 agents past the bound.
    expect(
      collector.counters().rejected['too_many_agents']! - (before.rejected['too_many_agents'] ?? 0),
    ).toBe(2 * 196);
    // The collector keeps the last 100 dead letters: the last one is the last invented agent's batch.
    expect(
      collector
        .deadLetters()
        .filter((l) => l.reason === 'too_many_agents')
        .at(-1)?.error,
    ).toBe(
      `school ${RUNAWAY_AGENTS} already has 4 agents seen within 7 d (${ids.slice(0, 4).join(', ')}): agent "invented-199" refused (collector.ingest.cardinality.maxAgentsPerSchool)`,
    );
    await expectNormalSchoolStored([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
    expect([...(heard.get(NORMAL) ?? [])]).toEqual(['box']);
  });
});
