// Runs presence with a clock: observer hooks in, transitions and outages out to InfluxDB and to a listener.
import type { Logger } from '../../shared/log.ts';
import type { EventMessage, MetricsBatch, StatusMessage } from '../../shared/schemas.ts';
import type { ClockReading, CollectorObserver } from '../observer.ts';
import type { PointSink } from '../point.ts';
import { isLiveBatch } from './agent.ts';
import { type FleetRules, type PresenceEffect, PresenceFleet, type RebuiltAgent } from './fleet.ts';
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
  /** Several collectors: changes stamped from the messages' own times, alike in every collector (stamps.ts). */
  stamps?: PresenceStamps;
}

export interface RebuiltState {
  agents: RebuiltAgent[];
  schools: { uai: string; state: PresenceState; since: number }[];
}

export class PresenceMonitor implements CollectorObserver {
  readonly fleet: PresenceFleet;
  private held: (() => void)[] | null = [];
  droppedWhileRebuilding = 0;

  constructor(
    private readonly rules: FleetRules,
    private readonly opts: MonitorOptions,
  ) {
    this.fleet = new PresenceFleet(rules);
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
      if (e.kind === 'transition')
        points.push(transitionPoint(e.transition, this.opts.school(e.transition.uai)));
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
    this.run(() => {
      const byWill = msg.state === 'offline' && msg.reason !== 'graceful';
      // Stamps read the agent's own (uncorrected) time: the correction is each collector's estimate.
      const cause: StampCause = byWill ? { kind: 'lost', t: msg.t } : { kind: 'message', t: msg.t };
      this.apply(this.fleet.status(msg, info.retained, info.receivedAt, info.clockShiftMs ?? 0), () => cause);
      if (msg.state === 'online') this.opts.stamps?.signOfLife(msg.uai, msg.agent, msg.t);
    });
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
    this.apply(this.fleet.tick(this.opts.now()), () => ({ kind: 'lost' }));
  }
}
