// An outage point is stamped with its start and written when it ends. InfluxDB refuses a point
// older than the raw policy's retention ("partial write: points beyond retention policy dropped=1"),
// and a point just inside it may sit in a shard dropped before the outage rollup copies it
// (collector/retention.ts): an outage longer than the raw retention (90 days by default) would be
// lost, and it is the one the yearly figures need most (issue 15). Such an outage goes straight to
// the long policy, in the shape the rollup gives it: its tags and fields unchanged (the rollup takes
// first() of each), stamped at the rollup interval's bucket of its start.
import type { RetentionConfig } from './config.ts';
import type { Point } from './point.ts';
import { durationMs, rawPolicyStartMs } from './retention.ts';
import { COLLECTOR_MEASUREMENTS } from './schema.ts';

/**
 * A retention duration as the config writes it (`90d`, `5m`, `INF`; collector/config.ts's pattern)
 * in ms; INF is Infinity (kept for ever).
 * @throws RangeError for any other text
 */
export function policyDurationMs(text: string): number {
  try {
    return durationMs(text);
  } catch {
    throw new RangeError(`retention: "${text}" is not a duration such as 90d, 5m or INF`);
  }
}

/** Margin over a shard: the outage rollup runs every 30 minutes (collector/retention.ts). */
const ROLLUP_MARGIN_MS = 3_600_000;

/**
 * The oldest start an outage point may have to be written to the raw policy (ms): now − raw duration
 * + one raw shard (InfluxDB drops a shard at a time) + an hour for the rollup to copy it. −Infinity
 * when the raw policy keeps points for ever.
 */
export function rawOutageEdgeMs(retention: RetentionConfig, nowMs: number): number {
  return rawPolicyStartMs(retention, nowMs) + ROLLUP_MARGIN_MS;
}

/**
 * The long-policy copy of an outage point too old for the raw policy, or null when the point is not
 * an outage or the raw policy can take it. Same measurement, tags and fields; time = start floored
 * to the rollup interval (`GROUP BY time(interval)` of the rollup), so a later rollup run overwrites
 * it with the same values instead of adding a second point.
 */
export function longPolicyOutage(point: Point, retention: RetentionConfig, nowMs: number): Point | null {
  if (point.measurement !== COLLECTOR_MEASUREMENTS.outage.measurement) return null;
  if (point.time >= rawOutageEdgeMs(retention, nowMs)) return null;
  const bucket = policyDurationMs(retention.rollup.interval);
  return { ...point, time: Math.floor(point.time / bucket) * bucket };
}
