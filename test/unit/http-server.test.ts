// The HTTP server in process (fastify inject): routes, schemas, access by network, error bodies,
// the Prometheus text it writes from the collector's counters.
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpConfig } from '../../collector/http/config.ts';
import type { App } from '../../collector/http/context.ts';
import type { CollectorStats, HttpDeps } from '../../collector/http/deps.ts';
import { SchoolReadings } from '../../collector/http/readings.ts';
import { buildHttpServer } from '../../collector/http/server.ts';
import { speedtestPlugin } from '../../collector/http/speedtest.ts';
import { createLogger } from '../../shared/log.ts';
import { addVigieFormats } from '../../shared/validate.ts';
import { parsePrometheusText, sampleValue } from '../harness/prometheus-text.ts';
import { StatusPresence } from '../harness/status-presence.ts';

const config = (over: Record<string, unknown> = {}) => {
  const c = structuredClone({ speedtest: { secret: 'secret-secret-secret' }, ...over });
  const validate = addVigieFormats(new Ajv({ useDefaults: true, strict: false })).compile(HttpConfig);
  if (!validate(c)) throw new Error(JSON.stringify(validate.errors));
  return c as unknown as HttpConfig;
};

const stats: CollectorStats = {
  messagesIn: { metrics: 10, status: 2, events: 0 },
  rejected: { malformed_json: 1, topic_mismatch: 3 },
  batchesWritten: 4,
  batchesFailed: 0,
  pointsWritten: 40,
  writeLatency: { buckets: { '0.01': 1, '0.1': 3, '1': 4 }, sum: 0.4, count: 4 },
  queueDepth: { points: 5, walBytes: 1024 },
  backpressure: false,
  acks: 12,
  alertsSent: { webhook: 2 },
};

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(over: Record<string, unknown> = {}, deps: Partial<HttpDeps> = {}) {
  app = await buildHttpServer(
    config(over),
    {
      registry: { schools: () => [], school: () => undefined },
      presence: new StatusPresence(),
      readings: new SchoolReadings(),
      influx: { query: async () => [], ping: async () => false, database: 'x' },
      stats: () => stats,
      ...deps,
    },
    { logger: createLogger('test', 'silent'), speedtest: speedtestPlugin },
  );
  return app;
}

describe('HTTP server', () => {
  it('gives every route a schema with a summary in the OpenAPI document', async () => {
    const a = await build();
    const doc = (await (await a.inject({ url: '/openapi.json' })).json()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, summary: op.summary })),
    );
    expect(ops.length).toBeGreaterThanOrEqual(20);
    for (const op of ops) expect(op.summary, `${op.method} ${op.path}`).toBeTruthy();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/api/stream', '/speedtest/upload', '/']),
    );
  });

  it('lets allowed networks read without a token, and no one else', async () => {
    const a = await build({ auth: { allowNetworks: ['198.18.0.0/15'] } });
    const from = (ip: string) => a.inject({ url: '/api/schools', remoteAddress: ip });
    expect((await from('198.18.3.4')).statusCode).toBe(200);
    const refused = await from('203.0.113.5');
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'a token is required from this network',
    });
  });

  it('takes the client address from X-Forwarded-For only behind a trusted proxy', async () => {
    const a = await build({ auth: { allowNetworks: ['198.18.0.0/15'] }, trustProxy: ['127.0.0.1'] });
    const res = (remoteAddress: string) =>
      a.inject({ url: '/api/schools', remoteAddress, headers: { 'x-forwarded-for': '198.18.0.9' } });
    expect((await res('127.0.0.1')).statusCode).toBe(200);
    expect((await res('203.0.113.1')).statusCode).toBe(401);
  });

  it('throttles wrong tokens by client address, the forwarded one behind a trusted proxy', async () => {
    const READ = 'read-token-0123456789';
    const a = await build({
      trustProxy: ['127.0.0.1'],
      auth: { readTokens: [READ], adminToken: 'admin-token-0123456789', allowNetworks: ['198.18.0.0/15'] },
      authThrottle: { maxFailures: 3, windowS: 60 },
    });
    const from = (client: string, token?: string, method: 'GET' | 'POST' = 'GET') =>
      a.inject({
        method,
        url: method === 'GET' ? '/api/schools' : '/api/silences',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': client, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(method === 'POST' ? { payload: {} } : {}),
      });
    const guesser = '198.18.0.7';
    // No token (the board's first try) and a read token on a write are no guesses.
    for (let i = 0; i < 4; i++) {
      expect((await from('203.0.113.9')).statusCode).toBe(401);
      expect((await from(guesser, READ, 'POST')).statusCode).toBe(403);
    }
    for (let i = 0; i < 3; i++)
      expect((await from(guesser, `wrong-token-${i}-0123456`)).statusCode).toBe(401);
    const locked = await from(guesser, READ);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(55);
    expect(locked.json().message).toMatch(/too many refused tokens from this address/);
    // Another client behind the same proxy, and the guesser's own reads without a token, are unaffected.
    expect((await from('203.0.113.8', READ)).statusCode).toBe(200);
    expect((await from(guesser)).statusCode).toBe(200);
    const families = parsePrometheusText(
      (await a.inject({ url: '/metrics', remoteAddress: '198.18.0.1' })).body,
    );
    expect(sampleValue(families, 'vigie_http_auth_failures_total')).toBe(3);
    expect(sampleValue(families, 'vigie_http_auth_throttled_total')).toBe(1);
  });

  it('refuses at start a connection idle timeout shorter than the query timeout, naming both', async () => {
    await expect(build({ timeouts: { idleS: 20 }, queryTimeoutMs: 30_000 })).rejects.toThrow(
      'http.timeouts.idleS (20 s) must be longer than http.queryTimeoutMs (30000 ms)',
    );
    expect(() => config({ timeouts: { idleS: 10 } })).toThrow(/idleS/);
  });

  it('says what is wrong with a UAI, and answers 404 for a school nobody knows', async () => {
    const a = await build();
    const bad = await a.inject({ url: '/api/schools/0690001A' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toBe('params/uai: wrong UAI check letter in "0690001A": expected B, got A');
    const lower = await a.inject({ url: '/api/schools/0690001b' });
    expect(lower.json().message).toMatch(/params\/uai: .*check letter/);
    const unknown = await a.inject({ url: '/api/schools/0690001B' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/no school 0690001B/);
    const route = await a.inject({ url: '/api/nothing?token=abc' });
    expect(route.statusCode).toBe(404);
    expect(route.json().message).toBe('no route GET /api/nothing');
  });

  it('answers 503 for alerts and silences when alerting is not running, and readyz says why', async () => {
    const a = await build();
    const alerts = await a.inject({ url: '/api/alerts' });
    expect(alerts.statusCode).toBe(503);
    expect(alerts.json().message).toMatch(/alerting is not running/);
    const ready = await a.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, checks: { broker: false, influxdb: false } });
  });

  it("writes the collector's counters as Prometheus text, histogram included", async () => {
    const a = await build();
    const res = await a.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    const families = parsePrometheusText(res.body);
    expect(sampleValue(families, 'vigie_collector_messages_total', { kind: 'metrics' })).toBe(10);
    expect(sampleValue(families, 'vigie_collector_rejected_total', { reason: 'topic_mismatch' })).toBe(3);
    expect(sampleValue(families, 'vigie_collector_alerts_sent_total', { channel: 'webhook' })).toBe(2);
    expect(sampleValue(families, 'vigie_collector_queue_points')).toBe(5);
    expect(sampleValue(families, 'vigie_collector_acks_total')).toBe(12);
    const histogram = families.find((f) => f.name === 'vigie_collector_influx_write_seconds');
    expect(histogram?.type).toBe('HISTOGRAM');
    expect(histogram?.metrics[0]).toMatchObject({
      buckets: { '0.01': '1', '0.1': '3', '1': '4', '+Inf': '4' },
      count: '4',
      sum: '0.4',
    });
    expect(res.body).toMatch(/^vigie_collector_process_resident_memory_bytes \d+/m);
  });

  it('does not serve the speed test without a secret', async () => {
    const a = await build({ speedtest: {} });
    expect((await a.inject({ url: '/speedtest/download?bytes=1' })).statusCode).toBe(404);
  });

  it('serves the board with a strict content security policy and an ETag', async () => {
    const a = await build();
    const page = await a.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.body).toContain('/board/board.js');
    const again = await a.inject({ url: '/', headers: { 'if-none-match': String(page.headers['etag']) } });
    expect(again.statusCode).toBe(304);
    const cfg = await a.inject({ url: '/board/config.json' });
    expect(cfg.json()).toEqual({
      title: 'Vigie',
      language: 'fr',
      pollS: 15,
      thresholds: { lossPct: 10, latencyMs: 200 },
    });
  });

  it('streams a snapshot then the schools that changed, and closes with streams open', async () => {
    const presence = new StatusPresence();
    const a = await build({ maxStreams: 1 }, { presence });
    const url = await a.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${url}/api/stream`);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (re: RegExp) => {
      for (let i = 0; i < 50 && !re.test(text); i++) text += (await reader.read()).value ?? '';
      return re.test(text);
    };
    expect(await until(/event: snapshot\ndata: \{"now":\d+,"counts":/)).toBe(true);
    const second = await fetch(`${url}/api/stream`);
    expect(second.status).toBe(503);
    presence.onStatus(
      { v: 1, uai: '0690001B', agent: 'box', state: 'online', t: 1 },
      { retained: false, receivedAt: 1 },
    );
    expect(await until(/event: schools\ndata: .*"uai":"0690001B".*"state":"online"/)).toBe(true);
    const started = Date.now();
    await a.close();
    app = undefined;
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
