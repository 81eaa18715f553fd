// The presence of one agent: (state, event, now) → (new state, transitions). No timers, no I/O.
import type { StatusMessage } from '../../shared/schemas.ts';
import type { RoundHealth } from './health.ts';
import type { AgentPresence, PresenceState, Transition } from './state.ts';

export interface PresenceRules {
  /** How often an agent publishes a metrics batch. */
  intervalMs: number;
  /** Silent for this many intervals (no batch, no status) → offline. */
  silentAfterIntervals: number;
  /** Consecutive bad (or good) live rounds before degraded (or back online). */
  degradedAfterRounds: number;
  degradedLossPct: number;
  degradedLatencyMs: number;
}

export type AgentEvent =
  /** agentT: the message's own time (agent clock); retained: replayed by the broker at subscribe. */
  | {
      kind: 'status';
      state: StatusMessage['state'];
      reason?: string;
      agentT: number;
      retained: boolean;
      /** A birth's process start (agent clock). */
      startedAt?: number;
      /** How far ahead the agent's clock runs, as corrected in its batches (ms). */
      clockShiftMs?: number;
    }
  /**
   * batchT, sentAt: corrected to the collector's clock (collector/clock-offset.ts); sentAt is absent from
   * older agents. clockCorrectedMs: the correction applied.
   */
  | {
      kind: 'metrics';
      seq: number;
      batchT: number;
      sentAt?: number;
      clockCorrectedMs?: number;
      health: RoundHealth;
    }
  /** Any other message (an event) proves the agent is connected. */
  | { kind: 'seen' }
  /** brokerUpSince: when the collector's own broker connection last came up, or null while it is down. */
  | { kind: 'tick'; brokerUpSince: number | null }
  /** After a collector restart: what InfluxDB remembers. */
  | { kind: 'rebuild'; state: PresenceState; since: number; lastSeenAt: number; lastSeq: number };

export interface AgentStep {
  agent: AgentPresence;
  transitions: Transition[];
}

/** A replayed batch (from the agent's spool) is older than the live stream by more than this many intervals. */
const LIVE_WINDOW_INTERVALS = 2;

function moveTo(a: AgentPresence, to: PresenceState, reason: string, now: number): AgentStep {
  if (a.state === to) return { agent: a, transitions: [] };
  const t: Transition = { scope: 'agent', uai: a.uai, agent: a.agent, from: a.state, to, at: now, reason };
  return { agent: { ...a, state: to, since: now, reason }, transitions: [t] };
}

/**
 * Whether a batch reflects the present, or comes from the agent's spool after an outage. With a send time
 * the agent says it on one clock (sent − built), so no offset or step of that clock can fool it; an
 * older agent's batch is compared with the smallest lag seen since its birth. Either way this decides
 * only what the batch's rounds mean: receiving any batch proves the agent connected (stepAgent).
 */
export function isLiveBatch(
  a: AgentPresence,
  batch: { t: number; sentAt?: number },
  now: number,
  rules: PresenceRules,
): boolean {
  const window = LIVE_WINDOW_INTERVALS * rules.intervalMs;
  if (batch.sentAt !== undefined) return batch.sentAt - batch.t <= window;
  const lag = now - batch.t;
  const floor = a.lagMs === null ? lag : Math.min(a.lagMs, lag);
  return lag - floor <= window;
}

function badWhy(h: RoundHealth, rules: PresenceRules): string | null {
  if (h.anchorsReached === false) return 'internet_unreachable';
  if (h.lossPct !== null && h.lossPct >= rules.degradedLossPct) return 'loss';
  if (h.latencyMs !== null && h.latencyMs >= rules.degradedLatencyMs) return 'latency';
  return null;
}

/**
 * A retained birth (replayed by the broker at subscribe, after a restart) says the agent connected some
 * time ago: it confirms an online or degraded agent, it must not end a degradation.
 */
const retainedBirthConfirms = (a: AgentPresence, ev: { retained: boolean }) =>
  ev.retained && (a.state === 'online' || a.state === 'degraded');

export function stepAgent(a: AgentPresence, ev: AgentEvent, now: number, rules: PresenceRules): AgentStep {
  switch (ev.kind) {
    case 'status': {
      if (ev.state === 'online') {
        if (retainedBirthConfirms(a, ev)) return { agent: a, transitions: [] };
        // A birth resets the lag floor, on the corrected clock and never below 0: a birth stamped by a
        // clock still running ahead would leave a floor no corrected batch reaches (all "replays").
        const fresh = {
          ...a,
          lastSeenAt: now,
          lagMs: Math.max(0, now - (ev.agentT - (ev.clockShiftMs ?? 0))),
          badRounds: 0,
          goodRounds: 0,
          ...(ev.startedAt !== undefined ? { startedAt: ev.startedAt } : {}),
        };
        return moveTo(fresh, 'online', ev.retained ? 'retained_online' : 'birth', now);
      }
      const reason = ev.reason === 'graceful' ? 'stopped' : 'will';
      // A retained offline only confirms what we knew; it must not move an earlier outage start.
      if (ev.retained && a.state === 'offline') return { agent: a, transitions: [] };
      return moveTo(a, 'offline', ev.retained ? `retained_${reason}` : reason, now);
    }
    case 'seen':
      return a.state === 'offline' || a.state === 'unknown'
        ? moveTo({ ...a, lastSeenAt: now }, 'online', 'event', now)
        : { agent: { ...a, lastSeenAt: now }, transitions: [] };
    case 'metrics': {
      const batch = { t: ev.batchT, ...(ev.sentAt !== undefined ? { sentAt: ev.sentAt } : {}) };
      const live = isLiveBatch(a, batch, now, rules);
      const lag = now - ev.batchT;
      // Judged on the collector's clock: a batch received now proves the agent connected now, whatever
      // its clock says (a step back of that clock made live batches look like a replay, and the school
      // was paged offline while publishing every 5 s).
      let next: AgentPresence = {
        ...a,
        lastSeenAt: now,
        lastSeq: Math.max(a.lastSeq, ev.seq),
        lastBatchT: Math.max(a.lastBatchT, ev.batchT),
        lagMs: a.lagMs === null ? lag : Math.min(a.lagMs, lag),
        clockCorrectedMs: ev.clockCorrectedMs ?? 0,
      };
      if (!live) return { agent: next, transitions: [] };
      if (next.state === 'offline' || next.state === 'unknown') {
        return moveTo({ ...next, badRounds: 0, goodRounds: 0 }, 'online', 'metrics', now);
      }
      // A round measured before the agent's current state began (the tail of a replay) or without any
      // anchor ping says nothing about the internet now.
      const builtAt = ev.batchT + (next.lagMs ?? 0);
      const informative = ev.health.anchorsReached !== null || ev.health.lossPct !== null;
      if (builtAt < a.since || !informative) return { agent: next, transitions: [] };
      const why = badWhy(ev.health, rules);
      next = why
        ? { ...next, badRounds: next.badRounds + 1, goodRounds: 0, badWhy: why }
        : { ...next, goodRounds: next.goodRounds + 1, badRounds: 0 };
      if (next.state === 'online' && next.badRounds >= rules.degradedAfterRounds)
        return moveTo(next, 'degraded', next.badWhy, now);
      if (next.state === 'degraded' && next.goodRounds >= rules.degradedAfterRounds)
        return moveTo(next, 'online', 'recovered', now);
      return { agent: next, transitions: [] };
    }
    case 'tick': {
      // While the collector itself is cut from the broker, silence proves nothing.
      if (ev.brokerUpSince === null) return { agent: a, transitions: [] };
      if (a.state !== 'online' && a.state !== 'degraded') return { agent: a, transitions: [] };
      const heardAt = Math.max(a.lastSeenAt, ev.brokerUpSince);
      if (now - heardAt > rules.silentAfterIntervals * rules.intervalMs)
        return moveTo(a, 'offline', 'silent', now);
      return { agent: a, transitions: [] };
    }
    case 'rebuild':
      if (a.state !== 'unknown') return { agent: a, transitions: [] };
      return {
        agent: {
          ...a,
          state: ev.state,
          since: ev.since,
          reason: 'rebuilt',
          lastSeenAt: Math.max(a.lastSeenAt, ev.lastSeenAt),
          lastSeq: Math.max(a.lastSeq, ev.lastSeq),
        },
        transitions: [],
      };
  }
}
