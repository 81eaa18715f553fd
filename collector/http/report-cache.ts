// GET /api/report costs seconds of InfluxDB and of CPU for a school year: a wall screen or a dashboard
// refreshing it, or a few officials opening the board's link at once, must not compute it again and
// again nor several at a time. Answers are kept a few minutes (the JSON's `asOf` says when they were
// computed), identical requests in flight share one computation (lru-cache's fetch), and at most
// `maxConcurrent` different reports are computed at once: past that the caller is told to retry.
import { LRUCache } from 'lru-cache';

export interface ReportCacheOptions<T> {
  compute(key: string): Promise<T>;
  /** How many answers are kept (least recently used dropped first). */
  maxEntries?: number;
  /** How long an answer is served again, ms. */
  ttlMs?: number;
  /** Different reports computed at the same time. */
  maxConcurrent?: number;
  /** What a caller refused for `maxConcurrent` is told to wait, s. Default 30. */
  retryAfterS?: number;
}

export type CacheAnswer<T> =
  | { status: 'ok'; value: T; cached: boolean }
  /** Too many different reports in progress: retry after this many seconds. */
  | { status: 'busy'; retryAfterS: number };

export const REPORT_CACHE_DEFAULTS = { maxEntries: 32, ttlMs: 5 * 60_000, maxConcurrent: 1 };

/**
 * A bounded, coalescing cache of computed reports.
 * @returns get(key): the answer, from the cache or computed now (`busy` when `maxConcurrent` other
 *   keys are being computed); a computation's error is thrown to every caller waiting on it and not
 *   kept. `stats()` counts hits, computations and refusals.
 */
export function reportCache<T extends object>(opts: ReportCacheOptions<T>) {
  const maxConcurrent = opts.maxConcurrent ?? REPORT_CACHE_DEFAULTS.maxConcurrent;
  const inFlight = new Set<string>();
  const stats = { hits: 0, computed: 0, busy: 0 };
  const cache = new LRUCache<string, T>({
    max: opts.maxEntries ?? REPORT_CACHE_DEFAULTS.maxEntries,
    ttl: opts.ttlMs ?? REPORT_CACHE_DEFAULTS.ttlMs,
    fetchMethod: async (key) => {
      inFlight.add(key);
      stats.computed++;
      try {
        return await opts.compute(key);
      } finally {
        inFlight.delete(key);
      }
    },
  });
  // A school year of 1,000 schools takes about 20 s to compute (bench/report): ask again after 30 s.
  const retryAfterS = opts.retryAfterS ?? 30;
  return {
    async get(key: string): Promise<CacheAnswer<T>> {
      const kept = cache.get(key);
      if (kept !== undefined) {
        stats.hits++;
        return { status: 'ok', value: kept, cached: true };
      }
      if (!inFlight.has(key) && inFlight.size >= maxConcurrent) {
        stats.busy++;
        return { status: 'busy', retryAfterS };
      }
      const joining = inFlight.has(key);
      const value = await cache.fetch(key, { allowStaleOnFetchRejection: false });
      if (value === undefined) throw new Error(`report ${key}: computation gave nothing`);
      if (joining) stats.hits++;
      return { status: 'ok', value, cached: joining };
    },
    stats: () => ({ ...stats, entries: cache.size, inFlight: inFlight.size }),
  };
}
