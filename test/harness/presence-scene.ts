// The real PresenceMonitor on a hand-driven clock, recording the points it writes and the effects it
// reports: for the unit tests that feed it a status stream (identity conflicts, issue 14 §3). Rules as
// the stack's at a 5 s batch interval; no registry (every school unknown, open around the clock).
import type { Point } from '../../collector/point.ts';
import type { PresenceEffect } from '../../collector/presence/fleet.ts';
import { PresenceMonitor } from '../../collector/presence/monitor.ts';
import { createLogger } from '../../shared/log.ts';
import type { EventMessage, StatusMessage } from '../../shared/schemas.ts';

const S = 1000;

export interface PresenceSceneOptions {
  /** The clock's start, ms since the epoch. */
  startAt: number;
  /** Silence declared after this many 5 s intervals without a batch. */
  silentAfterIntervals: number;
  /** Whether the collector's broker connection is up from `startAt` (else never told). */
  brokerUp: boolean;
}

export interface PresenceScene {
  m: PresenceMonitor;
  /** Every point written, in order. */
  points: Point[];
  /** Every effect reported, in order. */
  effects: PresenceEffect[];
  /** Moves the clock to `t` (ms) and ticks. */
  at(t: number): void;
  /** A live (not retained) status received at `t` (ms). */
  status(msg: StatusMessage, t: number): void;
  /** An event received at `t` (ms). */
  event(msg: EventMessage, t: number): void;
}

/** A monitor rebuilt from nothing (no stored presence), its clock at `startAt`. */
export function presenceScene(opts: PresenceSceneOptions): PresenceScene {
  let now = opts.startAt;
  const points: Point[] = [];
  const effects: PresenceEffect[] = [];
  const m = new PresenceMonitor(
    {
      intervalMs: 5 * S,
      silentAfterIntervals: opts.silentAfterIntervals,
      degradedAfterRounds: 3,
      degradedLossPct: 50,
      degradedLatencyMs: 500,
      classifyWithinMs: 10 * S,
      maxAgents: 100,
    },
    {
      points: { write: (p) => points.push(...p) },
      school: () => undefined,
      schoolHoursMs: (_u, start, end) => end - start,
      onEffect: (e) => effects.push(e),
      log: createLogger('test', 'silent'),
      now: () => now,
      identity: { holdMs: 5 * S, quietMs: 600 * S },
    },
  );
  m.rebuilt(null);
  if (opts.brokerUp) m.onBrokerConnection(true, opts.startAt);
  return {
    m,
    points,
    effects,
    at(t) {
      now = t;
      m.tick();
    },
    status(msg, t) {
      now = t;
      m.onStatus(msg, { retained: false, receivedAt: t });
    },
    event(msg, t) {
      now = t;
      m.onEvent(msg, { receivedAt: t });
    },
  };
}
