// Issue 14 §1, "samples measured just before an agent reconnects must not turn a power cut into
// `unknown`", across the processes: the real `vigie collector`, real Mosquitto and InfluxDB, and a school
// box as an MQTT client publishing what an agent publishes. The ROUTER loses power while the agent's box
// stays up (on a UPS, or powered apart): the box's connection dies (the broker publishes its will), the
// box keeps measuring — nothing answers, not even the gateway — then the router is back and the box
// measures the internet fine for a few rounds before it manages to reconnect; it then replays its spool.
// Before the fix those last rounds, anchors answering, made the outage `unknown`; it is `power_or_box`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../shared/schemas.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

/** Collector, broker and InfluxDB start in ~15 s idle; the scene lasts ~15 s: 2x+ on a loaded machine. */
const BUDGET_MS = 150_000;
const DB = 'outage_cause';
const S = 1000;
const SCHOOL = (() => {
  const d = '6901601';
  return d + uaiCheckLetter(d);
})();

let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorProcess;
let client: MqttClient | undefined;

const ping = (t: number, role: 'gateway' | 'anchor', ok: boolean): Sample =>
  ok
    ? { probe: 'ping', t, target: role, role, sent: 4, received: 4, lossPct: 0, medianMs: 12 }
    : { probe: 'ping', t, target: role, role, sent: 4, received: 0, lossPct: 100 };
/**
 * A round: the router off (nothing answers) or on (gateway and anchor answer). As the real agent stamps
 * it: each target's sample at its own ping's start, a few ms apart.
 */
const round = (t: number, routerOn: boolean) => [
  ping(t, 'gateway', routerOn),
  ping(t + 4, 'anchor', routerOn),
];

const startedAt = Date.now() - 3600 * S;
let seq = 0;

async function connect(): Promise<MqttClient> {
  const will = { v: 1, uai: SCHOOL, agent: 'box', state: 'offline', t: Date.now(), reason: 'will' };
  const c = mqtt.connect(broker.url, {
    clientId: `outage-cause-${SCHOOL}`,
    keepalive: 2,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic(SCHOOL, 'box'),
      payload: Buffer.from(JSON.stringify(will)),
      qos: 1,
      retain: true,
    },
  });
  await new Promise<void>((ok, fail) => {
    c.once('connect', () => ok());
    c.once('error', fail);
  });
  // The same process throughout: its start does not change (it did not restart).
  const birth = {
    v: 1,
    uai: SCHOOL,
    agent: 'box',
    state: 'online',
    t: Date.now(),
    startedAt,
    reason: 'birth',
  };
  await c.publishAsync(statusTopic(SCHOOL, 'box'), JSON.stringify(birth), { qos: 1, retain: true });
  return c;
}

const batch = (builtAt: number, samples: Sample[]) =>
  JSON.stringify({ v: 1, uai: SCHOOL, agent: 'box', seq: ++seq, t: builtAt, sentAt: Date.now(), samples });
const presence = async () =>
  influx
    .rows(`SELECT state FROM presence WHERE uai = '${SCHOOL}' AND scope = 'school'`, DB)
    .catch(() => [] as Record<string, unknown>[]);

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  const schools = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${SCHOOL},École ${SCHOOL},Vienne,45.5,4.8,Orange,100,20,always\n`,
  );
  collector = collectorProcess({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database: DB,
    clientId: 'outage-cause-collector',
    schools,
    extra: {
      presence: { intervalSeconds: 1, silentAfterIntervals: 30, tickMs: 100, classifyWithinSeconds: 20 },
    },
  });
  await collector.daemon.start();
}, BUDGET_MS);

afterAll(async () => {
  client?.end(true);
  await collector?.daemon.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

describe('a router power cut, the box up and measuring through it', () => {
  it(
    'is power_or_box although the router was back and answering before the box reconnected',
    async () => {
      client = await connect();
      for (let i = 0; i < 3; i++) {
        const t = Date.now();
        await client.publishAsync(metricsTopic(SCHOOL, 'box'), batch(t, round(t, true)), { qos: 1 });
        await sleep(300); // the box's pace
      }
      await waitFor('online', async () => (await presence()).some((r) => r['state'] === 'online'), 60_000);
      // The router goes off: the TCP connection dies without DISCONNECT, the broker publishes the will.
      client.stream.destroy();
      await waitFor('offline', async () => (await presence()).some((r) => r['state'] === 'offline'), 60_000);
      // Spooled meanwhile: rounds with the router off, then with it back, before the reconnect.
      const spool: [number, Sample[]][] = [];
      for (const routerOn of [false, false, false, true, true, true]) {
        await sleep(400);
        const t = Date.now();
        spool.push([t, round(t, routerOn)]);
      }
      client = await connect();
      for (const [t, samples] of spool)
        await client.publishAsync(metricsTopic(SCHOOL, 'box'), batch(t, samples), { qos: 1 });
      for (let i = 0; i < 3; i++) {
        await sleep(300);
        const t = Date.now();
        await client.publishAsync(metricsTopic(SCHOOL, 'box'), batch(t, round(t, true)), { qos: 1 });
      }
      await waitFor(
        'outage classified',
        async () =>
          (await influx.rows(`SELECT duration_s FROM outage WHERE uai = '${SCHOOL}'`, DB).catch(() => []))
            .length > 0,
        60_000,
      );
      const outages = await influx.query(
        `SELECT duration_s FROM outage WHERE uai = '${SCHOOL}' GROUP BY cause`,
        DB,
      );
      expect((outages.results[0]?.series ?? []).map((s) => s.tags?.['cause'])).toEqual(['power_or_box']);
    },
    BUDGET_MS,
  );
});
