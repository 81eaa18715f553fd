// Retry pacing shared by the agent's reconnects, the collector's InfluxDB writes and the simulator:
// the delay doubles from min to max, then jitter spreads it so many clients do not retry in step.

export interface Backoff {
  minMs: number;
  maxMs: number;
  /** Spread of the delay: 0.2 draws it in [0.8, 1.2) × the doubled base. */
  jitter: number;
  /** Cap the delay at maxMs jitter included, not only its base. */
  capJittered?: boolean;
}

/** The delay before retry `attempt` (0 for the first); `random` in [0, 1) draws the jitter. */
export function backoffDelayMs(attempt: number, b: Backoff, random: number): number {
  const base = Math.min(b.maxMs, b.minMs * 2 ** Math.min(attempt, 30));
  const delay = base * (1 - b.jitter + 2 * b.jitter * random);
  return Math.round(b.capJittered ? Math.min(b.maxMs, delay) : delay);
}
