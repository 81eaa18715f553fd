// Several collectors judge one stream, each receiving every message a few ms apart and ticking at its
// own phase: the presence and outage points they write must be the same points (same measurement,
// tags and time), so InfluxDB keeps one per change (docs/design-several-collectors.md).
import { describe, expect, it } from 'vitest';
import { roleOf } from '../../collector/ingest/copies.ts';
import type { Point } from '../../collector/point.ts';
import { type FleetRules, PresenceFleet } from '../../collector/presence/fleet.ts';
import { PresenceMonitor } from '../../collector/presence/monitor.ts';
import { PresenceStamps } from '../../collector/presence/stamps.ts';
import { createLogger } from '../../shared/log.ts';
import { buildBatch } from '../../shared/messages.ts';
import type { Sample } from '../../shared/schemas.ts';

const UAI = '0690001B';
const S = 1000;
const RULES: FleetRules = {
  intervalMs: 1 * S,
  silentAfterIntervals: 3,
  degradedAfterRounds: 3,
  degradedLossPct: 50,
  degradedLatencyMs: 500,
  classifyWithinMs: 2 * S,
  maxAgents: 100,
};
const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

const anchor = (t: number, lossPct: number): Sample[] => [
  { probe: 'ping', t, target: 'gw', role: 'gateway', sent: 10, received: 10, lossPct: 0, medianMs: 1 },
  {
    probe: 'ping',
    t,
    target: 'anchor',
    role: 'anchor',
    sent: 10,
    received: 10 - lossPct / 10,
    lossPct,
    medianMs: 12,
  },
];

type Msg =
  | { at: number; kind: 'birth' | 'will'; t: number }
  | { at: number; kind: 'batch'; seq: number; t: number; lossPct: number };

/**
 * One agent's life: birth, 4 good rounds, 4 bad ones (degraded), 4 good (recovered), then its power
 * cut: no batch after T0 + 12 s, its will 3 s later; then back with a birth and batches.
 */
function story(): Msg[] {
  const msgs: Msg[] = [{ at: T0, kind: 'birth', t: T0 }];
  let seq = 0;
  for (let i = 0; i < 12; i++) {
    const t = T0 + i * S + 100;
    msgs.push({ at: t, kind: 'batch', seq: seq++, t, lossPct: i >= 4 && i < 8 ? 100 : 0 });
  }
  msgs.push({ at: T0 + 15 * S, kind: 'will', t: T0 });
  msgs.push({ at: T0 + 30 * S, kind: 'birth', t: T0 + 30 * S });
  for (let i = 30; i < 40; i++) {
    const t = T0 + i * S + 100;
    msgs.push({ at: t, kind: 'batch', seq: seq++, t, lossPct: 0 });
  }
  return msgs;
}

/** A collector that receives each message `delayMs` late and ticks every `tickMs` from `phaseMs`. */
function collector(delayMs: number, tickMs: number, phaseMs: number, stamped: boolean): Point[] {
  const points: Point[] = [];
  let now = T0;
  const monitor = new PresenceMonitor(RULES, {
    points: { write: (p) => points.push(...p) },
    school: () => ({ commune: 'Lyon', isp: 'Orange' }),
    schoolHoursMs: (_u, a, b) => b - a,
    log: createLogger('test', 'silent'),
    now: () => now,
    ...(stamped ? { stamps: new PresenceStamps(100) } : {}),
  });
  monitor.onBrokerConnection(true, T0 - 60 * S);
  monitor.rebuilt(null);
  const events = story().map((m) => ({ ...m, at: m.at + delayMs }));
  let tick = T0 + phaseMs;
  for (const m of events) {
    while (tick <= m.at) {
      now = tick;
      monitor.tick();
      tick += tickMs;
    }
    now = m.at;
    if (m.kind === 'batch')
      monitor.onMetrics(buildBatch(UAI, 'box', m.seq, m.t, anchor(m.t, m.lossPct)), { receivedAt: now });
    else
      monitor.onStatus(
        {
          v: 1,
          uai: UAI,
          agent: 'box',
          state: m.kind === 'birth' ? 'online' : 'offline',
          t: m.t,
          reason: m.kind,
        },
        { retained: false, receivedAt: now },
      );
  }
  for (const end = T0 + 60 * S; tick <= end; tick += tickMs) {
    now = tick;
    monitor.tick();
  }
  return points;
}

/** What makes a point the same point in InfluxDB: measurement, tags and time. */
const identities = (points: Point[]) =>
  points.map((p) => `${p.measurement},${JSON.stringify(Object.entries(p.tags).sort())} ${p.time}`).sort();

describe('presence stamps of several collectors', () => {
  it('two collectors receiving the same messages at different times write the same presence and outage points', () => {
    // One hears everything 3 ms after the other and ticks at another phase: the will reaches one
    // before its silence clock runs out, the other notices the silence first.
    const a = collector(0, 100, 0, true);
    const b = collector(3, 250, 170, true);
    const kinds = (ps: Point[], m: string) => ps.filter((p) => p.measurement === m).length;
    expect(kinds(a, 'outage')).toBe(1);
    // agent and school: online, degraded, online, offline, online, offline (silent at the end)
    expect(kinds(a, 'presence')).toBe(12);
    expect(identities(b)).toEqual(identities(a));
    const outage = a.find((p) => p.measurement === 'outage')!;
    // From 1 ms after the last batch (T0 + 11.1 s) to the first batch after the birth that ended it.
    expect(outage.time).toBe(T0 + 11 * S + 100 + 1);
  });

  it('times of receipt (a lone collector) would have made two points of each change', () => {
    const a = collector(0, 100, 0, false);
    const b = collector(3, 250, 170, false);
    const shared = new Set(identities(a));
    expect(identities(b).filter((id) => shared.has(id))).toEqual([]);
  });
});

describe('copies of the metrics stream', () => {
  it('tells the stored share from the observed whole stream by subscription identifier', () => {
    expect(roleOf({ properties: { subscriptionIdentifier: 1 } })).toBe('store');
    expect(roleOf({ properties: { subscriptionIdentifier: 2 } })).toBe('observe');
    expect(roleOf({ properties: { subscriptionIdentifier: [1, 2] } })).toBe('both');
    expect(roleOf({})).toBe('both');
  });
});

describe('a collector back after a restart', () => {
  it('a retained birth confirms a degraded agent rebuilt from InfluxDB, it does not end its degradation', () => {
    const fleet = new PresenceFleet(RULES);
    fleet.rebuild(
      [{ uai: UAI, agent: 'box', state: 'degraded', since: T0, lastSeenAt: T0, lastSeq: 7 }],
      [{ uai: UAI, state: 'degraded', since: T0 }],
      T0 + 5 * S,
    );
    const birth = {
      v: 1 as const,
      uai: UAI,
      agent: 'box',
      state: 'online' as const,
      t: T0 - 60 * S,
      reason: 'birth' as const,
    };
    expect(fleet.status(birth, true, T0 + 5 * S)).toEqual([]);
    expect(fleet.schools.get(UAI)?.state).toBe('degraded');
  });
});
