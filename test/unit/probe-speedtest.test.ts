import http from 'node:http';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { windowRate } from '../../agent/probes/speedtest.ts';
import { inSchoolHours, speedtestDecision } from '../../agent/probes/speedtest-schedule.ts';
import {
  LIMITS_HEADER,
  parseSpeedtestLimits,
  speedtestPlugin,
  UploadMeter,
} from '../../collector/http/speedtest.ts';
import { waitFor } from '../harness/daemon.ts';

// A profile with the window the probe had before hours profiles (08:30–16:30, no Wednesday): the edges
// below are its own. The default profile's agreement with the alert hours is in speedtest-hours.test.ts.
const CLASS = ['08:30-16:30'];
const config = resolveProbesConfig({
  speedtest: {
    url: 'http://198.18.0.1/speedtest',
    hours: 'class-time',
    profiles: { 'class-time': { mon: CLASS, tue: CLASS, thu: CLASS, fri: CLASS } },
  },
}).speedtest;
// Thursday 2026-11-26, Paris is UTC+1 in November.
const at = (hhmm: string, day = 26) => Date.parse(`2026-11-${day}T${hhmm}:00+01:00`);

describe('school hours', () => {
  it('opens at start, closes at end, and skips days without school', () => {
    const h = config;
    expect(inSchoolHours(at('08:29'), h)).toBe(false);
    expect(inSchoolHours(at('08:30'), h)).toBe(true);
    expect(inSchoolHours(at('16:29'), h)).toBe(true);
    expect(inSchoolHours(at('16:30'), h)).toBe(false);
    expect(inSchoolHours(at('10:00', 25), h)).toBe(false); // Wednesday
    expect(inSchoolHours(at('10:00', 28), h)).toBe(false); // Saturday
  });

  it('follows summer time', () => {
    // 2026-06-04 is a Thursday; Paris is UTC+2: 06:45 UTC is 08:45 local.
    expect(inSchoolHours(Date.parse('2026-06-04T06:45:00Z'), config)).toBe(true);
    expect(inSchoolHours(Date.parse('2026-06-04T06:15:00Z'), config)).toBe(false);
  });
});

describe('speedtestDecision', () => {
  it('runs inside school hours on an idle link', () => {
    expect(speedtestDecision(config, [], at('10:00'), 5)).toEqual({ run: true });
    expect(speedtestDecision(config, [], at('10:00'), undefined)).toEqual({ run: true });
  });

  it('says why it skips', () => {
    expect(speedtestDecision({ ...config, url: undefined }, [], at('10:00'), 0)).toEqual({
      run: false,
      reason: 'no_url',
    });
    expect(speedtestDecision(config, [], at('19:00'), 0)).toMatchObject({ reason: 'outside_hours' });
    expect(speedtestDecision(config, [at('08:40')], at('10:00'), 0)).toMatchObject({ reason: 'too_soon' });
    expect(speedtestDecision(config, [], at('10:00'), 30)).toMatchObject({ reason: 'link_busy' });
    expect(speedtestDecision(config, [], at('10:00'), 29.9)).toEqual({ run: true });
  });

  it('keeps to the daily budget, counting only today', () => {
    const today = [at('08:30'), at('10:31'), at('12:32')];
    expect(speedtestDecision(config, today, at('15:00'), 0)).toMatchObject({ reason: 'daily_budget' });
    const yesterday = [at('08:30', 24), at('10:31', 24), at('12:32', 24)];
    expect(speedtestDecision(config, yesterday, at('15:00'), 0)).toEqual({ run: true });
  });
});

describe('throughput windows', () => {
  it('leaves the warm-up out of the client-side rate', () => {
    // A 2 MB burst in the first 100 ms, then 1 MB/s steady.
    const marks: [number, number][] = [[0, 1000]];
    marks.push([100, 2_000_000]);
    for (let s = 1; s <= 10; s++) marks.push([100 + s * 1000, 2_000_000 + s * 1_000_000]);
    const r = windowRate(marks, 1000);
    expect(r?.bps).toBe(8_000_000);
    expect(r?.bytes).toBe(12_000_000);
    expect(windowRate([[0, 10]], 1000)).toBeUndefined();
  });

  it('leaves the warm-up out of the server-side upload rate', () => {
    let now = 0;
    const meter = new UploadMeter(1000, () => now);
    meter.add(500_000); // burst at t=0
    now = 100;
    meter.add(1_000_000);
    for (let s = 1; s <= 10; s++) {
      now = 1000 * s + 100;
      meter.add(1_000_000);
    }
    expect(meter.result()).toEqual({ bytes: 11_500_000, durationMs: 10_100, bps: 8_000_000 });
  });
});

describe('speed-test server plugin', () => {
  async function app(opts: Parameters<typeof speedtestPlugin>[1] = {}) {
    // The test's client leaves keep-alive sockets behind: close them with the server.
    const a = Fastify({ forceCloseConnections: true });
    await a.register(speedtestPlugin, { prefix: '/speedtest', ...opts });
    return a;
  }

  it('serves exactly the bytes asked, capped at maxBytes', async () => {
    const a = await app({ maxBytes: 100_000 });
    const small = await a.inject({ url: '/speedtest/download?bytes=70000' });
    expect(small.statusCode).toBe(200);
    expect(small.rawPayload.length).toBe(70_000);
    const big = await a.inject({ url: '/speedtest/download?bytes=5000000' });
    expect(big.rawPayload.length).toBe(100_000);
    expect((await a.inject({ url: '/speedtest/download?bytes=-1' })).statusCode).toBe(400);
    await a.close();
  });

  it('counts uploaded bytes and refuses more than maxBytes', async () => {
    const a = await app({ maxBytes: 100_000 });
    const ok = await a.inject({
      method: 'POST',
      url: '/speedtest/upload?warmupMs=0',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(90_000),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().bytes).toBe(90_000);
    const tooBig = await a.inject({
      method: 'POST',
      url: '/speedtest/upload',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(200_000),
    });
    expect(tooBig.statusCode).toBe(413);
    await a.close();
  });

  it('asks the authorize hook before moving a byte', async () => {
    const seen: string[] = [];
    const a = await app({
      authorize: (req) => {
        seen.push(req.url);
        return req.headers.authorization === 'Bearer good';
      },
    });
    const denied = await a.inject({ url: '/speedtest/download?bytes=10' });
    expect(denied.statusCode).toBe(401);
    const allowed = await a.inject({
      url: '/speedtest/download?bytes=10',
      headers: { authorization: 'Bearer good' },
    });
    expect(allowed.statusCode).toBe(200);
    expect(seen).toHaveLength(2);
    await a.close();
  });

  it('frees a concurrency slot when a transfer ends', async () => {
    const a = await app({ maxConcurrent: 1 });
    for (let i = 0; i < 3; i++) {
      expect((await a.inject({ url: '/speedtest/download?bytes=1000' })).statusCode).toBe(200);
    }
    await a.close();
  });

  it('answers 503 past maxConcurrent while a transfer is in flight', async () => {
    const a = await app({ maxConcurrent: 1, maxBytes: 50 * 1024 * 1024 });
    const url = await a.listen({ host: '127.0.0.1', port: 0 });
    const abort = new AbortController();
    const first = await fetch(`${url}/speedtest/download?bytes=${50 * 1024 * 1024}`, {
      signal: abort.signal,
    });
    const reader = first.body!.getReader();
    await reader.read();
    const second = await fetch(`${url}/speedtest/download?bytes=10`);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('60');
    abort.abort();
    await reader.cancel().catch(() => {});
    // The aborted transfer gives its slot back.
    await waitFor(
      'slot freed',
      async () => (await fetch(`${url}/speedtest/download?bytes=10`)).status === 200,
      5000,
    );
    await a.close();
  });

  it('gives back the slot of a client that left while its request was being authorized', async () => {
    let leave: (() => void) | undefined;
    const a = await app({
      maxConcurrent: 1,
      // The first request: its client leaves, and it is authorized once the server has seen that.
      authorize: (request) => {
        if (!leave) return true;
        const left = new Promise<boolean>((resolve) => request.raw.socket.once('close', () => resolve(true)));
        leave();
        leave = undefined;
        return left;
      },
    });
    const url = new URL(await a.listen({ host: '127.0.0.1', port: 0 }));
    const gone = http.get({
      host: url.hostname,
      port: url.port,
      path: '/speedtest/download?bytes=10',
      agent: false,
    });
    gone.on('error', () => {});
    leave = () => gone.destroy();
    await new Promise((resolve) => gone.once('close', resolve));
    await waitFor('the first request authorized', async () => leave === undefined);
    await waitFor(
      'the slot given back',
      async () => (await fetch(`${url.origin}/speedtest/download?bytes=10`)).status === 200,
      2000,
    );
    await a.close();
  });

  it('cuts a chunked upload that passes maxBytes with 413, and closes its connection', async () => {
    const a = await app({ maxBytes: 100_000 });
    const url = new URL(await a.listen({ host: '127.0.0.1', port: 0 }));
    const answer = await new Promise<{ status: number; connection?: string; closed: Promise<void> }>(
      (resolve, reject) => {
        const req = http.request(
          { host: url.hostname, port: url.port, path: '/speedtest/upload', method: 'POST', agent: false },
          (res) => {
            res.resume();
            resolve({
              status: res.statusCode ?? 0,
              connection: res.headers.connection,
              closed: new Promise((done) => req.socket?.once('close', () => done())),
            });
          },
        );
        req.setHeader('content-type', 'application/octet-stream');
        req.setHeader('transfer-encoding', 'chunked');
        req.on('error', reject);
        // 16 kB at a time, as long as the server reads: no length announced, the count must cut it.
        const block = Buffer.alloc(16 * 1024, 3);
        const pump = () => {
          while (!req.destroyed && req.write(block));
          if (!req.destroyed) req.once('drain', pump);
        };
        pump();
        req.once('response', () => req.destroy());
      },
    );
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
    await answer.closed;
    await a.close();
  });

  it('says its limits on every answer, in a header an agent can parse', async () => {
    const a = await app({ maxBytes: 100_000, maxPerClient: 1, idleTimeoutMs: 1500, totalTimeoutMs: 30_000 });
    const res = await a.inject({ url: '/speedtest/download?bytes=10' });
    expect(res.headers[LIMITS_HEADER]).toBe('max-bytes=100000, idle-s=2, total-s=30, per-client=1');
    expect(parseSpeedtestLimits(String(res.headers[LIMITS_HEADER]))).toEqual({
      'max-bytes': 100_000,
      'idle-s': 2,
      'total-s': 30,
      'per-client': 1,
    });
    expect(parseSpeedtestLimits('max-bytes=12, broken, x=1.5, =3')).toEqual({ 'max-bytes': 12 });
    expect(parseSpeedtestLimits(undefined)).toEqual({});
    await a.close();
  });
});
