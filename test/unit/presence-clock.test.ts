// Issue 14, clocks in presence: liveness is judged on the collector's clock, and an outage is
// classified only on what the box measured while it was up.
import { describe, expect, it } from 'vitest';
import { type FleetRules, type PresenceEffect, PresenceFleet } from '../../collector/presence/fleet.ts';
import type { MetricsBatch, Sample, StatusMessage } from '../../shared/schemas.ts';

const UAI = '0690001B';
const S = 1000;
const RULES: FleetRules = {
  intervalMs: 60 * S,
  silentAfterIntervals: 3,
  degradedAfterRounds: 2,
  degradedLossPct: 10,
  degradedLatencyMs: 200,
  classifyWithinMs: 300 * S,
  maxAgents: 100,
};
const T0 = 1_750_000_000_000;

const birth = (t: number, startedAt: number) =>
  ({ v: 1, uai: UAI, agent: 'box', state: 'online', t, reason: 'birth', startedAt }) as StatusMessage;
const will = (t: number) =>
  ({ v: 1, uai: UAI, agent: 'box', state: 'offline', t, reason: 'will' }) as StatusMessage;
const ping = (t: number, role: 'gateway' | 'anchor', ok: boolean): Sample =>
  ok
    ? { probe: 'ping', t, target: role, role, sent: 10, received: 10, lossPct: 0, medianMs: 12 }
    : { probe: 'ping', t, target: role, role, sent: 10, received: 0, lossPct: 100 };
const round = (t: number, gateway: boolean, anchor: boolean) => [
  ping(t, 'gateway', gateway),
  ping(t, 'anchor', anchor),
];
const batch = (seq: number, t: number, samples: Sample[]): MetricsBatch => ({
  v: 1,
  uai: UAI,
  agent: 'box',
  seq,
  t,
  samples,
});
const offline = (effects: PresenceEffect[]) =>
  effects.filter((e) => e.kind === 'transition' && e.transition.to === 'offline');

describe('presence with an agent clock stepped back without reconnecting', () => {
  // An older agent (no sentAt) whose clock runs `ahead` until NTP steps it back, a batch every 5 s:
  // times reach presence as the agent stamped them (below the estimate's correction or before it follows).
  for (const ahead of [121 * S, 200 * S, 299 * S, 2 * 3600 * S]) {
    it(`keeps the school online when the clock steps back by ${ahead / 1000} s`, () => {
      const f = new PresenceFleet(RULES);
      f.broker(true, T0);
      f.status(birth(T0 + ahead, T0 + ahead - 10 * S), false, T0);
      const paged: PresenceEffect[] = [];
      let seq = 0;
      for (let now = T0 + 5 * S; now <= T0 + 20 * 60 * S; now += 5 * S) {
        const stepped = now >= T0 + 5 * 60 * S;
        const t = now + (stepped ? 0 : ahead);
        paged.push(...offline(f.metrics(batch(++seq, t, round(t, true, true)), now)));
        paged.push(...offline(f.tick(now + 2500)));
      }
      expect(paged).toEqual([]);
      expect(f.schools.get(UAI)?.state).toBe('online');
    });
  }

  it('still pages a box that stopped publishing (silence is judged on receive time)', () => {
    const f = new PresenceFleet(RULES);
    f.broker(true, T0);
    f.status(birth(T0, T0 - 10 * S), false, T0);
    f.metrics(batch(1, T0, round(T0, true, true)), T0 + 5 * S);
    expect(offline(f.tick(T0 + 5 * S + 181 * S)).length).toBe(2);
  });
});

describe('outage cause from what the box measured while it was up', () => {
  /** Online with one process, then gone at T0+60 s, back at `backAt` with a new process started at `bootAt`. */
  function powerCut(bootAt: number, backAt: number, measured: Sample[], restartKnown = true) {
    const f = new PresenceFleet(RULES);
    f.broker(true, T0);
    if (restartKnown) f.status(birth(T0, T0 - 3600 * S), false, T0);
    else
      f.rebuild([{ uai: UAI, agent: 'box', state: 'online', since: T0, lastSeenAt: T0, lastSeq: 0 }], [], T0);
    f.metrics(batch(1, T0 + 60 * S, round(T0 + 60 * S, true, true)), T0 + 60 * S);
    f.status(will(T0), false, T0 + 100 * S);
    const effects: PresenceEffect[] = [];
    effects.push(...f.status(birth(backAt, bootAt), false, backAt));
    // The spool replays what the box measured after booting and before it could reconnect.
    effects.push(...f.metrics(batch(2, backAt - 5 * S, measured), backAt + S));
    effects.push(
      ...f.metrics(batch(3, backAt + 60 * S, round(backAt + 60 * S, true, true)), backAt + 60 * S),
    );
    return effects.find((e) => e.kind === 'outage_finished');
  }

  it('calls a power cut power_or_box although the box measured the internet fine before reconnecting', () => {
    const boot = T0 + 900 * S;
    const back = T0 + 960 * S;
    const finished = powerCut(boot, back, [
      ...round(boot + 20 * S, true, true),
      ...round(boot + 50 * S, true, true),
    ]);
    expect(finished).toMatchObject({ cause: 'power_or_box', start: T0 + 60 * S, end: back });
  });

  it('does so when the collector did not know the previous start either (rebuilt after a restart)', () => {
    const boot = T0 + 900 * S;
    const back = T0 + 960 * S;
    const finished = powerCut(boot, back, round(boot + 30 * S, true, true), false);
    expect(finished).toMatchObject({ cause: 'power_or_box' });
  });

  it('keeps what the box measured before it restarted: a WAN cut, then a reboot', () => {
    const boot = T0 + 900 * S;
    const back = T0 + 960 * S;
    const finished = powerCut(boot, back, [
      ...round(T0 + 300 * S, true, false),
      ...round(boot + 30 * S, true, true),
    ]);
    expect(finished).toMatchObject({ cause: 'wan_cut' });
  });

  it('still reads unknown when the same process measured the internet fine during the outage', () => {
    const same = T0 - 3600 * S;
    const finished = powerCut(same, T0 + 960 * S, round(T0 + 300 * S, true, true));
    expect(finished).toMatchObject({ cause: 'unknown' });
  });
});
