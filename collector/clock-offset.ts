// How far ahead of the collector an agent's clock runs, measured from what arrives: a pure estimator,
// one record per agent. A message cannot arrive before it was sent, so (received − sent) is the
// agent's lag behind the collector plus the transit time; its minimum over recent batches is the best
// guess of the offset (the NTP/Cristian idea, one-way: transit only ever adds). Like RIPE Atlas
// results, batches may carry `lts`, the seconds since the agent's clock was last synchronised: a sync
// since the previous batch means the old observations describe a clock that no longer exists.

/** Correct and flag sample times when |offset| exceeds this (ms): the default `clockDriftMs.warn` (thresholds.ts). */
export const CLOCK_CORRECTION_MS = 2000;
/** Observations older than this (ms, collector clock) are forgotten. */
export const CLOCK_WINDOW_MS = 10 * 60_000;
/** At most this many observations are kept per agent. */
export const CLOCK_MAX_OBSERVATIONS = 16;
/** Two observations in a row this much (ms) above the estimate: the clock was stepped back, not a slow link. */
export const CLOCK_STEP_MS = 5000;
/** A clock behind the collector is trusted once observations span this long (ms) or it is this far behind: a burst the broker queued for the collector looks behind by at most a few intervals. */
export const CLOCK_BEHIND_SPAN_MS = 2 * 60_000;
export const CLOCK_BEHIND_PROOF_MS = 10 * 60_000;

export interface ClockObservation {
  /** Collector clock, ms. */
  receivedAt: number;
  /** Agent clock, ms: the batch's `sentAt`, else its build time `t` (an older agent). */
  sentAt: number;
  /** true when sentAt is a real send time; a build time only proves a clock ahead (the spool may hold it). */
  sendTime: boolean;
  /** Seconds since the agent's clock was last synchronised, when the agent knows. */
  lts?: number;
}

export interface AgentClock {
  /** receivedAt and (receivedAt − sentAt) of recent observations, oldest first. */
  seen: { at: number; lag: number; sendTime: boolean }[];
  /** Estimated offset, ms: agent clock − collector clock (positive = agent ahead). 0 when unknown. */
  aheadMs: number;
  /** aheadMs is trusted and beyond CLOCK_CORRECTION_MS: times of this agent are corrected by it. */
  correctMs: number;
}

export const NO_CLOCK: AgentClock = { seen: [], aheadMs: 0, correctMs: 0 };

/**
 * Adds one observation and re-estimates. Pure: returns a new record. Rules, in order: forget
 * observations older than CLOCK_WINDOW_MS; forget all but the newest when `lts` says the clock was
 * synchronised since the previous observation; forget all but the last two when both sit more than
 * CLOCK_STEP_MS above the minimum (a step back without lts); estimate = −min(lag). An estimate that
 * the clock is behind is used only from real send times, and once it cannot be a queued burst.
 */
export function observeClock(prev: AgentClock | undefined, o: ClockObservation): AgentClock {
  let seen = (prev?.seen ?? []).filter((s) => o.receivedAt - s.at <= CLOCK_WINDOW_MS && s.at <= o.receivedAt);
  const last = seen[seen.length - 1];
  if (o.lts !== undefined && o.lts >= 0 && last && o.lts * 1000 < o.receivedAt - last.at) seen = [];
  seen.push({ at: o.receivedAt, lag: o.receivedAt - o.sentAt, sendTime: o.sendTime });
  if (seen.length > CLOCK_MAX_OBSERVATIONS) seen = seen.slice(-CLOCK_MAX_OBSERVATIONS);
  if (seen.length >= 3) {
    const older = Math.min(...seen.slice(0, -2).map((s) => s.lag));
    if (seen.slice(-2).every((s) => s.lag > older + CLOCK_STEP_MS)) seen = seen.slice(-2);
  }
  const minLag = Math.min(...seen.map((s) => s.lag));
  const aheadMs = -minLag;
  return { seen, aheadMs, correctMs: trusted(seen, aheadMs) ? aheadMs : 0 };
}

/** `t`, stamped by the agent and received at `receivedAt`, proves its clock further ahead than `clock` says. */
export const provesMoreAhead = (clock: AgentClock, t: number, receivedAt: number): boolean =>
  t - receivedAt > CLOCK_CORRECTION_MS && t - receivedAt > clock.correctMs;

function trusted(seen: AgentClock['seen'], aheadMs: number): boolean {
  if (Math.abs(aheadMs) <= CLOCK_CORRECTION_MS) return false;
  // Ahead is proven by any message: it arrived before the agent says it was sent (or built).
  if (aheadMs > 0) return true;
  if (!seen.every((s) => s.sendTime)) return false;
  const span = seen[seen.length - 1]!.at - seen[0]!.at;
  return span >= CLOCK_BEHIND_SPAN_MS || -aheadMs >= CLOCK_BEHIND_PROOF_MS;
}

/** Per-agent clocks, bounded: past `max` agents the oldest record is forgotten (counted). */
export class ClockBook {
  private readonly clocks = new Map<string, AgentClock>();
  forgotten = 0;

  constructor(private readonly max = 100_000) {}

  observe(uai: string, agent: string, o: ClockObservation): AgentClock {
    const key = `${uai}/${agent}`;
    const next = observeClock(this.clocks.get(key), o);
    this.clocks.delete(key);
    this.clocks.set(key, next);
    if (this.clocks.size > this.max) {
      this.clocks.delete(this.clocks.keys().next().value!);
      this.forgotten++;
    }
    return next;
  }

  /**
   * A time `t` (agent clock, ms) the agent stamped on a status or an event received at `receivedAt`
   * (collector clock, ms). Such a time comes before the message's arrival (a will is stamped when its
   * agent connected, a retained birth is replayed long after it was sent), so all it proves is a clock
   * at least t − receivedAt ahead. Recorded only when that proof is beyond CLOCK_CORRECTION_MS and beyond
   * what the book knows (a box booting an hour ahead whose retained birth or will comes before any
   * batch: refused as `clock_future` before), as a build time, which never makes a clock behind trusted.
   * Returns the agent's clock to correct the message by.
   */
  stamped(uai: string, agent: string, t: number, receivedAt: number): AgentClock {
    const known = this.get(uai, agent);
    if (!provesMoreAhead(known, t, receivedAt)) return known;
    return this.observe(uai, agent, { receivedAt, sentAt: t, sendTime: false });
  }

  get(uai: string, agent: string): AgentClock {
    return this.clocks.get(`${uai}/${agent}`) ?? NO_CLOCK;
  }
}
