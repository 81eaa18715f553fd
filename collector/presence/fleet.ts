// Presence of every agent and school, fed by what the collector observes. Deterministic: the caller
// passes `now`; timers and I/O live in monitor.ts.
import type { MetricsBatch, StatusMessage } from '../../shared/schemas.ts';
import { type AgentEvent, type PresenceRules, stepAgent } from './agent.ts';
import { healthOfBatch } from './health.ts';
import type { IdentityEffect } from './identity.ts';
import {
  addBatch,
  classify,
  isSettled,
  type OutageCause,
  openPending,
  type PendingOutage,
} from './outage.ts';
import { newSchool, rebuildSchool, type SchoolPresence, stepSchool } from './school.ts';
import { type AgentPresence, newAgent, type PresenceState, type Transition } from './state.ts';

export type PresenceEffect =
  | { kind: 'transition'; transition: Transition }
  | { kind: 'outage_started'; uai: string; start: number; at: number }
  /** The school is back; the cause is known once the spool replay is in (outage_finished). */
  | { kind: 'outage_ended'; uai: string; start: number; end: number }
  | { kind: 'outage_finished'; uai: string; start: number; end: number; cause: OutageCause }
  /** Two boxes under one identity (presence/identity.ts), detected or over. */
  | Extract<IdentityEffect, { kind: 'duplicate_identity' }>;

export interface FleetRules extends PresenceRules {
  /** How long to wait for an agent's spool replay before classifying an outage with what arrived. */
  classifyWithinMs: number;
  /** Bound on agents tracked (unknown schools are refused before this by the registry). */
  maxAgents: number;
}

export interface RebuiltAgent {
  uai: string;
  agent: string;
  state: PresenceState;
  since: number;
  lastSeenAt: number;
  lastSeq: number;
}

export class PresenceFleet {
  readonly agents = new Map<string, AgentPresence>();
  readonly schools = new Map<string, SchoolPresence>();
  /** Per school, its finished outages waiting for their replay, oldest first (a flapping link makes several). */
  private readonly pending = new Map<string, PendingOutage[]>();
  private brokerUpSince: number | null = null;
  /** Agents refused because maxAgents was reached. */
  refusedAgents = 0;

  constructor(private readonly rules: FleetRules) {}

  get brokerUp(): boolean {
    return this.brokerUpSince !== null;
  }

  agentsOf(uai: string): AgentPresence[] {
    return [...this.agents.values()].filter((a) => a.uai === uai);
  }

  pendingOutages(): PendingOutage[] {
    return [...this.pending.values()].flat();
  }

  /** clockShiftMs: how far ahead the agent's clock runs, as corrected in its batches (status times are not). */
  status(msg: StatusMessage, retained: boolean, now: number, clockShiftMs = 0): PresenceEffect[] {
    return this.apply(
      msg.uai,
      msg.agent,
      {
        kind: 'status',
        state: msg.state,
        reason: msg.reason,
        agentT: msg.t,
        retained,
        clockShiftMs,
        ...(msg.state === 'online' && msg.startedAt !== undefined ? { startedAt: msg.startedAt } : {}),
      },
      now,
    );
  }

  /** batch: times already corrected by clockCorrectedMs (collector/clock-offset.ts). */
  metrics(batch: MetricsBatch, now: number, clockCorrectedMs = 0): PresenceEffect[] {
    const effects = this.apply(
      batch.uai,
      batch.agent,
      {
        kind: 'metrics',
        seq: batch.seq,
        batchT: batch.t,
        ...(batch.sentAt !== undefined ? { sentAt: batch.sentAt } : {}),
        clockCorrectedMs,
        health: healthOfBatch(batch),
      },
      now,
    );
    // After apply: the batch that ends an outage belongs to its replay accounting too.
    const waiting = this.pending.get(batch.uai);
    if (waiting)
      this.pending.set(
        batch.uai,
        waiting.map((p) => addBatch(p, batch.agent, batch, clockCorrectedMs)),
      );
    effects.push(...this.settle(now, batch.uai));
    return effects;
  }

  seen(uai: string, agent: string, now: number): PresenceEffect[] {
    return this.apply(uai, agent, { kind: 'seen' }, now);
  }

  broker(up: boolean, now: number): void {
    this.brokerUpSince = up ? (this.brokerUpSince ?? now) : null;
  }

  tick(now: number): PresenceEffect[] {
    const effects: PresenceEffect[] = [];
    for (const a of [...this.agents.values()])
      effects.push(...this.apply(a.uai, a.agent, { kind: 'tick', brokerUpSince: this.brokerUpSince }, now));
    effects.push(...this.settle(now));
    return effects;
  }

  /** A school from the registry that has never been heard of: tracked as unknown. */
  declareSchool(uai: string, now: number): void {
    if (!this.schools.has(uai)) this.schools.set(uai, newSchool(uai, now));
  }

  rebuild(
    agents: RebuiltAgent[],
    schools: { uai: string; state: PresenceState; since: number }[],
    now: number,
  ) {
    for (const r of agents) this.apply(r.uai, r.agent, { kind: 'rebuild', ...r }, now, false);
    for (const s of schools) {
      this.declareSchool(s.uai, now);
      this.schools.set(s.uai, rebuildSchool(this.schools.get(s.uai)!, s.state, s.since));
    }
  }

  private apply(
    uai: string,
    agent: string,
    ev: AgentEvent,
    now: number,
    recomputeSchool = true,
  ): PresenceEffect[] {
    const key = `${uai}/${agent}`;
    let a = this.agents.get(key);
    if (!a) {
      if (this.agents.size >= this.rules.maxAgents) {
        this.refusedAgents++;
        return [];
      }
      a = newAgent(uai, agent, now);
    }
    const step = stepAgent(a, ev, now, this.rules);
    this.agents.set(key, step.agent);
    const effects: PresenceEffect[] = step.transitions.map((transition) => ({
      kind: 'transition',
      transition,
    }));
    if (!recomputeSchool || !step.transitions.length) return effects;
    this.declareSchool(uai, now);
    const before = this.schools.get(uai)!;
    const out = stepSchool(before, this.agentsOf(uai), now);
    this.schools.set(uai, out.school);
    for (const e of out.effects) {
      effects.push(e);
      if (e.kind === 'outage_ended') {
        const agents = this.agentsOf(uai).map((x) => ({
          agent: x.agent,
          seqBefore: this.seqAtOutageStart.get(`${uai}/${x.agent}`) ?? x.lastSeq,
          lagMs: x.lagMs ?? 0,
          restartedAt: restartedDuring(x, this.startedAtOutageStart.get(`${uai}/${x.agent}`), e.start, ev),
        }));
        // A flapping link ends a second outage before the first one's replay is in: both wait, each for
        // its own rounds (the second replaced the first, which was never recorded).
        const waiting = [
          ...(this.pending.get(uai) ?? []),
          openPending(uai, e.start, e.end, agents, this.rules.classifyWithinMs),
        ];
        const over = waiting.splice(0, Math.max(0, waiting.length - MAX_PENDING_PER_SCHOOL));
        for (const p of over) effects.push(finished(p));
        this.pending.set(uai, waiting);
      }
      if (e.kind === 'outage_started')
        for (const x of this.agentsOf(uai)) {
          this.seqAtOutageStart.set(`${uai}/${x.agent}`, x.lastSeq);
          this.startedAtOutageStart.set(`${uai}/${x.agent}`, x.startedAt);
        }
    }
    return effects;
  }

  /** The last seq each agent had sent when its school went offline: the replay fills the gap after it. */
  private readonly seqAtOutageStart = new Map<string, number>();
  /** Each agent's process start (its clock) when its school went offline: a new one means it restarted. */
  private readonly startedAtOutageStart = new Map<string, number | null>();

  private settle(now: number, only?: string): PresenceEffect[] {
    const done: PresenceEffect[] = [];
    for (const [uai, waiting] of this.pending) {
      if (only !== undefined && uai !== only) continue;
      const left = waiting.filter((p) => !isSettled(p, now));
      for (const p of waiting) if (!left.includes(p)) done.push(finished(p));
      if (left.length) this.pending.set(uai, left);
      else this.pending.delete(uai);
    }
    return done;
  }
}

/** Outages of one school waiting for their replay, at most; past it the oldest is classified with what came. */
export const MAX_PENDING_PER_SCHOOL = 8;

const finished = (p: PendingOutage): PresenceEffect => ({
  kind: 'outage_finished',
  uai: p.uai,
  start: p.start,
  end: p.end,
  cause: classify(p.evidence),
});

/**
 * When the agent started again during the outage (its own clock), or null: its start changed since the
 * outage began, or (start unknown then, e.g. after a collector restart) it started after the outage
 * began as far as the clock correction known at its birth can tell.
 */
function restartedDuring(
  a: AgentPresence,
  before: number | null | undefined,
  outageStart: number,
  ev: AgentEvent,
): number | null {
  if (a.startedAt === null) return null;
  if (before !== undefined && before !== null) return a.startedAt !== before ? a.startedAt : null;
  const shift = ev.kind === 'status' ? (ev.clockShiftMs ?? 0) : 0;
  return a.startedAt - shift > outageStart ? a.startedAt : null;
}
