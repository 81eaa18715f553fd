// Classifying a finished outage from the samples the agent spooled during it and replays on return.
import type { Sample } from '../../shared/schemas.ts';
import { healthOfSamples } from './health.ts';

export type OutageCause = 'wan_cut' | 'power_or_box' | 'unknown';

export interface OutageEvidence {
  /** Rounds, inside the outage, where the gateway answered / an anchor answered / nothing answered. */
  gatewayOk: number;
  anchorsOk: number;
  samples: number;
  /** Agent time of the last round in which the gateway answered and no anchor did: the link was still cut. */
  lastCutAt?: number;
  /** Agent times of the rounds in which an anchor answered, earliest first (at most MAX_ANCHOR_ROUNDS). */
  anchorsOkAt?: number[];
}

/** Anchor rounds remembered per outage: the earliest ones, those that can precede the last cut round. */
export const MAX_ANCHOR_ROUNDS = 1000;

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
  // Group the inside samples by round (same timestamp) so "gateway answered" and "anchor did not" pair up.
  const rounds = new Map<number, Sample[]>();
  for (const s of inside) rounds.set(s.t, [...(rounds.get(s.t) ?? []), s]);
  const ev = { ...p.evidence, samples: p.evidence.samples + inside.length };
  for (const [t, round] of rounds) {
    const h = healthOfSamples(round);
    if (h.gatewayReached) ev.gatewayOk++;
    if (h.anchorsReached) {
      ev.anchorsOk++;
      const times = [...(ev.anchorsOkAt ?? []), t].sort((x, y) => x - y);
      ev.anchorsOkAt = times.slice(0, MAX_ANCHOR_ROUNDS);
    } else if (h.gatewayReached) ev.lastCutAt = Math.max(ev.lastCutAt ?? t, t);
  }
  return { ...p, evidence: ev };
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
 * The cause of a finished outage from the rounds the agent measured inside it. Anchors that answered
 * after the last round that saw the link cut are the link come back while the agent was still
 * reconnecting (issue 16: a 48 s reconnect backoff flipped a WAN cut to `unknown`): not evidence.
 */
export function classify(e: OutageEvidence): OutageCause {
  if (e.samples === 0) return 'power_or_box';
  const anchorsBeforeLinkBack =
    e.anchorsOkAt && e.lastCutAt !== undefined
      ? e.anchorsOkAt.filter((t) => t < e.lastCutAt!).length
      : e.anchorsOk;
  if (anchorsBeforeLinkBack > 0) return 'unknown';
  // The box kept measuring: the gateway answered and the internet did not.
  if (e.gatewayOk > 0) return 'wan_cut';
  // It measured but not even the gateway answered: the router (the ISP's box) was down.
  return 'power_or_box';
}

export const isSettled = (p: PendingOutage, now: number) => now >= p.settleBy || replayComplete(p);
