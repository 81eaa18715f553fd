// One identity on two boxes (issue 14 §3): two real `vigie agent` processes with the same UAI and agent id
// (a cloned SD card) on a real Mosquitto, the real `vigie collector` process writing to a real InfluxDB,
// alerts to a real webhook receiver. Before the fix the broker swapped them every second, the collector
// recorded a flapping school and second-long `power_or_box` outages, and the agents said only
// "connection lost". Now: one duplicate_identity alert, no outage, no flapping, both agents say it and
// back off.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type AgentCli, agentCli } from '../harness/agent-cli.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

/** How long the two boxes share the identity: the input lasted 75 s. */
const WINDOW_MS = 75_000;
/** Setup (~20 s) + the window + checks, idle ~100 s: twice that on a loaded 2-core machine. */
const BUDGET_MS = 240_000;
const DB = 'duplicate_identity';
const UAI = (() => {
  const d = '0714001';
  return d + uaiCheckLetter(d);
})();
const TAKEOVER_LOG = 'another box connects with this same identity';

let broker: MosquittoHandle;
let influx: InfluxHandle;
let hook: WebhookReceiver;
let collector: CollectorProcess;
const children: ChildProcess[] = [];

const ALWAYS = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
);

function registry(): string {
  const file = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    file,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${UAI},École du Clone,Lyon,45.7,4.8,Orange,100,20,always\n`,
  );
  return file;
}

/** A box with the shared identity: its own spool and log, the same UAI and agent id as its twin. */
function box(name: string): AgentCli {
  return agentCli(tempDir(`dup-${name}`), {
    uai: UAI,
    id: 'box',
    mqtt: {
      url: broker.url,
      reconnectMinS: 0.5,
      reconnectMaxS: 2,
      // Minutes by default; seconds here so that both boxes are thrown off and come back in the window.
      takeoverBackoffMinS: 10,
      takeoverBackoffMaxS: 20,
    },
  });
}

type Hooked = { type: string; kind: string; uai: string | null; subject: string | null; text: string };
const messages = () => hook.received.map((r) => r.body as Hooked);
const connects = (a: AgentCli) => a.log().split('connected to the broker').length - 1;

beforeAll(async () => {
  [broker, influx, hook] = await Promise.all([startMosquitto(), startInfluxdb(), startWebhookReceiver()]);
  collector = collectorProcess({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database: DB,
    clientId: 'duplicate-identity-collector',
    schools: registry(),
    extra: {
      presence: { intervalSeconds: 1, silentAfterIntervals: 5, tickMs: 100, classifyWithinSeconds: 5 },
      alerts: {
        language: 'en',
        graceSeconds: 3,
        hours: { always: ALWAYS },
        channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 2 }] },
      },
    },
  });
  await collector.daemon.start();
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all([
    collector?.daemon.dispose(),
    broker?.daemon.dispose(),
    influx?.daemon.dispose(),
    hook?.close(),
  ]);
});

async function presenceRows(): Promise<Record<string, unknown>[]> {
  return influx.rows(`SELECT * FROM presence WHERE uai = '${UAI}'`, DB).catch(() => []);
}

describe('one identity on two boxes', () => {
  it(
    'is told once as duplicate_identity, records no outage and no flapping, and both boxes say it and back off',
    async () => {
      const first = box('first');
      const second = box('second');
      children.push(first.start());
      await waitFor(
        'the school online in InfluxDB',
        async () => (await presenceRows()).some((r) => r['scope'] === 'school' && r['state'] === 'online'),
        60_000,
      );
      const before = (await presenceRows()).length;

      // The clone is switched on and both run side by side for the window.
      const clonedAt = Date.now();
      children.push(second.start());
      await sleep(WINDOW_MS);
      const connectsFirst = connects(first);
      const connectsSecond = connects(second);
      const seconds = (Date.now() - clonedAt) / 1000;

      // One alert naming the school and the agent, nothing about an outage.
      const sent = messages().filter((m) => m.uai === UAI);
      expect(sent.map((m) => [m.type, m.kind])).toEqual([['firing', 'duplicate_identity']]);
      expect(sent[0]!.subject).toBe('box');
      expect(sent[0]!.text).toContain(`UAI ${UAI}, agent box`);

      // No outage, and (close to) no presence transition while the boxes swapped.
      expect(await influx.rows('SELECT * FROM outage', DB).catch(() => [])).toEqual([]);
      const flaps = (await presenceRows()).slice(before);
      expect(flaps.length).toBeLessThanOrEqual(2);

      // Both boxes said it, and neither reconnected more than a handful of times (before: about once a second each).
      expect(first.log()).toContain(TAKEOVER_LOG);
      expect(second.log()).toContain(TAKEOVER_LOG);
      console.log(
        `duplicate identity over ${seconds.toFixed(0)} s: connects ${connectsFirst} + ${connectsSecond}, ` +
          `presence points after the clone ${flaps.length}, alerts ${sent.length}`,
      );
      expect(connectsFirst + connectsSecond).toBeLessThanOrEqual(16);
    },
    BUDGET_MS,
  );
});
