// The collector's HTTP API against the real collector, Mosquitto and InfluxDB: auth, validation,
// the school list fed by real messages, history and outages read back with InfluxQL, silences,
// alerts from the real policy, /metrics moving with the traffic, the speed test's auth and limits.
import { Writable } from 'node:stream';
import { Ajv } from 'ajv';
import mqtt, { type MqttClient } from 'mqtt';
import type { TSchema } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../collector/alerts/config.ts';
import { speedtestToken } from '../../collector/http/auth.ts';
import { HttpConfig } from '../../collector/http/config.ts';
import { HttpFrontend, type HttpHandle } from '../../collector/http/frontend.ts';
import { PresenceConfig } from '../../collector/presence/config.ts';
import { outagePoint } from '../../collector/presence/points.ts';
import { type PresenceAndAlerts, startPresenceAndAlerts } from '../../collector/presence-and-alerts.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { createLogger } from '../../shared/log.ts';
import type { School } from '../../shared/registry.ts';
import type { MetricsBatch } from '../../shared/schemas.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { type Uai, uaiCheckLetter } from '../../shared/uai.ts';
import { addVigieFormats } from '../../shared/validate.ts';
import { collectorSection } from '../harness/collector.ts';
import { waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { parsePrometheusText, sampleValue } from '../harness/prometheus-text.ts';

const DB = 'httpapi';
const READ = 'read-token-for-tests-0001';
const ADMIN = 'admin-token-for-tests-0001';
const SECRET = 'speedtest-secret-for-tests';
const uai = (digits: string) => `${digits}${uaiCheckLetter(digits)}` as Uai;
const A = uai('0691001');
const B = uai('0691002');
const C = uai('0381003');

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
  [A, school(A, 'École Jean Macé', 'Villeurbanne')],
  [B, school(B, 'École Jules Ferry', 'Villeurbanne')],
  [C, school(C, 'École du Centre', 'Vienne')],
]);

function resolve<S extends TSchema>(schema: S, value: unknown) {
  const copy = structuredClone(value);
  const validate = addVigieFormats(new Ajv({ useDefaults: true, strict: false })).compile(schema);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as never;
}

let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorHandle;
let pa: PresenceAndAlerts;
let api: HttpHandle;
let agentA: MqttClient;
let agentB: MqttClient;
const logLines: string[] = [];

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  const silent = createLogger('test', 'silent');
  const front = new HttpFrontend();
  const section = collectorSection({ mqttUrl: broker.url, influxUrl: influx.url, database: DB });
  collector = await startCollector(section, {
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
                mon: ['00:00-24:00'],
                tue: ['00:00-24:00'],
                wed: ['00:00-24:00'],
                thu: ['00:00-24:00'],
                fri: ['00:00-24:00'],
                sat: ['00:00-24:00'],
                sun: ['00:00-24:00'],
              },
            },
          }),
          schools,
          points,
          channels: [],
          log: silent,
        });
        return pa.observer;
      },
    ],
  });
  await waitFor('collector connected', async () => collector.counters().brokerConnected);
  const capture = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  api = await front.start({
    http: resolve(HttpConfig, {
      host: '127.0.0.1',
      port: 0,
      logRequests: true,
      auth: { readTokens: [READ], adminToken: ADMIN, allowNetworks: ['198.18.0.0/15'] },
      board: { grafanaSchoolUrl: 'http://grafana.test/d/school?var-uai={uai}' },
      speedtest: { secret: SECRET, perSchoolMax: 3, revoked: [C] },
    }),
    influx: { url: influx.url, database: DB },
    collector,
    schools,
    presence: pa,
    log: createLogger('http', 'info', capture),
  });
  const will = (u: Uai, agent: string) => ({
    topic: statusTopic(u, agent),
    payload: Buffer.from(
      JSON.stringify({ v: 1, uai: u, agent, state: 'offline', t: Date.now(), reason: 'will' }),
    ),
    qos: 1 as const,
    retain: true,
  });
  agentA = await mqtt.connectAsync(broker.url, { clientId: 'agent-a', will: will(A, 'box'), keepalive: 5 });
  agentB = await mqtt.connectAsync(broker.url, { clientId: 'agent-b', will: will(B, 'box'), keepalive: 5 });
});

afterAll(async () => {
  await Promise.all([agentA?.endAsync(true), agentB?.endAsync(true)]);
  await api?.close();
  await pa?.stop();
  await collector?.stop();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

const get = (path: string, token: string | null = READ, init: RequestInit = {}) =>
  fetch(`${api.url}${path}`, {
    ...init,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.headers as Record<string, string>),
    },
  });

async function json(res: Response) {
  return (await res.json()) as Record<string, unknown> & { message?: string };
}

async function birth(client: MqttClient, u: Uai) {
  await client.publishAsync(
    statusTopic(u, 'box'),
    JSON.stringify({
      v: 1,
      uai: u,
      agent: 'box',
      state: 'online',
      t: Date.now(),
      reason: 'birth',
      version: '1.2.3',
    }),
    { qos: 1, retain: true },
  );
}

function batch(u: Uai, seq: number, t: number, latency: number): MetricsBatch {
  return {
    v: 1,
    uai: u,
    agent: 'box',
    seq,
    t,
    samples: [
      {
        probe: 'ping',
        t,
        target: 'anchor-1',
        role: 'anchor',
        sent: 10,
        received: 10,
        lossPct: 0,
        medianMs: latency,
      },
      {
        probe: 'ping',
        t,
        target: 'anchor-2',
        role: 'anchor',
        sent: 10,
        received: 10,
        lossPct: 0,
        medianMs: latency + 2,
      },
      { probe: 'ping', t, target: 'gw', role: 'gateway', sent: 10, received: 10, lossPct: 0, medianMs: 0.5 },
      { probe: 'wan', t, source: 'snmp', iface: 'wan0', inBps: 40e6, outBps: 5e6 },
      {
        probe: 'self',
        t,
        version: '1.2.3',
        uptimeS: 60,
        rssBytes: 1e7,
        cpuPct: 1,
        spoolBytes: 0,
        spoolBatches: 0,
        spoolDropped: 0,
      },
    ],
  };
}

describe('HTTP API on the real collector', () => {
  it('refuses a missing or unknown token with 401, a read token on a write with 403', async () => {
    const none = await get('/api/schools', null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await json(none)).message).toMatch(/token is required/);
    const wrong = await get('/api/schools', 'not-a-real-token-at-all');
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).message).toBe('unknown token');
    expect((await get('/metrics', null)).status).toBe(401);
    const body = JSON.stringify({
      scope: { uai: [A] },
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      comment: 'works',
      createdBy: 'noc',
    });
    const post = (token: string | null) =>
      get('/api/silences', token, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect((await post(null)).status).toBe(401);
    expect((await post('not-a-real-token-at-all')).status).toBe(401);
    const readOnly = await post(READ);
    expect(readOnly.status).toBe(403);
    expect((await json(readOnly)).message).toBe('a read token cannot write');
    // Public routes need nothing.
    expect((await get('/healthz', null)).status).toBe(200);
  });

  it('answers 400 with the reason for bad parameters', async () => {
    const cases: [string, RegExp][] = [
      [`/api/schools/0691001A`, /wrong UAI check letter/],
      ['/api/schools/123', /8 characters/],
      [`/api/schools/${A}?hours=abc`, /querystring\/hours: must be number/],
      [`/api/schools/${A}?days=2`, /unknown parameter "days"/],
      ['/api/outages?from=yesterday', /querystring\/from: "yesterday" is not an RFC 3339 date-time/],
      ['/api/outages?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', /"from" must be before "to"/],
      ['/api/alerts?limit=0', /querystring\/limit: must be >= 1/],
    ];
    for (const [path, reason] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      const body = await json(res);
      expect(body.message, path).toMatch(reason);
      expect(body.statusCode).toBe(400);
    }
    const bad = await get('/api/silences', ADMIN, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        scope: {},
        startsAt: '2030-01-02T00:00:00Z',
        endsAt: '2030-01-01T00:00:00Z',
        comment: 'backwards',
        createdBy: 'noc',
      }),
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).message).toBe('body/endsAt: must be after startsAt');
  });

  it('lists every school with what the agents sent, and /metrics counts the messages', async () => {
    const before = parsePrometheusText(await (await get('/metrics')).text());
    const metricsBefore = sampleValue(before, 'vigie_collector_messages_total', { kind: 'metrics' }) ?? 0;
    await birth(agentA, A);
    await birth(agentB, B);
    const t = Date.now();
    for (let i = 0; i < 3; i++) {
      await agentA.publishAsync(
        metricsTopic(A, 'box'),
        JSON.stringify(batch(A, i, t - (2 - i) * 1000, 12 + i)),
        { qos: 1 },
      );
    }
    await agentB.publishAsync(metricsTopic(B, 'box'), JSON.stringify(batch(B, 0, t, 30)), { qos: 1 });
    await agentB.publishAsync(metricsTopic(B, 'box'), '{"v":1,"uai":', { qos: 1 });

    let list: { schools: Record<string, unknown>[]; counts: Record<string, number> } = {
      schools: [],
      counts: {},
    };
    await waitFor('both schools online with figures', async () => {
      list = (await (await get('/api/schools')).json()) as typeof list;
      const a = list.schools.find((s) => s['uai'] === A);
      return list.counts['online'] === 2 && a?.['latencyMs'] === 15;
    }).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(list)}`);
    });
    const a = list.schools.find((s) => s['uai'] === A)!;
    expect(a).toMatchObject({
      name: 'École Jean Macé',
      commune: 'Villeurbanne',
      state: 'online',
      inRegistry: true,
      lossPct: 0,
      wanInBps: 40e6,
      wanOutBps: 5e6,
      agentVersion: '1.2.3',
      dashboardUrl: `http://grafana.test/d/school?var-uai=${A}`,
    });
    expect(a['lastSeenAt']).toBeGreaterThanOrEqual(t - 1000);
    // The registry school nobody heard of is listed too, as unknown.
    expect(list.schools.find((s) => s['uai'] === C)).toMatchObject({ state: 'unknown', lastSeenAt: null });
    expect(list.schools.map((s) => s['commune'])).toEqual(['Vienne', 'Villeurbanne', 'Villeurbanne']);

    await waitFor('metrics counters moved', async () => {
      const after = parsePrometheusText(await (await get('/metrics')).text());
      return (
        (sampleValue(after, 'vigie_collector_messages_total', { kind: 'metrics' }) ?? 0) >=
          metricsBefore + 5 &&
        sampleValue(after, 'vigie_collector_rejected_total', { reason: 'malformed_json' }) === 1 &&
        (sampleValue(after, 'vigie_collector_batches_written_total') ?? 0) > 0
      );
    });
    const text = await (await get('/metrics')).text();
    const families = parsePrometheusText(text);
    expect(families.find((f) => f.name === 'vigie_collector_rejected_total')?.type).toBe('COUNTER');
    expect(sampleValue(families, 'vigie_schools', { state: 'online' })).toBe(2);
    expect(sampleValue(families, 'vigie_collector_wal_bytes')).toBeGreaterThanOrEqual(0);
    expect(
      sampleValue(families, 'vigie_http_requests_total', { route: '/api/schools', status: '200' }),
    ).toBeGreaterThan(0);
  });

  it("reads a school's recent history back from InfluxDB", async () => {
    await collector.drained();
    let detail: Record<string, unknown> & {
      latency: { columns: string[]; points: (number | null)[][] };
      transitions: { state: string }[];
    } = { latency: { columns: [], points: [] }, transitions: [] };
    await waitFor('history in InfluxDB', async () => {
      detail = (await (await get(`/api/schools/${A}?hours=1`)).json()) as typeof detail;
      return detail.latency.points.length > 0 && detail.transitions.some((x) => x.state === 'online');
    });
    expect(detail.latency.columns).toEqual(['time', 'latency_ms', 'loss_pct']);
    const medians = detail.latency.points.map((p) => p[1]);
    // Anchors only: the gateway's 0.5 ms never enters the figure.
    expect(Math.min(...(medians as number[]))).toBeGreaterThanOrEqual(12);
    expect((detail['school'] as { uai: string }).uai).toBe(A);
    expect(detail['bucket']).toBe('1m');
    expect((detail['wan'] as { points: unknown[] }).points.length).toBeGreaterThan(0);
  });

  it('lists finished outages from InfluxDB and ongoing ones from presence', async () => {
    const start = Date.now() - 3 * 3_600_000;
    collector.points.write([
      outagePoint(
        { uai: C, start, end: start + 600_000, cause: 'wan_cut', schoolHoursS: 600 },
        { commune: 'Vienne', isp: 'Orange' },
      ),
    ]);
    await collector.drained();
    agentB.stream.destroy(); // kill: the broker publishes B's will
    await waitFor('B offline', async () => {
      const list = (await (await get('/api/schools')).json()) as {
        schools: { uai: string; state: string }[];
      };
      return list.schools.find((s) => s.uai === B)?.state === 'offline';
    });
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const res = await get(`/api/outages?from=${encodeURIComponent(from)}`);
    expect(res.status).toBe(200);
    const { outages } = (await res.json()) as { outages: Record<string, unknown>[] };
    expect(outages.find((o) => o['uai'] === C)).toMatchObject({
      name: 'École du Centre',
      commune: 'Vienne',
      start,
      end: start + 600_000,
      durationS: 600,
      schoolHoursS: 600,
      cause: 'wan_cut',
    });
    expect(outages.find((o) => o['uai'] === B)).toMatchObject({
      cause: 'ongoing',
      end: null,
      name: 'École Jules Ferry',
    });
    // A window that ended before the outage began does not hold it.
    const old = await get(`/api/outages?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z`);
    expect(((await old.json()) as { outages: unknown[] }).outages).toEqual([]);
  });

  it('shows the open alert of the offline school from the real policy', async () => {
    await waitFor('offline alert open', async () => {
      const body = (await (await get('/api/alerts')).json()) as { open: { uai?: string; kind: string }[] };
      return body.open.some((a) => a.uai === B && a.kind === 'school_offline');
    });
    await birth(agentA, A); // nothing changes for A
    agentB = await mqtt.connectAsync(broker.url, { clientId: 'agent-b' });
    await birth(agentB, B);
    await waitFor('alert resolved and listed as past', async () => {
      const body = (await (await get('/api/alerts')).json()) as {
        open: { uai?: string }[];
        past: { uai?: string; resolvedAt?: number }[];
      };
      return !body.open.some((a) => a.uai === B) && body.past.some((a) => a.uai === B && a.resolvedAt);
    });
  });

  it('creates, lists and deletes silences and maintenance windows with the admin token', async () => {
    for (const path of ['/api/silences', '/api/maintenance']) {
      const created = await get(path, ADMIN, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          scope: { commune: ['Vienne'] },
          ...(path === '/api/silences' ? { kinds: ['school_offline'] } : {}),
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
          comment: 'travaux fibre',
          createdBy: 'noc@example.test',
        }),
      });
      expect(created.status, path).toBe(201);
      const item = (await created.json()) as { id: string; active: boolean };
      expect(item.active).toBe(true);
      const list = (await (await get(path)).json()) as { id: string; comment: string }[];
      expect(list.map((x) => x.id)).toContain(item.id);
      expect(
        api.windows.muted({ kind: 'school_offline', uai: C }, { uai: C, commune: 'Vienne' }, Date.now()),
      ).not.toBeNull();
      expect((await get(`${path}/${item.id}`, ADMIN, { method: 'DELETE' })).status).toBe(204);
      const again = await get(`${path}/${item.id}`, ADMIN, { method: 'DELETE' });
      expect(again.status).toBe(404);
    }
    expect(
      api.windows.muted({ kind: 'school_offline', uai: C }, { uai: C, commune: 'Vienne' }, Date.now()),
    ).toBeNull();
  });

  it("serves the speed test to a school's token only, and limits each school", async () => {
    const token = speedtestToken(SECRET, A);
    const down = await get('/speedtest/download?bytes=100000', token);
    expect(down.status).toBe(200);
    expect((await down.arrayBuffer()).byteLength).toBe(100_000);
    expect((await get('/speedtest/download?bytes=10', null)).status).toBe(401);
    expect((await get('/speedtest/download?bytes=10', READ)).status).toBe(401);
    const forged = `${B}.${token.split('.')[1]}`;
    expect((await get('/speedtest/download?bytes=10', forged)).status).toBe(401);
    const revoked = await get('/speedtest/download?bytes=10', speedtestToken(SECRET, C));
    expect(revoked.status).toBe(401);
    expect((await json(revoked)).message).toMatch(/revoked/);
    const badBytes = await get('/speedtest/download?bytes=-5', token);
    expect(badBytes.status).toBe(400);
    const up = await get('/speedtest/upload?warmupMs=0', token, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(256 * 1024, 7),
    });
    expect(up.status).toBe(200);
    expect(((await up.json()) as { bytes: number }).bytes).toBe(256 * 1024);
    // perSchoolMax 3: download, bad bytes (counted), upload; the 4th is refused, another school still served.
    const limited = await get('/speedtest/download?bytes=10', token);
    expect(limited.status).toBe(429);
    expect((await json(limited)).message).toMatch(/too many speed tests from this school/);
    expect((await get('/speedtest/download?bytes=10', speedtestToken(SECRET, B))).status).toBe(200);
  });

  it('is ready with broker and InfluxDB, documents every route, and logs no secret', async () => {
    const ready = await get('/readyz', null);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { broker: true, influxdb: true } });
    const doc = (await (await get('/openapi.json', null)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    const routes = api.app.printRoutes({ commonPrefix: false });
    for (const path of [
      '/api/schools',
      '/api/schools/{uai}',
      '/api/outages',
      '/api/alerts',
      '/api/silences/{id}',
      '/api/maintenance',
      '/metrics',
      '/speedtest/download',
      '/speedtest/upload',
    ]) {
      const ops = doc.paths[path];
      expect(ops, path).toBeDefined();
      for (const op of Object.values(ops!)) expect(op.summary, path).toBeTruthy();
    }
    expect(routes).toContain('healthz');
    const logs = logLines.join('');
    expect(logs).toContain('access denied');
    for (const secret of [READ, ADMIN, SECRET, speedtestToken(SECRET, A).split('.')[1]!])
      expect(logs).not.toContain(secret);
  });
});
