// What a technician reads in the journal of the production collector (VIGIE_LOG_FORMAT=text, as the
// systemd unit sets it): one readable line when a school goes offline, one when it comes back, one
// per alert delivered.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { statusMessage } from '../../shared/messages.ts';
import { statusTopic } from '../../shared/topics.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

const UAI = '0691234S';
const ALWAYS = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
);

let broker: MosquittoHandle;
let influx: InfluxHandle;
let hook: WebhookReceiver;
let collector: CollectorProcess;
let dir: string;

beforeAll(async () => {
  [broker, influx, hook] = await Promise.all([startMosquitto(), startInfluxdb(), startWebhookReceiver()]);
  dir = tempDir('log-lines');
  const schools = join(dir, 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${UAI},École Jean Macé,Villeurbanne,45.77,4.88,Orange,100,20,always\n`,
  );
  collector = collectorProcess(
    {
      mqttUrl: broker.url,
      influxUrl: influx.url,
      database: 'log_lines',
      schools,
      extra: {
        presence: { intervalSeconds: 1, silentAfterIntervals: 3, tickMs: 100, classifyWithinSeconds: 1 },
        alerts: {
          graceSeconds: 0,
          hours: { always: ALWAYS },
          channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 1 }] },
        },
      },
    },
    { VIGIE_LOG_FORMAT: 'text' },
  );
  await collector.daemon.start();
}, 120_000);

afterAll(async () => {
  await collector?.daemon.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose(), hook?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('logs one line per presence change of a school and one per alert sent', { timeout: 90_000 }, async () => {
  const log = () => collector.daemon.logTail(100_000);
  const client = await mqtt.connectAsync(broker.url, { clientId: 'log-lines-agent' });
  const publish = (state: 'online' | 'offline', reason: 'birth' | 'will') =>
    client.publishAsync(
      statusTopic(UAI, 'box'),
      JSON.stringify(
        statusMessage({ uai: UAI, agent: 'box' }, { state, t: Date.now(), version: '0.1.0', reason }),
      ),
      { qos: 1, retain: true },
    );
  try {
    await publish('online', 'birth');
    await waitFor('the online line', async () => log().includes(`school ${UAI} online`), 30_000);
    await publish('offline', 'will');
    await waitFor('the offline line', async () => log().includes(`school ${UAI} offline`), 30_000);
    await waitFor('the alert delivered', async () => log().includes('alert sent'), 30_000);
    await publish('online', 'birth');
    await waitFor(
      'the back-online line',
      async () => log().split(`school ${UAI} online`).length - 1 === 2,
      30_000,
    );
  } finally {
    await client.endAsync();
  }
  const lines = log().split('\n');
  const changes = lines.filter((l) => l.includes(`school ${UAI} `));
  expect(changes.map((l) => / (online|offline)( |$)/.exec(l)?.[1])).toEqual(['online', 'offline', 'online']);
  for (const l of changes)
    expect(l).toMatch(
      /^\[\S+Z\] INFO \(\S+\): school \S+ (online|offline) \{"uai":"[^"]+","from":"[^"]+","to":"[^"]+","reason":"[^"]+"\}$/,
    );
  const sent = lines.filter((l) => l.includes('alert sent'));
  expect(sent.length).toBeGreaterThanOrEqual(1);
  expect(sent[0]).toMatch(/INFO .*alert sent \{"channel":"[^"]+","alert":"[^"]+"/);
  expect(lines.filter((l) => l.trim().startsWith('{'))).toEqual([]);
});
