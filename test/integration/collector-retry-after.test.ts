// InfluxDB overloaded: 503 or 429 with Retry-After. InfluxDB 1.6 itself never sends the header, so a
// small real HTTP server in this file stands in for it (or for the proxy in front of it) and counts
// the requests it gets; the writer and the restart rebuild must not come back before they are told.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { holdUntilRebuilt } from '../../collector/alerts/restart.ts';
import { InfluxHttp, InfluxQueryError } from '../../collector/influx-http.ts';
import { Shipper } from '../../collector/shipper.ts';
import { WriteAheadLog } from '../../collector/wal.ts';
import { createLogger } from '../../shared/log.ts';
import { tempDir } from '../harness/daemon.ts';

interface Overloaded {
  url: string;
  /** When each request came, by path (/write or /query). */
  requests: { at: number; path: string }[];
  close(): Promise<void>;
}

/**
 * Answers `status` with the Retry-After that `retryAfter(now)` gives for the first `busyFor` ms after the
 * first request (every request then gets it), then 204 to writes and an empty result to queries.
 */
async function overloaded(status: 503 | 429, busyFor: number, retryAfter: (until: number) => string) {
  const requests: { at: number; path: string }[] = [];
  let until = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const at = Date.now();
      const path = (req.url ?? '').split('?')[0]!;
      requests.push({ at, path });
      if (until === 0) until = at + busyFor;
      if (at < until) {
        res
          .writeHead(status, { 'content-type': 'application/json', 'retry-after': retryAfter(until) })
          .end(JSON.stringify({ error: 'overloaded' }));
        return;
      }
      if (path === '/write') res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies Overloaded;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real writer (WAL, shipper, InfluxHttp) with a fast backoff: only Retry-After can slow it down. */
function writer(url: string, batches: number, concurrency: number) {
  const wal = new WriteAheadLog({ dir: tempDir('retry-after'), segmentBytes: 1 << 20, fsyncMs: 50 });
  const http = new InfluxHttp({ url, database: 'vigie', gzip: false, timeoutMs: 5000 });
  const shipper = new Shipper({
    wal,
    sink: http,
    options: {
      batchPoints: 2,
      batchBytes: 1 << 20,
      flushMs: 10,
      concurrency,
      retryMinMs: 10,
      retryMaxMs: 50,
      urgentBytes: 1 << 30,
    },
    log: createLogger('test', 'silent'),
    onRejected: () => {},
  });
  cleanups.push(async () => {
    shipper.stop();
    wal.close();
    await http.close();
  });
  for (let i = 0; i < batches; i++) {
    wal.append(Buffer.from(`m v=${2 * i} ${i}\nm v=${2 * i + 1} ${i}\n`));
    shipper.appended(2);
  }
  shipper.pump(true);
  return shipper;
}

describe('Retry-After from an overloaded InfluxDB', () => {
  it('503 with Retry-After in seconds: the writes in flight wait it out together, then everything is written', async () => {
    const server = await overloaded(503, 2000, (until) => String(Math.ceil((until - Date.now()) / 1000)));
    cleanups.push(server.close);
    const shipper = writer(server.url, 4, 2);
    await shipper.drained();
    const first = server.requests[0]!.at;
    const during = server.requests.filter((r) => r.at < first + 2000);
    // Only the writes already on their way when the first 503 came; the backoff alone would retry every 10–50 ms.
    expect(during.length).toBeLessThanOrEqual(2);
    expect(shipper.stats.pointsWritten).toBe(8);
    expect(server.requests.every((r) => r.path === '/write')).toBe(true);
  });

  it('429 with Retry-After as an HTTP-date: not one write before that date', async () => {
    // The date has whole seconds: 3 s ahead is at least 2 s of quiet.
    let date = '';
    const server = await overloaded(429, 1, () => {
      date ||= new Date(Date.now() + 3000).toUTCString();
      return date;
    });
    cleanups.push(server.close);
    const shipper = writer(server.url, 1, 1);
    await shipper.drained();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at).toBeGreaterThanOrEqual(Date.parse(date) - 5);
    expect(shipper.stats.pointsWritten).toBe(2);
  });

  it('a query answered 503 with Retry-After: the restart rebuild asks again only after it', async () => {
    const server = await overloaded(503, 1, () => '2');
    cleanups.push(server.close);
    const http = new InfluxHttp({ url: server.url, database: 'vigie', gzip: false, timeoutMs: 5000 });
    cleanups.push(() => http.close());
    const err = await http.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxQueryError);
    expect(err).toMatchObject({ kind: 'unreachable', status: 503, retryAfterMs: 2000 });

    const server2 = await overloaded(503, 1, () => '2');
    cleanups.push(server2.close);
    const http2 = new InfluxHttp({ url: server2.url, database: 'vigie', gzip: false, timeoutMs: 5000 });
    cleanups.push(() => http2.close());
    const hold = holdUntilRebuilt({
      read: async () => {
        await http2.query('SELECT 1');
        return { presence: { agents: [], schools: [] }, paged: [] };
      },
      holdMs: 60_000,
      retryMinMs: 10,
      retryMaxMs: 50,
      log: createLogger('test', 'silent'),
      apply() {},
    });
    cleanups.push(() => hold.stop());
    await hold.ready;
    expect(server2.requests).toHaveLength(2);
    expect(server2.requests[1]!.at - server2.requests[0]!.at).toBeGreaterThanOrEqual(1990);
  });
});
