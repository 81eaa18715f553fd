// Presence and alerts end to end: the real `vigie collector` process on real Mosquitto and InfluxDB,
// school agents played by a stand-in process with the agent's birth and will, a webhook receiver, a
// real SMTP server and a real Alertmanager.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type AlertmanagerHandle, startAlertmanager } from '../harness/alertmanager.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { decodeQuotedPrintable, type SmtpHandle, startSmtpServer } from '../harness/smtp.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

// Each of these waits out real keepalives and graces (about 50 s idle for the mass outage): twice that
// and more, so a loaded two-core machine does not time them out.
const LONG_TEST_MS = 150_000;
const STANDIN = resolve(import.meta.dirname, 'alerts-standin.ts');
const KEEPALIVE_S = 2;
const GRACE_S = 3;

const uai = (n: number) => {
  const d = String(n).padStart(7, '0');
  return d + uaiCheckLetter(d);
};
const OPEN_SCHOOL = uai(691001);
const CLOSED_SCHOOL = uai(691002);
const MASS = Array.from({ length: 20 }, (_, i) => uai(692001 + i));

let broker: MosquittoHandle;
let influx: InfluxHandle;
let hook: WebhookReceiver;
let amHook: WebhookReceiver;
let smtp: SmtpHandle;
let am: AlertmanagerHandle;
const children: ChildProcess[] = [];
const collectors: CollectorProcess[] = [];

/** Each collector knows only its own schools: retained statuses left by another test are not its business. */
function registry(only: string[]): string {
  const rows = [
    `${OPEN_SCHOOL},École Jean Macé,Villeurbanne,45.77,4.88,Orange,100,20,always`,
    `${CLOSED_SCHOOL},École des Tilleuls,Bron,45.73,4.91,Free,100,20,closed`,
    ...MASS.map((u, i) => `${u},École ${i + 1},Commune ${i % 4},45.7,4.8,Kosc,50,10,always`),
  ].filter((row) => only.includes(row.slice(0, 8)));
  const file = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    file,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${rows.join('\n')}\n`,
  );
  return file;
}

async function startCollectorWith(
  database: string,
  schools: string[],
  alerts: Record<string, unknown>,
): Promise<CollectorProcess> {
  const c = collectorProcess({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database,
    clientId: `alerts-${database}`,
    schools: registry(schools),
    extra: {
      http: { enabled: false },
      presence: { intervalSeconds: 1, silentAfterIntervals: 3, tickMs: 100, classifyWithinSeconds: 5 },
      alerts: {
        language: 'fr',
        hours: {
          always: {
            mon: ['00:00-24:00'],
            tue: ['00:00-24:00'],
            wed: ['00:00-24:00'],
            thu: ['00:00-24:00'],
            fri: ['00:00-24:00'],
            sat: ['00:00-24:00'],
            sun: ['00:00-24:00'],
          },
          closed: {},
        },
        dashboard: {
          schoolUrl: 'http://grafana.test/d/school?var-uai={uai}',
          fleetUrl: 'http://grafana.test/d/fleet',
        },
        ...alerts,
      },
    },
  });
  collectors.push(c);
  await c.daemon.start();
  return c;
}

interface Standin {
  child: ChildProcess;
  drop(u: string): void;
}

async function standin(schools: string[], seqStart = 0): Promise<Standin> {
  const spec = {
    url: broker.url,
    schools,
    agent: 'box',
    keepaliveS: KEEPALIVE_S,
    intervalMs: 1000,
    seqStart,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', STANDIN, JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((ok, fail) => {
    lines.on('line', (l) => l === 'ready' && ok());
    child.once('exit', (code) => fail(new Error(`stand-in agent exited with ${code}`)));
  });
  return { child, drop: (u) => child.stdin!.write(`drop ${u}\n`) };
}

function kill9(s: Standin): Promise<void> {
  return new Promise((ok) => {
    s.child.once('exit', () => ok());
    s.child.kill('SIGKILL');
  });
}

type Hooked = {
  type: string;
  kind: string;
  uai: string | null;
  durationSeconds: number | null;
  members: string[] | null;
  text: string;
};
const messages = (r: WebhookReceiver, filter: (b: Hooked) => boolean = () => true) =>
  r.received.map((x) => x.body as Hooked).filter(filter);

beforeAll(async () => {
  [broker, influx, hook, amHook, smtp] = await Promise.all([
    startMosquitto(),
    startInfluxdb(),
    startWebhookReceiver(),
    startWebhookReceiver(),
    startSmtpServer(),
  ]);
  am = await startAlertmanager(amHook.url);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of collectors.splice(0)) await c.daemon.dispose();
});
afterAll(async () => {
  await Promise.all([
    broker?.daemon.dispose(),
    influx?.daemon.dispose(),
    hook?.close(),
    amHook?.close(),
    smtp?.close(),
    am?.daemon.dispose(),
  ]);
});

describe('presence and alerts end to end', () => {
  it(
    'kill -9 of an agent: one offline alert within keepalive × 1.5 + grace on every channel, one back-online message with the duration',
    async () => {
      hook.received.length = 0;
      await startCollectorWith('e2e_kill', [OPEN_SCHOOL, CLOSED_SCHOOL], {
        graceSeconds: GRACE_S,
        channels: {
          webhooks: [{ url: hook.url, format: 'generic', secret: 'shared-secret-42', retries: 2 }],
          email: {
            host: smtp.host,
            port: smtp.port,
            from: 'vigie@agglo.test',
            to: ['reseau@agglo.test'],
            retries: 1,
          },
          alertmanager: { urls: [am.url], resendSeconds: 2, retries: 1 },
        },
      });
      const agent = await standin([OPEN_SCHOOL, CLOSED_SCHOOL]);
      await waitFor('the school online in InfluxDB', async () =>
        (
          await influx.rows(
            `SELECT state FROM presence WHERE uai = '${OPEN_SCHOOL}' AND scope = 'school'`,
            'e2e_kill',
          )
        ).some((r) => r['state'] === 'online'),
      );
      await sleep(1500);
      const killedAt = Date.now();
      await kill9(agent);
      const bound = KEEPALIVE_S * 1.5 * 1000 + GRACE_S * 1000;
      await waitFor(
        'the offline alert',
        async () => messages(hook, (b) => b.uai === OPEN_SCHOOL).length > 0,
        bound + 5000,
        20,
      );
      const firstAt = hook.received.find((r) => (r.body as Hooked).uai === OPEN_SCHOOL)!.at;
      expect(firstAt - killedAt).toBeLessThanOrEqual(bound);
      // Nothing more arrives for that school while it stays down (reminders are hours away).
      await sleep(3000);
      const offline = messages(hook, (b) => b.uai === OPEN_SCHOOL);
      expect(offline.map((b) => [b.type, b.kind])).toEqual([['firing', 'school_offline']]);
      expect(offline[0]!.text).toContain('École Jean Macé (Villeurbanne, UAI');
      expect(offline[0]!.text).toContain('http://grafana.test/d/school?var-uai=');
      // The school outside its hours is recorded offline, and nobody is paged about it.
      expect(messages(hook, (b) => b.uai === CLOSED_SCHOOL)).toEqual([]);
      const closed = await influx.rows(
        `SELECT state, reason FROM presence WHERE uai = '${CLOSED_SCHOOL}' AND scope = 'school'`,
        'e2e_kill',
      );
      expect(closed.map((r) => r['state'])).toEqual(['online', 'offline']);

      const active = await am.alerts();
      expect(
        active.map((a) => [a.labels['uai'], a.labels['commune'], a.labels['severity'], a.status.state]),
      ).toEqual([[OPEN_SCHOOL, 'Villeurbanne', 'critical', 'active']]);
      expect(smtp.mails.map((m) => m.headers['x-vigie-status'])).toEqual(['firing']);

      const downFor = Date.now() - killedAt;
      await standin([OPEN_SCHOOL, CLOSED_SCHOOL], 1_000_000);
      await waitFor(
        'the back-online message',
        async () => messages(hook, (b) => b.uai === OPEN_SCHOOL).length > 1,
        10_000,
        20,
      );
      await sleep(2000);
      const all = messages(hook, (b) => b.uai === OPEN_SCHOOL);
      expect(all.map((b) => [b.type, b.kind])).toEqual([
        ['firing', 'school_offline'],
        ['resolved', 'school_offline'],
      ]);
      expect(all[1]!.durationSeconds).toBeGreaterThanOrEqual(Math.floor(downFor / 1000) - 1);
      expect(all[1]!.durationSeconds).toBeLessThanOrEqual(Math.ceil(downFor / 1000) + 5);
      expect(messages(hook, (b) => b.uai === CLOSED_SCHOOL)).toEqual([]);

      await waitFor(
        'the mail and Alertmanager to see the resolution',
        async () => smtp.mails.length === 2,
        10_000,
      );
      expect(decodeQuotedPrintable(smtp.mails[1]!.raw)).toMatch(/RÉTABLI.*École Jean Macé.*durée/s);
      await waitFor(
        'Alertmanager resolved',
        async () => (await am.alerts()).every((a) => a.status.state !== 'active'),
        10_000,
      );
      await waitFor(
        'Alertmanager to route the firing and the resolution',
        async () =>
          amHook.received.map((r) => (r.body as { status: string }).status).join() === 'firing,resolved',
        20_000,
      );

      // Both outages recorded, classified from the (absent) replay: the boxes were down.
      await waitFor(
        'outages in InfluxDB',
        async () => (await influx.rows('SELECT duration_s, cause, uai FROM outage', 'e2e_kill')).length === 2,
        15_000,
      );
      const outages = await influx.rows('SELECT duration_s, cause, uai FROM outage', 'e2e_kill');
      expect(outages.map((o) => o['cause'])).toEqual(['power_or_box', 'power_or_box']);
      for (const o of outages) expect(o['duration_s'] as number).toBeGreaterThan(3);
    },
    LONG_TEST_MS,
  );

  it(
    'a collector killed -9 and restarted during an outage rebuilds from InfluxDB: no second page, one resolution',
    async () => {
      hook.received.length = 0;
      const collector = await startCollectorWith('e2e_restart', [OPEN_SCHOOL], {
        graceSeconds: GRACE_S,
        channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 2 }] },
      });
      const agent = await standin([OPEN_SCHOOL]);
      await waitFor(
        'the school online in InfluxDB',
        async () =>
          (await influx.rows(`SELECT state FROM presence WHERE uai = '${OPEN_SCHOOL}'`, 'e2e_restart'))
            .length > 0,
      );
      const killedAt = Date.now();
      await kill9(agent);
      await waitFor('the offline alert', async () => hook.received.length > 0, 15_000, 20);
      await waitFor('the offline state stored', async () =>
        (
          await influx.rows(
            `SELECT state FROM presence WHERE uai = '${OPEN_SCHOOL}' AND scope = 'school'`,
            'e2e_restart',
          )
        ).some((r) => r['state'] === 'offline'),
      );
      await collector.daemon.kill9();
      await collector.daemon.start();
      await waitFor(
        'presence rebuilt',
        async () => collector.daemon.logTail(50).includes('presence rebuilt from InfluxDB'),
        15_000,
      );
      await sleep(GRACE_S * 1000 + 2000);
      expect(messages(hook).map((b) => b.type)).toEqual(['firing']);
      await standin([OPEN_SCHOOL], 1_000_000);
      await waitFor('the resolution', async () => hook.received.length > 1, 15_000, 20);
      await sleep(1000);
      const all = messages(hook);
      expect(all.map((b) => [b.type, b.kind])).toEqual([
        ['firing', 'school_offline'],
        ['resolved', 'school_offline'],
      ]);
      expect(all[1]!.durationSeconds).toBeGreaterThanOrEqual(Math.floor((Date.now() - killedAt) / 1000) - 3);
    },
    LONG_TEST_MS,
  );

  it(
    '20 schools of one ISP dropping within 30 s: one grouped alert, one resolution',
    async () => {
      hook.received.length = 0;
      await startCollectorWith('e2e_mass', MASS, {
        graceSeconds: 35,
        mass: { windowSeconds: 60, minSchools: 5 },
        channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 2 }] },
      });
      const fleet = await standin(MASS);
      await waitFor(
        '20 schools online',
        async () =>
          (
            await influx.rows(
              "SELECT count(state) FROM presence WHERE scope = 'school' AND state = 'online'",
              'e2e_mass',
            )
          )[0]?.['count'] === 20,
      );
      const t0 = Date.now();
      for (const [i, u] of MASS.entries()) {
        await sleep(Math.max(0, t0 + i * 1500 - Date.now()));
        fleet.drop(u);
      }
      await waitFor('the grouped alert', async () => hook.received.length > 0, 60_000, 50);
      await sleep(5000);
      const fired = messages(hook);
      expect(fired.map((b) => [b.type, b.kind, b.members?.length])).toEqual([['firing', 'mass_outage', 20]]);
      expect(fired[0]!.text).toContain('panne groupée : 20 écoles (FAI Kosc)');

      fleet.child.kill('SIGKILL');
      await standin(MASS, 1_000_000);
      await waitFor('the grouped resolution', async () => hook.received.length > 1, 20_000, 50);
      await sleep(3000);
      expect(messages(hook).map((b) => [b.type, b.kind])).toEqual([
        ['firing', 'mass_outage'],
        ['resolved', 'mass_outage'],
      ]);
    },
    LONG_TEST_MS,
  );
});
