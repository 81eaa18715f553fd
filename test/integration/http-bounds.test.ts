// One school or client cannot starve the others through the collector's HTTP server: the real
// collector (its own process, its config file, the embedded broker, the real InfluxDB) and raw TCP
// sockets that stall, trickle or lie about their length. Timeouts are set small through the config;
// every wait is on a socket event or a condition, with a bound of twice the budget.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speedtestToken } from '../../collector/http/auth.ts';
import { LIMITS_HEADER, parseSpeedtestLimits } from '../../collector/http/speedtest.ts';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { freePort, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { parsePrometheusText, sampleValue } from '../harness/prometheus-text.ts';

const READ = 'read-token-for-bounds-0001';
const ADMIN = 'admin-token-for-bounds-0001';
const SECRET = 'speedtest-secret-for-bounds';
const IDLE_MS = 2000;
const TOTAL_MS = 5000;
const BODY_MS = 2000;
const HEADERS_MS = 2000;
const MAX_BYTES = 64 * 1024 * 1024;
const uai = (digits: string) => `${digits}${uaiCheckLetter(digits)}`;
const token = (digits: string) => speedtestToken(SECRET, uai(digits));

let influx: InfluxHandle;
let proc: CollectorProcess;
let port: number;

beforeAll(async () => {
  influx = await startInfluxdb();
  port = await freePort();
  proc = collectorProcess({
    influxUrl: influx.url,
    database: 'bounds',
    extra: {
      http: {
        enabled: true,
        host: '127.0.0.1',
        port,
        logRequests: true,
        auth: { readTokens: [READ], adminToken: ADMIN, allowNetworks: [] },
        timeouts: { headersS: HEADERS_MS / 1000, bodyS: BODY_MS / 1000, idleS: 30 },
        authThrottle: { maxFailures: 5, windowS: 60 },
        speedtest: {
          secret: SECRET,
          perSchoolMax: 1000,
          maxConcurrent: 4,
          perSchoolConcurrent: 2,
          idleS: IDLE_MS / 1000,
          totalS: TOTAL_MS / 1000,
          maxBytes: MAX_BYTES,
        },
      },
    },
  });
  await proc.daemon.start();
  await waitFor('the collector HTTP server', async () => (await fetch(`${base()}/healthz`)).ok);
}, 60_000);

afterAll(async () => {
  await proc?.daemon.dispose();
  await influx?.daemon.dispose();
});

const base = () => `http://127.0.0.1:${port}`;
const log = () => readFileSync(join(proc.dir, 'collector.log'), 'utf8');
const logLines = (...parts: string[]) =>
  log()
    .split('\n')
    .filter((l) => parts.every((p) => l.includes(p)));

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${base()}/metrics`, { headers: { authorization: `Bearer ${READ}` } });
  return sampleValue(parsePrometheusText(await res.text()), name, labels) ?? 0;
}

/** Rejects naming `what` if `p` has not settled within ms: a bound, not a wait. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

/** One HTTP/1.1 exchange written by hand on a raw socket, so it can stall, trickle or lie. */
class RawExchange {
  readonly socket: Socket;
  readonly openedAt = performance.now();
  received = Buffer.alloc(0);
  private headEnd = -1;
  private trickle: NodeJS.Timeout | undefined;
  /** The response's status code, once its head arrived. */
  readonly status: Promise<number>;
  /** Ms from opening until the server closed the connection. */
  readonly closed: Promise<number>;

  constructor(head: string, opts: { localAddress?: string; keepHead?: boolean } = {}) {
    this.socket = connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    this.socket.on('error', () => {}); // a reset after the answer is the server closing: `closed` says so
    this.status = new Promise((resolve) => {
      const onData = (chunk: Buffer) => {
        if (!opts.keepHead || this.headEnd < 0) this.received = Buffer.concat([this.received, chunk]);
        if (this.headEnd < 0) {
          this.headEnd = this.received.indexOf('\r\n\r\n');
          if (this.headEnd >= 0) resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(this.text())?.[1]));
        }
      };
      this.socket.on('data', onData);
    });
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        clearInterval(this.trickle);
        resolve(performance.now() - this.openedAt);
      }),
    );
    this.socket.write(head);
  }

  text(): string {
    return this.received.toString('latin1');
  }

  get answered(): boolean {
    return this.headEnd >= 0;
  }

  header(name: string): string | undefined {
    const head = this.text().slice(0, Math.max(0, this.headEnd));
    return new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1]?.trim();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** One byte every `everyMs`: never idle, never done. */
  startTrickle(everyMs: number): void {
    this.trickle = setInterval(() => this.socket.write('x'), everyMs);
  }

  close(): void {
    clearInterval(this.trickle);
    this.socket.destroy();
  }
}

const uploadHead = (tok: string, length: number, tag: string) =>
  `POST /speedtest/upload?warmupMs=0&tag=${tag} HTTP/1.1\r\nHost: vigie\r\nAuthorization: Bearer ${tok}\r\n` +
  `Content-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;
const downloadHead = (tok: string, bytes: number) =>
  `GET /speedtest/download?bytes=${bytes} HTTP/1.1\r\nHost: vigie\r\nAuthorization: Bearer ${tok}\r\n\r\n`;

async function upload(tok: string, bytes: number) {
  return fetch(`${base()}/speedtest/upload?warmupMs=0`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(bytes, 7),
  });
}

/** Requests with `tag` the collector has logged as arriving. */
const arrived = (tag: string) => logLines('incoming request', `tag=${tag}`).length;

describe('speed test: one school cannot starve the others', () => {
  it("serves another school while one school's four uploads stall after 10 kB", async () => {
    const a = token('0691001');
    const stalled = [1, 2, 3, 4].map((i) => {
      const x = new RawExchange(uploadHead(a, 1024 * 1024, `starve${i}`));
      x.write(Buffer.alloc(10 * 1024, 1));
      return x;
    });
    try {
      await waitFor(
        'the four uploads of school A at the collector',
        async () => arrived('starve') === 4,
        10_000,
      );
      const b = await upload(token('0691002'), 256 * 1024);
      expect(b.status, 'school B while A stalls').toBe(200);
      expect(((await b.json()) as { bytes: number }).bytes).toBe(256 * 1024);
      // School A holds at most perSchoolConcurrent (2) slots: its other two uploads were refused at once.
      const refused = stalled.filter((x) => x.answered);
      expect(refused).toHaveLength(2);
      for (const x of refused) {
        expect(await x.status).toBe(429);
        expect(Number(x.header('retry-after'))).toBe(TOTAL_MS / 1000);
        expect(x.text()).toMatch(/2 speed tests of this client are already running \(at most 2 at once\)/);
      }
      expect(await metric('vigie_http_speedtest_refused_total', { reason: 'client_busy' })).toBe(2);
    } finally {
      for (const x of stalled) x.close();
    }
  });

  it('cuts a stalled upload after the idle timeout and a trickling one after the total, freeing their slots', async () => {
    const c = token('0691003');
    const stalled = new RawExchange(uploadHead(c, 1024 * 1024, 'idle1'));
    stalled.write(Buffer.alloc(10 * 1024, 1));
    const trickling = new RawExchange(uploadHead(c, 1024 * 1024, 'total1'));
    trickling.write(Buffer.alloc(10 * 1024, 1));
    trickling.startTrickle(200);
    await waitFor(
      'both uploads of school C at the collector',
      async () => arrived('idle1') + arrived('total1') === 2,
    );
    // Both of C's slots are taken...
    const third = await upload(c, 1024);
    expect(third.status).toBe(429);

    const idleAfter = await within(stalled.closed, 2 * IDLE_MS + 1000, 'stalled upload cut');
    expect(await stalled.status).toBe(408);
    expect(stalled.text()).toMatch(/no byte moved for 2 s/);
    expect(idleAfter).toBeGreaterThanOrEqual(IDLE_MS * 0.9);
    expect(idleAfter).toBeLessThan(2 * IDLE_MS);

    const totalAfter = await within(trickling.closed, 2 * TOTAL_MS, 'trickling upload cut');
    expect(await trickling.status).toBe(408);
    expect(trickling.text()).toMatch(/ran longer than 5 s/);
    expect(totalAfter).toBeGreaterThanOrEqual(TOTAL_MS * 0.9);
    expect(totalAfter).toBeLessThan(2 * TOTAL_MS);

    // ...and freed: C tests again.
    const again = await upload(c, 64 * 1024);
    expect(again.status).toBe(200);
    expect(await metric('vigie_http_speedtest_cut_total', { reason: 'idle' })).toBeGreaterThanOrEqual(1);
    expect(await metric('vigie_http_speedtest_cut_total', { reason: 'total' })).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('cuts a download whose reader stopped reading, and frees its slot', async () => {
    const d = token('0691004');
    const before = await metric('vigie_http_speedtest_cut_total', { reason: 'idle' });
    const readers = [new RawExchange(downloadHead(d, MAX_BYTES), { keepHead: true })];
    readers.push(new RawExchange(downloadHead(d, MAX_BYTES), { keepHead: true }));
    await Promise.all(readers.map((r) => within(r.status, 5000, 'download answer')));
    for (const r of readers) {
      expect(await r.status).toBe(200);
      r.socket.pause(); // the reader stops reading: buffers fill and the server's writes stop
    }
    expect((await upload(d, 1024)).status, 'both slots of D held').toBe(429);
    await waitFor(
      'both stalled downloads cut',
      async () => (await metric('vigie_http_speedtest_cut_total', { reason: 'idle' })) >= before + 2,
      2 * (IDLE_MS + 1000),
    );
    for (const r of readers) {
      r.socket.resume();
      await within(r.closed, 5000, 'cut download closed');
    }
    expect((await upload(d, 1024)).status).toBe(200);
    expect(parseSpeedtestLimits(readers[0]!.header(LIMITS_HEADER))).toEqual({
      'max-bytes': MAX_BYTES,
      'idle-s': IDLE_MS / 1000,
      'total-s': TOTAL_MS / 1000,
      'per-client': 2,
      concurrent: 4,
    });
  }, 30_000);

  it('answers 413 at once to an upload declaring more than maxBytes, before any body byte', async () => {
    const e = token('0691005');
    const big = new RawExchange(uploadHead(e, 200 * 1000 * 1000, 'big1'));
    try {
      expect(await within(big.status, 2000, '413 for a 200 MB Content-Length')).toBe(413);
      expect(big.header('connection')).toBe('close');
      expect(big.text()).toMatch(
        /an upload of 200000000 bytes is larger than this server accepts \(67108864 bytes\)/,
      );
      expect(parseSpeedtestLimits(big.header(LIMITS_HEADER))['max-bytes']).toBe(MAX_BYTES);
      await within(big.closed, 2000, 'connection closed after 413');
    } finally {
      big.close();
    }
    expect(await metric('vigie_http_speedtest_refused_total', { reason: 'too_large' })).toBe(1);
  });
});

describe('slow clients on every route', () => {
  const silence = JSON.stringify({
    scope: { uai: [uai('0691001')] },
    startsAt: '2030-01-01T00:00:00Z',
    endsAt: '2030-01-02T00:00:00Z',
    comment: 'slow',
    createdBy: 'noc',
  });
  const silenceHead = (tok: string) =>
    `POST /api/silences HTTP/1.1\r\nHost: vigie\r\nAuthorization: Bearer ${tok}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(silence)}\r\n\r\n`;

  it('cuts a body sent one byte at a time, even with the admin token', async () => {
    const fast = await fetch(`${base()}/api/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: silence,
    });
    expect(fast.status).toBe(201);

    const slow = new RawExchange(silenceHead(ADMIN));
    let sent = 0;
    const drip = setInterval(() => slow.write(silence[sent++] ?? ' '), 200);
    try {
      const after = await within(slow.closed, 2 * BODY_MS + 1000, 'slow body cut');
      expect(await slow.status).toBe(408);
      expect(slow.text()).toMatch(/request body not received within 2 s/);
      expect(after).toBeLessThan(2 * BODY_MS);
    } finally {
      clearInterval(drip);
    }
    expect(await metric('vigie_http_body_timeouts_total', { route: '/api/silences' })).toBe(1);
  });

  it('closes at once a connection whose body trickles after a refused token', async () => {
    const slow = new RawExchange(silenceHead('not-the-admin-token-at-all'), { localAddress: '127.0.0.5' });
    slow.startTrickle(200);
    expect(await within(slow.status, 2000, '401')).toBe(401);
    expect(await within(slow.closed, 2000, 'connection closed after the 401')).toBeLessThan(2000);
  });

  it('cuts a client that sends its headers one line at a time', async () => {
    const slow = new RawExchange('GET /api/schools HTTP/1.1\r\nHost: vigie\r\n');
    let n = 0;
    const drip = setInterval(() => slow.write(`X-Slow-${n++}: 1\r\n`), 200);
    try {
      const after = await within(slow.closed, 2 * HEADERS_MS + 1000, 'slow headers cut');
      expect(await slow.status).toBe(408);
      expect(after).toBeLessThan(2 * HEADERS_MS);
    } finally {
      clearInterval(drip);
    }
  });
});

describe('failed logins', () => {
  /** GET over a fresh connection from a given loopback address. */
  function getFrom(localAddress: string, path: string, tok: string) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
      (resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path,
            localAddress,
            agent: false,
            headers: { authorization: `Bearer ${tok}` },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
  }

  it('answers 429 with Retry-After after 5 wrong tokens from one address, and lets another address in', async () => {
    const guesser = '127.0.0.3';
    const failuresBefore = await metric('vigie_http_auth_failures_total');
    for (let i = 0; i < 5; i++) {
      const wrong = await getFrom(guesser, '/api/schools', `wrong-token-number-${i}-xxxxxxxx`);
      expect(wrong.status, `guess ${i + 1}`).toBe(401);
    }
    const locked = await getFrom(guesser, '/api/schools', READ);
    expect(locked.status).toBe(429);
    const retry = Number(locked.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(JSON.parse(locked.body).message).toMatch(
      /too many refused tokens from this address: retry in \d+ s/,
    );
    // The speed test shares the throttle: a school token from the guesser is refused too.
    expect((await getFrom(guesser, '/speedtest/download?bytes=1', token('0691006'))).status).toBe(429);

    const other = await getFrom('127.0.0.4', '/api/schools', READ);
    expect(other.status).toBe(200);
    expect((await getFrom('127.0.0.4', '/speedtest/download?bytes=1', token('0691006'))).status).toBe(200);

    expect(await metric('vigie_http_auth_failures_total')).toBe(failuresBefore + 5);
    expect(await metric('vigie_http_auth_throttled_total')).toBe(2);
    expect(logLines('too many wrong tokens from this address', guesser)).toHaveLength(1);
  });
});
