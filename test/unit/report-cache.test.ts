// GET /api/report's cache (collector/http/report-cache.ts): identical requests share one computation,
// a different report waits its turn (busy), answers are served again until they expire, errors are
// not kept.
import { describe, expect, it } from 'vitest';
import { reportCache } from '../../collector/http/report-cache.ts';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('report cache', () => {
  it('computes identical concurrent requests once and serves the answer again', async () => {
    const calls: string[] = [];
    const gate = deferred<{ key: string }>();
    const cache = reportCache({
      compute: async (key) => {
        calls.push(key);
        return gate.promise;
      },
    });
    const a = cache.get('2025-2026');
    const b = cache.get('2025-2026');
    gate.resolve({ key: '2025-2026' });
    const [ra, rb] = await Promise.all([a, b]);
    expect(calls).toEqual(['2025-2026']);
    expect(ra).toEqual({ status: 'ok', value: { key: '2025-2026' }, cached: false });
    expect(rb).toMatchObject({ status: 'ok', cached: true });
    expect(await cache.get('2025-2026')).toMatchObject({ status: 'ok', cached: true });
    expect(calls).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ computed: 1, hits: 2, busy: 0, entries: 1 });
  });

  it('tells a different report to retry while one is being computed, then computes it', async () => {
    const gate = deferred<{ n: number }>();
    const cache = reportCache({ compute: async (key) => (key === 'slow' ? gate.promise : { n: 2 }) });
    const slow = cache.get('slow');
    const other = await cache.get('other');
    expect(other.status).toBe('busy');
    if (other.status === 'busy') expect(other.retryAfterS).toBeGreaterThan(0);
    gate.resolve({ n: 1 });
    expect(await slow).toMatchObject({ status: 'ok', value: { n: 1 } });
    expect(await cache.get('other')).toMatchObject({ status: 'ok', value: { n: 2 }, cached: false });
  });

  it('keeps no failed computation and frees its slot', async () => {
    let fail = true;
    const cache = reportCache({
      compute: async () => {
        if (fail) throw new Error('InfluxDB did not answer');
        return { ok: true };
      },
    });
    await expect(cache.get('k')).rejects.toThrow('InfluxDB did not answer');
    fail = false;
    expect(await cache.get('k')).toMatchObject({ status: 'ok', value: { ok: true }, cached: false });
    expect(cache.stats().inFlight).toBe(0);
  });

  it('computes again once an answer has expired, and keeps at most maxEntries', async () => {
    let n = 0;
    const cache = reportCache({ compute: async () => ({ n: ++n }), ttlMs: 1, maxEntries: 2 });
    await cache.get('a');
    const start = performance.now();
    while (performance.now() - start < 5) await new Promise((r) => setImmediate(r));
    expect(await cache.get('a')).toMatchObject({ value: { n: 2 }, cached: false });
    await cache.get('b');
    await cache.get('c');
    expect(cache.stats().entries).toBeLessThanOrEqual(2);
  });
});
