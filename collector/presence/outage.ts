// Classifying a finished outage from the samples the agent spooled during it and replays on return.
import type { Sample } from '../../shared/schemas.ts';
import { healthOfSamples, type RoundHealth } from './health.ts';

export type OutageCause = 'wan_cut' | 'power_or_box' | 'unknown';

export interface OutageEvidence {
  /** Rounds, inside the outage, where the gateway answered / an anchor answered; samples inside it. */
  gatewayOk: number;
  anchorsOk: number;
  samples: number;
  /**
   * Agent time (corrected) of the last round, inside the outage, in which no anchor answered: the link
   * (or the router) was still down then. Rounds in which anchors answered after it are the link come
   * back while the agent was still reconnecting, not evidence. Absent: no such round.
   */
  lastDownAt?: number;
  /** Agent time of the earliest round in which an anchor answered. */
  firstUpAt?: number;
  /** Rounds in which no anchor answered: with the gateway answering (the WAN cut) / without (router down). */
  cutRounds?: number;
  downRounds?: number;
}

export interface PendingOutage {
  uai: string;
  start: number;
  end: number;
  evidence: OutageEvidence;
  /** Per agent: the highest seq before the outage, the seqs seen after it, the agent clock offset. */
  agents: Record<
    string,
    {
      seqBefore: number;
      seen: Set<number>;
      maxSeq: number;
      liveAfter: boolean;
      lagMs: number;
      /** The agent started again during the outage at this time (its own clock): it was down before. */
      restartedAt: number | null;
    }
  >;
  /** Classify at this time at the latest, replay complete or not. */
  settleBy: number;
}

/** Bound on the seqs remembered per agent while waiting for a replay; past it we wait for settleBy. */
export const MAX_TRACKED_SEQS = 50_000;

export function openPending(
  uai: string,
  start: number,
  end: number,
  agents: { agent: string; seqBefore: number; lagMs: number; restartedAt?: number | null }[],
  settleMs: number,
): PendingOutage {
  return {
    uai,
    start,
    end,
    evidence: { gatewayOk: 0, anchorsOk: 0, samples: 0 },
    agents: Object.fromEntries(
      agents.map((a) => [
        a.agent,
        {
          seqBefore: a.seqBefore,
          seen: new Set<number>(),
          maxSeq: a.seqBefore,
          liveAfter: false,
          lagMs: a.lagMs,
          restartedAt: a.restartedAt ?? null,
        },
      ]),
    ),
    settleBy: end + settleMs,
  };
}

/**
 * Feed one batch from an agent of the school; samples whose time falls inside the outage are evidence,
 * except those measured after the agent started again (an agent that restarted during the outage was
 * down: what it measured once back, before it could reconnect, says nothing about the outage; a power
 * cut read as `unknown` because of them). Batch times are corrected (collector/clock-offset.ts);
 * `clockShiftMs`, the correction, gives back the agent's own clock to compare with its start.
 */
export function addBatch(
  p: PendingOutage,
  agent: string,
  batch: { seq: number; t: number; samples: readonly Sample[] },
  clockShiftMs = 0,
): PendingOutage {
  const a = p.agents[agent];
  if (!a) return p;
  const toCollectorClock = (t: number) => t + a.lagMs;
  const restarted = a.restartedAt;
  const inside = batch.samples.filter((s) => {
    if (restarted !== null && s.t + clockShiftMs >= restarted) return false;
    const at = toCollectorClock(s.t);
    return at >= p.start && at <= p.end;
  });
  if (a.seen.size < MAX_TRACKED_SEQS && batch.seq > a.seqBefore) a.seen.add(batch.seq);
  a.maxSeq = Math.max(a.maxSeq, batch.seq);
  if (toCollectorClock(batch.t) > p.end) a.liveAfter = true;
  if (!inside.length) return p;
  const rounds = roundsOf(inside);
  let ev: OutageEvidence = { ...p.evidence, samples: p.evidence.samples + inside.length };
  for (const [t, round] of rounds) ev = addRound(ev, t, healthOfSamples(round));
  return { ...p, evidence: ev };
}

/**
 * Samples of one ping round start within this (ms) of each other: the agent pings its targets together,
 * each sample stamped when its own ping started (a few ms apart), and rounds are seconds apart.
 */
export const ROUND_SPREAD_MS = 1000;

/**
 * Groups samples into rounds, so that "gateway answered" and "no anchor did" pair up: sorted by time, a
 * round is the samples within ROUND_SPREAD_MS of its first, keyed by that first time.
 */
export function roundsOf(samples: readonly Sample[]): Map<number, Sample[]> {
  const rounds = new Map<number, Sample[]>();
  let start: number | null = null;
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    if (start === null || s.t - start > ROUND_SPREAD_MS) start = s.t;
    rounds.set(start, [...(rounds.get(start) ?? []), s]);
  }
  return rounds;
}

/** Every agent has replayed everything it built during the outage and sent a live batch after it. */
export function replayComplete(p: PendingOutage): boolean {
  return Object.values(p.agents).every((a) => {
    if (!a.liveAfter) return false;
    if (a.seen.size >= MAX_TRACKED_SEQS) return false;
    return a.maxSeq - a.seqBefore === a.seen.size;
  });
}

/**
 * One round (its samples' common time `t`, ms) into the evidence. Pure. Only the earliest anchor round
 * and the latest round without one are kept: whatever order the replay comes in, that is enough to tell
 * the link's return from internet during the outage, in constant memory.
 */
export function addRound(e: OutageEvidence, t: number, h: RoundHealth): OutageEvidence {
  const ev = { ...e };
  if (h.gatewayReached) ev.gatewayOk++;
  if (h.anchorsReached) {
    ev.anchorsOk++;
    ev.firstUpAt = Math.min(ev.firstUpAt ?? t, t);
  } else if (h.anchorsReached === false) {
    ev.lastDownAt = Math.max(ev.lastDownAt ?? t, t);
    if (h.gatewayReached) ev.cutRounds = (ev.cutRounds ?? 0) + 1;
    else ev.downRounds = (ev.downRounds ?? 0) + 1;
  }
  return ev;
}

/**
 * The cause of a finished outage from the rounds the agent measured inside it, up to the moment the link
 * (or the router) came back: the last round in which no anchor answered. Rounds after it, anchors
 * answering, are the gap between the link's return and the agent's reconnect (a 48 s reconnect backoff
 * flipped a WAN cut to `unknown`, issue 16; a router back from a power cut, its gateway and anchors
 * answering, flipped a power cut to `wan_cut` or `unknown`, issue 14): not evidence. An anchor that
 * answered BEFORE that round means the school had internet during the outage: `unknown`. Then: the
 * gateway answered and no anchor did in some round → `wan_cut`; else (nothing measured, or not even the
 * gateway answered: router or box down) → `power_or_box`. Evidence built by hand with counts only (no
 * round times) is read as every round inside the outage.
 */
export function classify(e: OutageEvidence): OutageCause {
  if (e.samples === 0) return 'power_or_box';
  const timed = e.lastDownAt !== undefined || e.firstUpAt !== undefined;
  if (!timed) {
    if (e.anchorsOk > 0) return 'unknown';
    return e.gatewayOk > 0 ? 'wan_cut' : 'power_or_box';
  }
  // Anchors answered and no round ever saw them silent: the internet was there all along.
  if (e.lastDownAt === undefined) return 'unknown';
  if (e.firstUpAt !== undefined && e.firstUpAt < e.lastDownAt) return 'unknown';
  // The box kept measuring: the gateway answered and the internet did not.
  if ((e.cutRounds ?? 0) > 0) return 'wan_cut';
  // It measured but not even the gateway answered: the router (the ISP's box) was down.
  return 'power_or_box';
}

export const isSettled = (p: PendingOutage, now: number) => now >= p.settleBy || replayComplete(p);
