// Which time some data covers, from what InfluxDB keeps: batch times (`batch` in the raw policy, 90
// days) or the 5-minute rollup buckets that hold at least one batch (`batch` in the long policy).
import { type Interval, normalize } from './intervals.ts';

/**
 * Measured time from an agent's batch times (any order, several agents mixed allowed). A batch at t
 * reports the round of [t − intervalMs, t]; two batches at most `maxGapMs` apart (default: the
 * presence rule's 3 intervals, the silence after which a school is declared offline) cover the time
 * between them. A longer silence is not measured unless an outage covers it.
 */
export function measuredFromBatchTimes(
  timesMs: readonly number[],
  opts: { intervalMs: number; maxGapMs?: number },
): Interval[] {
  const maxGapMs = opts.maxGapMs ?? 3 * opts.intervalMs;
  const sorted = [...timesMs].sort((a, b) => a - b);
  const out: Interval[] = [];
  for (const t of sorted) {
    const last = out[out.length - 1];
    if (last && t - last[1] <= maxGapMs) last[1] = Math.max(last[1], t);
    else out.push([t - opts.intervalMs, t]);
  }
  return normalize(out);
}

/** Measured time from rollup buckets holding at least one batch: each bucket [b, b + bucketMs). */
export function measuredFromBuckets(bucketStartsMs: readonly number[], bucketMs: number): Interval[] {
  return normalize(bucketStartsMs.map((b): Interval => [b, b + bucketMs]));
}
