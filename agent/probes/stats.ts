// Round-trip statistics of one ping round: pure maths, unit-tested.

/** Percentile by linear interpolation between closest ranks (the R-7 / Excel / NumPy default). */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * Jitter as RFC 3550 means it (interarrival jitter, §6.4.1), but as the plain mean of |D| over
 * consecutive RTT pairs instead of the 1/16 running estimator: a round is only ~10 echoes, too few
 * for the estimator to settle, and the mean is what ping tools such as mtr and Smokeping call jitter.
 * RTTs must be in the order the echoes were sent.
 */
export function meanAbsoluteJitter(rtts: readonly number[]): number | undefined {
  if (rtts.length < 2) return undefined;
  let sum = 0;
  for (let i = 1; i < rtts.length; i++) sum += Math.abs(rtts[i]! - rtts[i - 1]!);
  return sum / (rtts.length - 1);
}

export interface RttSummary {
  minMs: number;
  avgMs: number;
  maxMs: number;
  medianMs: number;
  p95Ms: number;
  jitterMs?: number;
}

/** Undefined when no echo came back: a round with 100 % loss has no RTT figures. */
export function summarizeRtts(rtts: readonly number[]): RttSummary | undefined {
  if (rtts.length === 0) return undefined;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const jitter = meanAbsoluteJitter(rtts);
  return {
    minMs: round(Math.min(...rtts)),
    avgMs: round(rtts.reduce((a, b) => a + b, 0) / rtts.length),
    maxMs: round(Math.max(...rtts)),
    medianMs: round(percentile(rtts, 50)!),
    p95Ms: round(percentile(rtts, 95)!),
    ...(jitter === undefined ? {} : { jitterMs: round(jitter) }),
  };
}

/** Loss in percent, 100 when nothing was sent (the round never started: unknown host, no route). */
export function lossPct(sent: number, received: number): number {
  if (sent <= 0) return 100;
  return Math.round(((sent - Math.min(received, sent)) / sent) * 100_000) / 1000;
}
