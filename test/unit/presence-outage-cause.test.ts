// The cause of an outage is read from what the box measured inside it up to the moment the link (or
// the router, or the box) came back (issue 14 §1): rounds measured between the link's return and the
// agent's reconnect — anchors answering again — must not turn a power cut or a WAN cut into `unknown`,
// and a flapping link must not lose one of its outages. Hand-built timelines, agent times in seconds.
import { describe, expect, it } from 'vitest';
import { type FleetRules, type PresenceEffect, PresenceFleet } from '../../collector/presence/fleet.ts';
import { addBatch, classify, openPending } from '../../collector/presence/outage.ts';
import { PresenceStamps, type StampCause } from '../../collector/presence/stamps.ts';
import type { MetricsBatch, Sample, StatusMessage } from '../../shared/schemas.ts';

const S = 1000;
const T0 = 1_780_000_000_000;
const UAI = '0693001X';

const ping = (t: number, role: 'gateway' | 'anchor', ok: boolean, target: string = role): Sample =>
  ok
    ? { probe: 'ping', t, target, role, sent: 10, received: 10, lossPct: 0, medianMs: 12 }
    : { probe: 'ping', t, target, role, sent: 10, received: 0, lossPct: 100 };

/** What one round looked like: `down` nothing answered (router off), `cut` only the gateway, `up` both. */
type Round = 'down' | 'cut' | 'up' | 'anchor-down' | 'anchor-up';
function samples(t: number, r: Round): Sample[] {
  switch (r) {
    case 'down':
      return [ping(t, 'gateway', false), ping(t, 'anchor', false)];
    case 'cut':
      return [ping(t, 'gateway', true), ping(t, 'anchor', false)];
    case 'up':
      return [ping(t, 'gateway', true), ping(t, 'anchor', true)];
    // An agent configured without a gateway target.
    case 'anchor-down':
      return [ping(t, 'anchor', false)];
    case 'anchor-up':
      return [ping(t, 'anchor', true)];
  }
}

/** An outage from T0 to T0 + 120 s; `rounds`: [seconds after T0, what answered], fed in `order`. */
function causeOf(
  rounds: [number, Round][],
  order: 'in' | 'reversed' = 'in',
  restartedAtS: number | null = null,
) {
  const restartedAt = restartedAtS === null ? null : T0 + restartedAtS * S;
  let p = openPending(UAI, T0, T0 + 120 * S, [{ agent: 'box', seqBefore: 0, lagMs: 0, restartedAt }], 60 * S);
  const batches = rounds.map(([at, r], i) => ({
    seq: i + 1,
    t: T0 + at * S,
    samples: samples(T0 + at * S, r),
  }));
  for (const b of order === 'in' ? batches : [...batches].reverse()) p = addBatch(p, 'box', b);
  return classify(p.evidence);
}

const both = (rounds: [number, Round][], restartedAtS: number | null = null) => [
  causeOf(rounds, 'in', restartedAtS),
  causeOf(rounds, 'reversed', restartedAtS),
];

describe('outage cause, up to the moment the link came back', () => {
  it('power cut of the router, its box staying up: router back and answering before the reconnect → power_or_box', () => {
    // Before: the anchors answering in the gap made it `unknown`.
    expect(
      both([
        [10, 'down'],
        [30, 'down'],
        [50, 'down'],
        [70, 'up'],
        [90, 'up'],
        [110, 'up'],
      ]),
    ).toEqual(['power_or_box', 'power_or_box']);
  });

  it('power cut of the router, an agent without a gateway target → power_or_box', () => {
    expect(
      both([
        [10, 'anchor-down'],
        [30, 'anchor-down'],
        [50, 'anchor-up'],
        [70, 'anchor-up'],
      ]),
    ).toEqual(['power_or_box', 'power_or_box']);
  });

  it('power cut of the box itself: what it measured once booted, before reconnecting, is not evidence', () => {
    expect(
      both(
        [
          [80, 'up'],
          [100, 'up'],
        ],
        70,
      ),
    ).toEqual(['power_or_box', 'power_or_box']);
  });

  it('WAN cut with a late reconnect (the link back only in the last round) → wan_cut', () => {
    expect(
      both([
        [10, 'cut'],
        [30, 'cut'],
        [50, 'cut'],
        [70, 'cut'],
        [90, 'cut'],
        [110, 'up'],
      ]),
    ).toEqual(['wan_cut', 'wan_cut']);
  });

  it('WAN cut with an early link return (most of the outage is the reconnect gap) → wan_cut', () => {
    expect(
      both([
        [10, 'cut'],
        [20, 'cut'],
        [40, 'up'],
        [60, 'up'],
        [80, 'up'],
        [100, 'up'],
        [118, 'up'],
      ]),
    ).toEqual(['wan_cut', 'wan_cut']);
  });

  it('anchors answering before a round that saw the link down: the school had internet → unknown', () => {
    expect(
      both([
        [10, 'up'],
        [30, 'down'],
        [50, 'up'],
      ]),
    ).toEqual(['unknown', 'unknown']);
    expect(both([[10, 'up']])).toEqual(['unknown', 'unknown']);
  });
});

describe('rounds as the real agent stamps them: each target at its own start, ms apart', () => {
  /** The gateway's sample at t, the anchors' 3 and 7 ms later. */
  const split = (t: number, r: 'cut' | 'down' | 'up'): Sample[] => [
    ping(t, 'gateway', r !== 'down'),
    ping(t + 3, 'anchor', r === 'up', 'anchor-1'),
    ping(t + 7, 'anchor', r === 'up', 'anchor-2'),
  ];
  function cause(rounds: [number, 'cut' | 'down' | 'up'][]) {
    let p = openPending(UAI, T0, T0 + 120 * S, [{ agent: 'box', seqBefore: 0, lagMs: 0 }], 60 * S);
    rounds.forEach(([at, r], i) => {
      p = addBatch(p, 'box', { seq: i + 1, t: T0 + at * S + 10, samples: split(T0 + at * S, r) });
    });
    return classify(p.evidence);
  }

  it('a WAN cut, the link back before the reconnect → wan_cut', () => {
    expect(
      cause([
        [10, 'cut'],
        [30, 'cut'],
        [50, 'up'],
        [70, 'up'],
      ]),
    ).toBe('wan_cut');
  });

  it('a router power cut, back before the reconnect → power_or_box', () => {
    expect(
      cause([
        [10, 'down'],
        [30, 'down'],
        [50, 'up'],
        [70, 'up'],
      ]),
    ).toBe('power_or_box');
  });

  it('one anchor answering and another not, in one round: the round is up', () => {
    const mixed = [
      ping(T0 + 10 * S, 'gateway', true),
      ping(T0 + 10 * S + 2, 'anchor', true),
      ping(T0 + 10 * S + 5, 'anchor', false),
    ];
    let p = openPending(UAI, T0, T0 + 120 * S, [{ agent: 'box', seqBefore: 0, lagMs: 0 }], 60 * S);
    p = addBatch(p, 'box', { seq: 1, t: T0 + 11 * S, samples: [...split(T0 + 5 * S, 'cut'), ...mixed] });
    expect(classify(p.evidence)).toBe('wan_cut');
  });
});

describe('a flapping link: each outage classified on its own rounds, none lost', () => {
  const RULES: FleetRules = {
    intervalMs: 20 * S,
    silentAfterIntervals: 3,
    degradedAfterRounds: 2,
    degradedLossPct: 10,
    degradedLatencyMs: 200,
    classifyWithinMs: 300 * S,
    maxAgents: 100,
  };
  const status = (state: 'online' | 'offline', t: number, reason: 'birth' | 'will') =>
    ({ v: 1, uai: UAI, agent: 'box', state, t, reason }) as StatusMessage;
  const batch = (seq: number, at: number, r: Round): MetricsBatch => ({
    v: 1,
    uai: UAI,
    agent: 'box',
    seq,
    t: T0 + at * S,
    samples: samples(T0 + at * S, r),
  });

  it('a second outage ending before the first one replayed: both are recorded as wan_cut', () => {
    const f = new PresenceFleet(RULES);
    f.broker(true, T0);
    f.status(status('online', T0, 'birth'), false, T0);
    f.metrics(batch(1, 0, 'up'), T0);
    f.metrics(batch(2, 60, 'up'), T0 + 60 * S);
    const finished = [];
    // Link down; back at 200 s just long enough to reconnect, down again before the spool replayed.
    f.status(status('offline', T0, 'will'), false, T0 + 100 * S);
    f.status(status('online', T0 + 200 * S, 'birth'), false, T0 + 200 * S);
    f.status(status('offline', T0 + 200 * S, 'will'), false, T0 + 210 * S);
    f.status(status('online', T0 + 400 * S, 'birth'), false, T0 + 400 * S);
    // The spool: rounds of both outages, then a live round.
    for (const [seq, at] of [
      [3, 120],
      [4, 180],
      [5, 300],
      [6, 360],
    ] as const)
      finished.push(...f.metrics(batch(seq, at, 'cut'), T0 + (400 + seq) * S));
    finished.push(...f.metrics(batch(7, 410, 'up'), T0 + 410 * S));
    expect(finished.filter((e) => e.kind === 'outage_finished')).toEqual([
      { kind: 'outage_finished', uai: UAI, start: T0 + 60 * S, end: T0 + 200 * S, cause: 'wan_cut' },
      { kind: 'outage_finished', uai: UAI, start: T0 + 200 * S, end: T0 + 400 * S, cause: 'wan_cut' },
    ]);
  });
});

describe('a flapping link with several collectors: each outage keeps its own stamps', () => {
  it('the first outage, classified after the second ended, is stamped with its own start and end', () => {
    // (Ends here are presence's own: the agent change that stamps them comes in the same list in life.)
    const stamps = new PresenceStamps(10);
    const agents = () => ['box'];
    const lost = () => ({ kind: 'lost' }) as const;
    const message = (t: number) => () => ({ kind: 'message', t }) as const;
    stamps.signOfLife(UAI, 'box', T0 + 60 * S);
    const run = (e: PresenceEffect, cause: () => StampCause) => stamps.stampEffects([e], cause, agents)[0];
    run({ kind: 'outage_started', uai: UAI, start: T0 + 60 * S + 7, at: T0 + 100 * S }, lost);
    run(
      { kind: 'outage_ended', uai: UAI, start: T0 + 60 * S + 7, end: T0 + 200 * S + 7 },
      message(T0 + 200 * S),
    );
    stamps.signOfLife(UAI, 'box', T0 + 200 * S);
    run({ kind: 'outage_started', uai: UAI, start: T0 + 200 * S + 9, at: T0 + 210 * S }, lost);
    run(
      { kind: 'outage_ended', uai: UAI, start: T0 + 200 * S + 9, end: T0 + 400 * S + 9 },
      message(T0 + 400 * S),
    );
    const finished = (start: number, end: number) =>
      run({ kind: 'outage_finished', uai: UAI, start, end, cause: 'wan_cut' }, lost);
    expect(finished(T0 + 60 * S + 7, T0 + 200 * S + 7)).toMatchObject({
      start: T0 + 60 * S + 1,
      end: T0 + 200 * S + 7,
    });
    expect(finished(T0 + 200 * S + 9, T0 + 400 * S + 9)).toMatchObject({
      start: T0 + 200 * S + 1,
      end: T0 + 400 * S + 9,
    });
  });
});
