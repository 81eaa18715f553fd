// Runs presence with a clock: observer hooks in, transitions and outages out to InfluxDB and to a listener.
import type { Logger } from '../../shared/log.ts';
import type { EventMessage, MetricsBatch, StatusMessage } from '../../shared/schemas.ts';
import type { ClockReading, CollectorObserver } from '../observer.ts';
import type { PointSink } from '../point.ts';
import { isLiveBatch } from './agent.ts';
import { type FleetRules, type PresenceEffect, PresenceFleet, type RebuiltAgent } from './fleet.ts';
import { IdentityGuard, type IdentityRules, type IdentityStep } from './identity.ts';
import { outagePoint, type SchoolTags, transitionPoint } from './points.ts';
import type { PresenceStamps, StampCause } from './stamps.ts';
import type { PresenceState } from './state.ts';

export interface MonitorOptions {
  points: PointSink;
  school(uai: string): SchoolTags | undefined;
  /** Seconds of [start, end) inside the school's opening hours. */
  schoolHoursMs(uai: string, start: number, end: number): number;
  onEffect?(e: PresenceEffect): void;
  /** A batch that reflects the present (not a spool replay): metric alerts read these. */
  onLiveBatch?(b: MetricsBatch, now: number, clock?: ClockReading): void;
  onBroker?(up: boolean, now: number): void;
  log: Logger;
  now: () => number;
  /** Observer calls held while the state is rebuilt after a restart; past it they are dropped and counted. */
  maxHeld?: number;
  /** Takeovers between two boxes sharing an identity (presence/identity.ts); defaults: DEFAULT_IDENTITY_RULES. */
  identity?: Omit<IdentityRules, 'maxAgents'>;
  /** Several collectors: changes stamped from the messages' own times, alike in every collector (stamps.ts). */
  stamps?: PresenceStamps;
}

/** Hold a will 5 s for a takeover's birth; a duplicate ends after 30 min without a takeover (2 × the agents' 15 min). */
export const DEFAULT_IDENTITY_RULES = { holdMs: 5000, quietMs: 30 * 60_000 } as const;

export interface RebuiltState {
  agents: RebuiltAgent[];
  schools: { uai: string; state: PresenceState; since: number }[];
}

export class PresenceMonitor implements CollectorObserver {
  readonly fleet: PresenceFleet;
  /** Sorts takeovers (two boxes, one identity) from real losses before presence sees a status. */
  readonly identity: IdentityGuard;
  private held: (() => void)[] | null = [];
  /** A status's clock shift (ms), kept while the identity guard may hold it. */
  private readonly statusShift = new WeakMap<StatusMessage, number>();
  droppedWhileRebuilding = 0;

  constructor(
    private readonly rules: FleetRules,
    private readonly opts: MonitorOptions,
  ) {
    this.fleet = new PresenceFleet(rules);
    this.identity = new IdentityGuard({
      ...DEFAULT_IDENTITY_RULES,
      ...opts.identity,
      maxAgents: rules.maxAgents,
    });
  }

  /** Apply what InfluxDB remembers, then the messages that arrived meanwhile. Call once (null = nothing). */
  rebuilt(state: RebuiltState | null): void {
    const now = this.opts.now();
    if (state) {
      this.fleet.rebuild(state.agents, state.schools, now);
      this.opts.stamps?.rebuilt(
        state.agents,
        state.schools.filter((s) => s.state === 'offline'),
      );
      for (const s of state.schools)
        this.opts.onEffect?.({
          kind: 'transition',
          transition: {
            scope: 'school',
            uai: s.uai,
            agent: '',
            from: 'unknown',
            to: s.state,
            at: s.since,
            reason: 'rebuilt',
          },
        });
    }
    const held = this.held ?? [];
    this.held = null;
    for (const run of held) run();
  }

  private run(fn: () => void): void {
    if (this.held === null) {
      fn();
      return;
    }
    if (this.held.length >= (this.opts.maxHeld ?? 100_000)) {
      this.droppedWhileRebuilding++;
      return;
    }
    this.held.push(fn);
  }

  private apply(raw: PresenceEffect[], cause: (uai: string, agent: string) => StampCause): void {
    const stamps = this.opts.stamps;
    const effects = stamps
      ? stamps.stampEffects(raw, cause, (uai) => this.fleet.agentsOf(uai).map((a) => a.agent))
      : raw;
    const points = [];
    for (const e of effects) {
      if (e.kind === 'transition') {
        points.push(transitionPoint(e.transition, this.opts.school(e.transition.uai)));
        // One line per school's presence change: what a technician looks for in the journal.
        const t = e.transition;
        if (t.scope === 'school')
          this.opts.log.info(
            { uai: t.uai, from: t.from, to: t.to, reason: t.reason },
            `school ${t.uai} ${t.to}`,
          );
      }
      if (e.kind === 'outage_finished') {
        const schoolHoursS = this.opts.schoolHoursMs(e.uai, e.start, e.end) / 1000;
        points.push(outagePoint({ ...e, schoolHoursS }, this.opts.school(e.uai)));
        this.opts.log.info(
          {
            uai: e.uai,
            start: new Date(e.start).toISOString(),
            durationS: (e.end - e.start) / 1000,
            cause: e.cause,
          },
          'outage classified',
        );
      }
      this.opts.onEffect?.(e);
    }
    if (points.length) this.opts.points.write(points);
  }

  onStatus(msg: StatusMessage, info: { retained: boolean; receivedAt: number; clockShiftMs?: number }): void {
    // The identity guard may hold a will a few seconds; its clock shift goes with the message.
    if (info.clockShiftMs) this.statusShift.set(msg, info.clockShiftMs);
    this.run(() => this.applyIdentity(this.identity.status(msg, info.retained, info.receivedAt)));
  }

  /** Statuses the identity guard lets through (at their own time), then what it has to tell. */
  private applyIdentity(step: IdentityStep): void {
    for (const s of step.apply) {
      const byWill = s.msg.state === 'offline' && s.msg.reason !== 'graceful';
      // Stamps read the agent's own (uncorrected) time: the correction is each collector's estimate.
      const cause: StampCause = byWill ? { kind: 'lost', t: s.msg.t } : { kind: 'message', t: s.msg.t };
      this.apply(this.fleet.status(s.msg, s.retained, s.at, this.statusShift.get(s.msg) ?? 0), () => cause);
      if (s.msg.state === 'online') this.opts.stamps?.signOfLife(s.msg.uai, s.msg.agent, s.msg.t);
    }
    for (const e of step.effects) {
      if (e.kind === 'takeover')
        this.opts.log.debug(
          { uai: e.uai, agent: e.agent, from: e.from, to: e.to },
          'agent connection taken over',
        );
      else if (e.duplicated && e.agents)
        this.opts.log.warn(
          { uai: e.uai, agents: e.agents, takeovers: e.takeovers },
          'two agent ids of one school share one broker account (one client id): they keep taking the broker connection from each other; not counted as outages',
        );
      else if (e.duplicated)
        this.opts.log.warn(
          { uai: e.uai, agent: e.agent, instances: e.instances, takeovers: e.takeovers },
          'two boxes use the same identity (UAI and agent id): they keep taking the broker connection from each other; not counted as outages',
        );
      else
        this.opts.log.info({ uai: e.uai, agent: e.agent, takeovers: e.takeovers }, 'duplicate identity over');
      if (e.kind === 'duplicate_identity') this.opts.onEffect?.(e);
    }
  }

  onMetrics(batch: MetricsBatch, info: { receivedAt: number; clock?: ClockReading }): void {
    this.run(() => {
      const agent = this.fleet.agents.get(`${batch.uai}/${batch.agent}`);
      const live = !agent || isLiveBatch(agent, batch, info.receivedAt, this.rules);
      const sentT = batch.t + (info.clock?.correctMs ?? 0);
      this.apply(this.fleet.metrics(batch, info.receivedAt, info.clock?.correctMs ?? 0), () => ({
        kind: 'message',
        t: sentT,
      }));
      this.opts.stamps?.signOfLife(batch.uai, batch.agent, sentT);
      if (live) this.opts.onLiveBatch?.(batch, info.receivedAt, info.clock);
    });
  }

  onEvent(msg: EventMessage, info: { receivedAt: number }): void {
    this.run(() => {
      this.apply(this.fleet.seen(msg.uai, msg.agent, info.receivedAt), () => ({ kind: 'message', t: msg.t }));
      this.opts.stamps?.signOfLife(msg.uai, msg.agent, msg.t);
    });
  }

  onBrokerConnection(up: boolean, at: number): void {
    // Not held: the broker's state matters even while rebuilding.
    this.fleet.broker(up, at);
    this.opts.onBroker?.(up, at);
  }

  tick(): void {
    if (this.held !== null) return;
    const now = this.opts.now();
    this.applyIdentity(this.identity.tick(now));
    this.apply(this.fleet.tick(now), () => ({ kind: 'lost' }));
  }
}
