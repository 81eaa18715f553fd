// A school behind its router, cut off from the internet in network namespaces, watched by the real
// agent and the real `vigie collector`: the WAN link (a veth) goes down → silence → alert; up → recovery, the
// spool replayed, the outage classified as a WAN cut. Then the same link flapping every 20 s for
// 5 minutes under a 2-minute grace: no alert at all.
//
//   [school ns] 198.18.A.2 ── 198.18.A.1 [router ns] 198.18.B.2 ══WAN══ 198.18.B.1 [host: Mosquitto]
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { type Daemon, freePort, sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, tcpAnswers } from '../harness/mosquitto.ts';
import { createSchoolBehindRouter, type SchoolBehindRouter } from '../harness/netns.ts';
import { schoolAgent, startWanBroker } from '../harness/school-agent.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

const SCHOOL = `0693001${uaiCheckLetter('0693001')}`;
const TAG = `va${randomBytes(2).toString('hex')}`;
let net: SchoolBehindRouter;
let broker: MosquittoHandle;
let influx: InfluxHandle;
let hook: WebhookReceiver;
let agent: Daemon;
let collector: CollectorProcess | undefined;
let brokerPort: number;

function startAgent(): Daemon {
  return schoolAgent(net, {
    uai: SCHOOL,
    brokerPort,
    mqtt: {
      // Longer than a cut: the TCP session survives it (the collector sees silence, not a will) and
      // the batches spooled meanwhile are replayed when the link is back. A keepalive shorter
      // than the cut is covered by agent-frozen-link.test.ts.
      keepaliveS: 60,
      connectTimeoutS: 3,
      reconnectMinS: 0.5,
      reconnectMaxS: 2,
    },
    dirPrefix: 'agent-netns',
  }).daemon;
}

async function startCollectorWith(database: string, graceSeconds: number): Promise<CollectorProcess> {
  await collector?.daemon.dispose();
  const dir = tempDir('schools');
  const schools = join(dir, 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${SCHOOL},École du Parc,Caluire,45.79,4.85,Orange,100,20,always\n`,
  );
  collector = collectorProcess({
    mqttUrl: `mqtt://127.0.0.1:${brokerPort}`,
    influxUrl: influx.url,
    database,
    clientId: `alerts-${database}`,
    schools,
    extra: {
      http: { enabled: false },
      presence: { intervalSeconds: 5, silentAfterIntervals: 3, tickMs: 200, classifyWithinSeconds: 30 },
      alerts: {
        graceSeconds,
        language: 'en',
        hours: {
          always: Object.fromEntries(
            ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
          ),
        },
        channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 2 }] },
      },
    },
  });
  await collector.daemon.start();
  return collector;
}

const schoolStates = async (db: string) =>
  (
    await influx.rows(`SELECT state, reason FROM presence WHERE uai = '${SCHOOL}' AND scope = 'school'`, db)
  ).map((r) => r['state']);

beforeAll(async () => {
  net = await createSchoolBehindRouter(TAG);
  brokerPort = await freePort();
  [broker, influx, hook] = await Promise.all([
    startWanBroker(net, brokerPort),
    startInfluxdb(),
    startWebhookReceiver(),
  ]);
  expect(await tcpAnswers(brokerPort, net.wanHost)).toBe(true);
  agent = startAgent();
  await agent.start();
}, 120_000);

afterAll(async () => {
  await agent?.dispose();
  await collector?.daemon.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose(), hook?.close()]);
  await net?.destroy();
});

describe('a school cut off from the internet', () => {
  it('alerts when its WAN link goes down, recovers when it comes back, replays the spool and calls it a WAN cut', async () => {
    hook.received.length = 0;
    collector = await startCollectorWith('netns_cut', 5);
    await waitFor(
      'the school online',
      async () => (await schoolStates('netns_cut')).includes('online'),
      60_000,
      200,
    );
    await waitFor(
      'a few measured rounds',
      async () =>
        (
          await influx.rows(
            `SELECT received FROM ping WHERE uai = '${SCHOOL}' AND role = 'anchor'`,
            'netns_cut',
          )
        ).length >= 2,
      60_000,
      200,
    );
    const cutAt = Date.now();
    await net.setWan('down');
    await waitFor('the offline alert', async () => hook.received.length > 0, 60_000, 100);
    const firing = hook.received[0]!.body as { type: string; kind: string; uai: string; text: string };
    expect([firing.type, firing.kind, firing.uai]).toEqual(['firing', 'school_offline', SCHOOL]);
    expect(firing.text).toContain('École du Parc (Caluire, UAI');
    // The box keeps measuring behind its router: a few rounds spooled during the cut.
    await sleep(Math.max(0, cutAt + 30_000 - Date.now()));
    await net.setWan('up');
    await waitFor('the resolution', async () => hook.received.length > 1, 60_000, 100).catch((err: Error) => {
      throw new Error(
        `${err.message}\n--- agent ---\n${agent.logTail(40)}\n--- collector ---\n${collector?.daemon.logTail(20)}`,
      );
    });
    const resolved = hook.received[1]!.body as { type: string; durationSeconds: number };
    expect(resolved.type).toBe('resolved');
    expect(resolved.durationSeconds).toBeGreaterThanOrEqual(25);
    expect(resolved.durationSeconds).toBeLessThan(60);

    await waitFor(
      'the outage classified',
      async () => (await influx.rows('SELECT duration_s, cause FROM outage', 'netns_cut')).length > 0,
      90_000,
      500,
    );
    const [outage] = await influx.rows('SELECT cause, duration_s FROM outage', 'netns_cut');
    expect(outage!['cause']).toBe('wan_cut');
    // The replayed rounds are stored: the gateway answered during the cut, the anchor did not.
    const during = await influx.rows(
      `SELECT received, role FROM ping WHERE uai = '${SCHOOL}' AND time > ${(cutAt + 6000) * 1e6} AND time < ${(cutAt + 25_000) * 1e6}`,
      'netns_cut',
    );
    expect(
      during.filter((r) => r['role'] === 'gateway' && (r['received'] as number) > 0).length,
    ).toBeGreaterThan(0);
    expect(during.filter((r) => r['role'] === 'anchor' && (r['received'] as number) > 0)).toEqual([]);
    const sent = hook.received.map((r) => (r.body as { type: string }).type);
    expect(sent, JSON.stringify(hook.received.map((r) => [r.body, r.at - cutAt]))).toEqual([
      'firing',
      'resolved',
    ]);
  }, 240_000);

  it('fires nothing while the link flaps every 20 s for 5 minutes under a 2-minute grace', async () => {
    hook.received.length = 0;
    collector = await startCollectorWith('netns_flap', 120);
    await waitFor(
      'the school online',
      async () => (await schoolStates('netns_flap')).includes('online'),
      60_000,
      200,
    );
    const start = Date.now();
    for (let i = 0; i < 15; i++) {
      await sleep(Math.max(0, start + i * 20_000 - Date.now()));
      await net.setWan(i % 2 === 0 ? 'down' : 'up');
    }
    await sleep(Math.max(0, start + 300_000 - Date.now()));
    await net.setWan('up');
    await waitFor(
      'the school back online',
      async () => (await schoolStates('netns_flap')).at(-1) === 'online',
      60_000,
      200,
    );
    // Presence saw the flaps (the test could fail), the policy paged nobody.
    const offline = (await schoolStates('netns_flap')).filter((s) => s === 'offline').length;
    expect(offline).toBeGreaterThanOrEqual(5);
    expect(hook.received).toEqual([]);
  }, 480_000);
});
