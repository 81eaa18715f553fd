// Bad times stop at the boundary of the real collector's HTTP API (real Mosquitto, real InfluxDB, the
// real alert policy): impossible dates answer 400 naming the field, never 500/502; InfluxDB's own
// words never reach a client; a windows file with entries that cannot be read mutes no one at restart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Ajv } from 'ajv';
import mqtt, { type MqttClient } from 'mqtt';
import type { TSchema } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../collector/alerts/config.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { HttpConfig } from '../../collector/http/config.ts';
import { type FrontendStart, HttpFrontend, type HttpHandle } from '../../collector/http/frontend.ts';
import { PresenceConfig } from '../../collector/presence/config.ts';
import { type PresenceAndAlerts, startPresenceAndAlerts } from '../../collector/presence-and-alerts.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { createLogger } from '../../shared/log.ts';
import type { School } from '../../shared/registry.ts';
import { statusTopic } from '../../shared/topics.ts';
import { type Uai, uaiCheckLetter } from '../../shared/uai.ts';
import { addVigieFormats } from '../../shared/validate.ts';
import { collectorSection } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { parsePrometheusText, sampleValue } from '../harness/prometheus-text.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

const DB = 'httptimes';
const READ = 'read-token-for-tests-0002';
const ADMIN = 'admin-token-for-tests-0002';
const HOUR = 3_600_000;
const uai = (digits: string) => `${digits}${uaiCheckLetter(digits)}` as Uai;
const A = uai('0692001');
const B = uai('0692002');
const C = uai('0382003');
const school = (u: Uai, name: string, commune: string): School => ({
  uai: u,
  name,
  commune,
  lat: 45.7,
  lon: 4.8,
  isp: 'Orange',
  contractedDownMbps: 100,
  contractedUpMbps: 20,
  hours: 'always',
});
const schools = new Map<string, School>([
  [A, school(A, 'École Pasteur', 'Villeurbanne')],
  [B, school(B, 'École Curie', 'Villeurbanne')],
  [C, school(C, 'École du Port', 'Vienne')],
]);
const allDay = ['00:00-24:00'];

function resolve<S extends TSchema>(schema: S, value: unknown) {
  const copy = structuredClone(value);
  const validate = addVigieFormats(new Ajv({ useDefaults: true, strict: false })).compile(schema);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as never;
}

/** Internals that must stay in the log: InfluxDB's words, InfluxQL, stacks. */
const INTERNALS =
  /influxql|authoriz|admin user|statement|SELECT|VarRef|overflow|parsing|fetch failed|ECONNREFUSED|\bat \w+ \(/i;

let broker: MosquittoHandle;
let influx: InfluxHandle;
let lockedInflux: InfluxHandle;
let hook: WebhookReceiver;
let collector: CollectorHandle;
let pa: PresenceAndAlerts;
const front = new HttpFrontend();
let api: HttpHandle;
let startOpts: FrontendStart;
let agentB: MqttClient;
const windowsFile = join(tempDir('http-times'), 'windows.json');
const logLines: Record<string, unknown>[] = [];

function logTo(lines: Record<string, unknown>[]) {
  return createLogger(
    'http',
    'info',
    new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
}

beforeAll(async () => {
  [broker, influx, lockedInflux, hook] = await Promise.all([
    startMosquitto(),
    startInfluxdb(),
    startInfluxdb({ authEnabled: true }),
    startWebhookReceiver(),
  ]);
  const silent = createLogger('test', 'silent');
  collector = await startCollector(
    collectorSection({ mqttUrl: broker.url, influxUrl: influx.url, database: DB }),
    {
      logger: silent,
      schools,
      observers: [
        front.observer,
        (points) => {
          pa = startPresenceAndAlerts({
            presence: resolve(PresenceConfig, { intervalSeconds: 60, tickMs: 200, rebuildFromInflux: false }),
            alerts: resolve(AlertsConfig, {
              graceSeconds: 1,
              hours: {
                always: {
                  mon: allDay,
                  tue: allDay,
                  wed: allDay,
                  thu: allDay,
                  fri: allDay,
                  sat: allDay,
                  sun: allDay,
                },
              },
              channels: { webhooks: [{ url: hook.url, retries: 0 }] },
            }),
            schools,
            points,
            log: silent,
            muted: front.muted,
          });
          return pa.observer;
        },
      ],
    },
  );
  await waitFor('collector connected', async () => collector.counters().brokerConnected);
  startOpts = {
    http: resolve(HttpConfig, {
      host: '127.0.0.1',
      port: 0,
      windowsFile,
      auth: { readTokens: [READ], adminToken: ADMIN, allowNetworks: ['198.18.0.0/15'] },
    }),
    influx: { url: influx.url, database: DB },
    collector,
    schools,
    presence: pa,
    log: logTo(logLines),
  };
  api = await front.start(startOpts);
});

afterAll(async () => {
  await agentB?.endAsync(true);
  await api?.close();
  await pa?.stop();
  await collector?.stop();
  await hook?.close();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose(), lockedInflux?.daemon.dispose()]);
});

const call = (base: string, path: string, token: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });
const get = (path: string) => call(api.url, path, READ);
const post = (path: string, body: unknown) =>
  call(api.url, path, ADMIN, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const message = async (res: Response) => ((await res.json()) as { message: string }).message;
const iso = (ms: number) => new Date(ms).toISOString();

describe('times at the HTTP boundary of the real collector', () => {
  it('refuses impossible silence and maintenance times with 400 naming the field; the lists still answer', async () => {
    const now = Date.now();
    const ok = { startsAt: iso(now), endsAt: iso(now + HOUR) };
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { startsAt: '2026-12-31T23:59:60Z', endsAt: '2027-01-01T10:00:00Z' },
        /^body\/startsAt: .*leap second/,
      ],
      [{ endsAt: '2099-12-31T23:59:60Z' }, /^body\/endsAt: .*leap second/],
      [{ startsAt: '2026-02-30T10:00:00Z' }, /^body\/startsAt: .*February 2026 has no day 30/],
      [{ endsAt: '+010000-01-01T00:00:00Z' }, /^body\/endsAt: .*only years 1970–2199/],
      [{ endsAt: '2500-01-01T00:00:00Z' }, /^body\/endsAt: .*year 2500 is outside/],
      [{ startsAt: '2026-02-10T20:00:00' }, /^body\/startsAt: .*has no offset/],
      [{ startsAt: String(now) }, /^body\/startsAt: .*looks like an epoch number/],
      [{ endsAt: 'NaN' }, /^body\/endsAt: "NaN" is not an RFC 3339 date-time/],
      // Fastify turns a JSON number into text before the schema: refused all the same.
      [{ startsAt: now }, /^body\/startsAt: .*looks like an epoch number/],
      [{ scope: { uai: [] } }, /^body\/scope\/uai: an empty list would match every school/],
      [{ scope: { commune: [] } }, /^body\/scope\/commune: an empty list would match every school/],
    ];
    for (const path of ['/api/silences', '/api/maintenance'])
      for (const [over, reason] of cases) {
        const body = { scope: { uai: [A] }, ...ok, comment: 'travaux', createdBy: 'noc', ...over };
        const res = await post(path, body);
        expect(res.status, `${path} ${JSON.stringify(over)}`).toBe(400);
        expect(await message(res), `${path} ${JSON.stringify(over)}`).toMatch(reason);
        const list = await get(path);
        expect(list.status, `${path} listed after ${JSON.stringify(over)}`).toBe(200);
        expect(await list.json()).toEqual([]);
      }
    expect(api.windows.muted({ kind: 'school_offline', uai: B }, { uai: B }, now)).toBeNull();
  });

  it('refuses impossible outage windows with 400 naming the parameter, never with InfluxDB text', async () => {
    const cases: [string, RegExp][] = [
      ['from=2026-12-31T23:59:60Z', /^querystring\/from: .*leap second/],
      ['to=2026-12-31T23:59:60%2B01:00', /^querystring\/to: .*leap second/],
      ['from=2026-02-30T00:00:00Z', /^querystring\/from: .*February 2026 has no day 30/],
      ['from=3000-01-01T00:00:00Z&to=3000-02-01T00:00:00Z', /^querystring\/to: .*year 3000 is outside/],
      ['from=%2B010000-01-01T00:00:00Z', /^querystring\/from: .*only years/],
      ['from=2026-02-10T20:00:00', /^querystring\/from: .*has no offset/],
      ['from=2026-02-10T20:00:00+01:00', /^querystring\/from: .*the "\+" of the offset arrived as a space/],
      ['from=1781000000000', /^querystring\/from: .*looks like an epoch number/],
      ['to=NaN', /^querystring\/to: "NaN" is not an RFC 3339 date-time/],
      ['from=2026-02-10', /^querystring\/from: .*a date without a time/],
    ];
    for (const [query, reason] of cases) {
      const res = await get(`/api/outages?${query}`);
      const text = await message(res);
      expect(res.status, query).toBe(400);
      expect(text, query).toMatch(reason);
      expect(text, query).not.toMatch(INTERNALS);
    }
    const fine = await get(`/api/outages?from=${encodeURIComponent('2026-02-10T20:00:00+01:00')}`);
    expect(fine.status).toBe(200);
  });

  it('answers 502 then 503 with a request id and no internals when InfluxDB refuses or is gone', async () => {
    const lines: Record<string, unknown>[] = [];
    const locked = await new HttpFrontend().start({
      ...startOpts,
      http: { ...startOpts.http, windowsFile: undefined },
      influx: { url: lockedInflux.url, database: DB },
      log: logTo(lines),
      report: (({ retention, alerts }) => ({ retention, alerts }))(
        resolveCollectorConfig({ influx: { database: DB }, alerts: { timezone: 'Europe/Paris' } }),
      ),
    });
    try {
      for (const path of ['/api/outages', `/api/schools/${A}`]) {
        const res = await call(locked.url, path, READ);
        const text = await message(res);
        expect(res.status, path).toBe(502);
        expect(text, path).toMatch(/^InfluxDB failed the query \(request req-\w+\): see the collector log$/);
        expect(text, path).not.toMatch(INTERNALS);
        const reqId = /request (req-\w+)/.exec(text)![1];
        // The log has what the client does not, under the same request id.
        const logged = lines.find((l) => l['reqId'] === reqId && l['msg'] === 'InfluxDB query failed');
        expect(String(logged?.['err'])).toMatch(/create admin user first/);
      }
      await lockedInflux.daemon.stop();
      const gone = await call(locked.url, '/api/outages', READ);
      const text = await message(gone);
      expect(gone.status).toBe(503);
      expect(gone.headers.get('retry-after')).toBe('30');
      expect(text).toMatch(/^InfluxDB does not answer \(request req-\w+\): try again later$/);
      expect(text).not.toMatch(INTERNALS);
      // The yearly report too: 503 and a time to retry, not a 500 (it has its own InfluxDB reader).
      const report = await call(locked.url, '/api/report?from=2026-10-01&to=2026-10-31', READ);
      expect(report.status).toBe(503);
      expect(report.headers.get('retry-after')).toBe('30');
      expect(await message(report)).toMatch(
        /^InfluxDB does not answer \(request req-\w+\): try again later$/,
      );
    } finally {
      await locked.close();
    }
  });

  it('at restart, skips and reports the windows it cannot read: no school is muted by them', async () => {
    agentB = await mqtt.connectAsync(broker.url, {
      clientId: 'agent-times-b',
      keepalive: 5,
      will: {
        topic: statusTopic(B, 'box'),
        payload: Buffer.from(JSON.stringify({ v: 1, uai: B, agent: 'box', state: 'offline', t: Date.now() })),
        qos: 1,
        retain: true,
      },
    });
    const birth = { v: 1, uai: B, agent: 'box', state: 'online', t: Date.now(), reason: 'birth' };
    await agentB.publishAsync(statusTopic(B, 'box'), JSON.stringify(birth), { qos: 1, retain: true });
    await waitFor('B online', async () => {
      const list = (await (await get('/api/schools')).json()) as {
        schools: { uai: string; state: string }[];
      };
      return list.schools.find((s) => s.uai === B)?.state === 'online';
    });

    await api.close();
    const now = Date.now();
    const base = {
      comment: 'hand-edited',
      createdBy: 'noc',
      createdAt: now,
      startsAt: now - HOUR,
      endsAt: now + HOUR,
    };
    writeFileSync(
      windowsFile,
      JSON.stringify({
        maintenance: [
          { ...base, id: 'm-empty-list', scope: { uai: [] } },
          { ...base, id: 'm-null-scope', scope: null },
        ],
        silences: [
          { ...base, id: 's-typo', scope: { uais: [C] }, kinds: [] },
          // What a leap second left in the file before: NaN written as null, on every school.
          { ...base, id: 's-leap', scope: {}, kinds: [], startsAt: null },
          { ...base, id: 's-good', scope: { uai: [C] }, kinds: [] },
        ],
      }),
    );
    api = await front.start(startOpts);

    const silences = await get('/api/silences');
    expect(silences.status).toBe(200);
    expect(((await silences.json()) as { id: string }[]).map((s) => s.id)).toEqual(['s-good']);
    expect(await (await get('/api/maintenance')).json()).toEqual([]);
    const metrics = parsePrometheusText(await (await get('/metrics')).text());
    expect(sampleValue(metrics, 'vigie_collector_windows_unreadable')).toBe(4);
    for (const [entry, reason] of [
      ['maintenance[0] (id m-empty-list)', /\/scope\/uai: must NOT have fewer than 1 items/],
      ['maintenance[1] (id m-null-scope)', /\/scope: must be object/],
      ['silences[0] (id s-typo)', /\/scope: unexpected property "uais"/],
      ['silences[1] (id s-leap)', /\/startsAt: must be integer/],
    ] as const) {
      const line = logLines.find((l) => String(l['msg']).includes(`${entry} cannot be read`));
      expect(String(line?.['msg']), entry).toMatch(reason);
      expect(line?.['level'], entry).toBe(50);
    }
    expect(api.windows.muted({ kind: 'school_offline', uai: C }, schools.get(C), Date.now())).toBe(
      'silenced',
    );

    // The real policy: B drops, and its alert goes out instead of being held by a window (it may
    // wait for the policy's broker settling first: that hold is not a window's).
    agentB.stream.destroy();
    const alertOfB = () => pa.alerting.policy.open().find((a) => a.uai === B && a.kind === 'school_offline');
    await waitFor('B offline alert sent, or held by a window', async () => {
      const a = alertOfB();
      return !!a && (a.notifiedAt !== null || a.heldBy === 'maintenance' || a.heldBy === 'silenced');
    });
    expect(alertOfB()?.heldBy).toBeUndefined();
    await waitFor('the webhook got it', async () =>
      hook.received.some((r) => (r.body as { uai?: string }).uai === B),
    );
    expect(hook.received.find((r) => (r.body as { uai?: string }).uai === B)?.body).toMatchObject({
      type: 'firing',
      kind: 'school_offline',
    });
    const open = (
      (await (await get('/api/alerts')).json()) as { open: { uai?: string; suppressed?: boolean }[] }
    ).open;
    expect(open.find((a) => a.uai === B)?.suppressed).toBeUndefined();
  });
});
