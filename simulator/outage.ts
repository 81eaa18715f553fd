// When a simulated school loses its link, how, and for how long. Pure: (rng, now, rate) → outage.
import type { Rng } from './random.ts';
import type { LinkState } from './samples.ts';

/**
 * - wan-cut: the ISP link drops; the box keeps measuring (gateway fine, internet 100 % loss), spools
 *   its batches, and replays them with their original timestamps once it can reach the broker again.
 * - power-cut: the box is off: nothing measured, the broker fires its will; it comes back as a new
 *   process (new start time, sequence carried on from its disk spool).
 * - degraded: the link stays up but loses packets and queues (a saturated DSLAM, a bad 4G cell).
 */
export type OutageKind = 'wan-cut' | 'power-cut' | 'degraded';
export const OUTAGE_KINDS: readonly OutageKind[] = ['wan-cut', 'power-cut', 'degraded'];

export interface Outage {
  kind: OutageKind;
  start: number;
  end: number;
  /** For degraded links. */
  extraLossPct?: number;
  latencyFactor?: number;
}

const MINUTE = 60_000;

/**
 * The next outage after `after` for one school, or null when outages are off. Starts follow a
 * Poisson process of `perHour` outages an hour; durations are log-normal (most last minutes, a few
 * hours) and never shorter than three rounds, so a cut always leaves a gap to replay.
 */
export function planOutage(rng: Rng, after: number, perHour: number, intervalMs: number): Outage | null {
  if (!(perHour > 0)) return null;
  const start = after + Math.round(rng.exponential(3_600_000 / perHour));
  const kind = rng.weighted<OutageKind>([
    ['wan-cut', 0.5],
    ['power-cut', 0.2],
    ['degraded', 0.3],
  ]);
  const median = kind === 'degraded' ? 15 * MINUTE : 5 * MINUTE;
  const duration = Math.min(4 * 60 * MINUTE, Math.max(3 * intervalMs, rng.logNormal(median, 0.9)));
  const outage: Outage = { kind, start, end: start + Math.round(duration) };
  if (kind === 'degraded') {
    outage.extraLossPct = Math.round(rng.range(4, 35) * 10) / 10;
    outage.latencyFactor = Math.round(rng.range(1.5, 5) * 100) / 100;
  }
  return outage;
}

/** The link state an agent's round sees at `t`. */
export function linkStateAt(outage: Outage | null, t: number): LinkState {
  if (!outage || t < outage.start || t >= outage.end) return { kind: 'up' };
  if (outage.kind === 'degraded') {
    return {
      kind: 'degraded',
      extraLossPct: outage.extraLossPct ?? 10,
      latencyFactor: outage.latencyFactor ?? 2,
    };
  }
  return { kind: 'wan-cut' };
}
