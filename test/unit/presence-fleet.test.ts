import { describe, expect, it } from 'vitest';
import { type FleetRules, PresenceFleet } from '../../collector/presence/fleet.ts';
import { classify } from '../../collector/presence/outage.ts';
import { outagePoint, transitionPoint } from '../../collector/presence/points.ts';
import type { MetricsBatch, Sample, StatusMessage } from '../../shared/schemas.ts';

const UAI = '0690001B';
const UAI2 = '0690002C';
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

const status = (state: 'online' | 'offline', t: number, reason?: 'birth' | 'will' | 'graceful', uai = UAI) =>
  ({ v: 1, uai, agent: 'box', state, t, reason }) as StatusMessage;

function ping(t: number, role: 'gateway' | 'anchor', ok: boolean, medianMs = 12): Sample {
  return ok
    ? { probe: 'ping', t, target: role, role, sent: 10, received: 10, lossPct: 0, medianMs }
    : { probe: 'ping', t, target: role, role, sent: 10, received: 0, lossPct: 100 };
}
const batch = (seq: number, t: number, samples: Sample[], uai = UAI): MetricsBatch => ({
  v: 1,
  uai,
  agent: 'box',
  seq,
  t,
  samples,
});
const healthy = (seq: number, t: number) =>
  batch(seq, t, [ping(t, 'gateway', true), ping(t, 'anchor', true)]);
const kinds = (effects: { kind: string }[]) => effects.map((e) => e.kind);

function onlineFleet() {
  const f = new PresenceFleet(RULES);
  f.broker(true, T0);
  f.status(status('online', T0, 'birth'), false, T0);
  f.metrics(healthy(1, T0), T0 + 50);
  return f;
}

describe('presence of an agent and its school', () => {
  it('goes online on birth and offline on the will, opening then closing an outage from the last sign of life', () => {
    const f = new PresenceFleet(RULES);
    f.broker(true, T0);
    const birth = f.status(status('online', T0, 'birth'), false, T0);
    expect(
      birth.filter((e) => e.kind === 'transition').map((e) => e.kind === 'transition' && e.transition.to),
    ).toEqual(['online', 'online']);
    f.metrics(healthy(1, T0 + 60 * S), T0 + 60 * S);
    const will = f.status(status('offline', T0, 'will'), false, T0 + 100 * S);
    expect(kinds(will)).toEqual(['transition', 'transition', 'outage_started']);
    const started = will.find((e) => e.kind === 'outage_started');
    expect(started).toMatchObject({ start: T0 + 60 * S, at: T0 + 100 * S });
    expect(f.schools.get(UAI)?.state).toBe('offline');
    const back = f.status(status('online', T0 + 200 * S, 'birth'), false, T0 + 200 * S);
    expect(back.find((e) => e.kind === 'outage_ended')).toMatchObject({
      start: T0 + 60 * S,
      end: T0 + 200 * S,
    });
  });

  it('declares a silent agent offline after N intervals, but never while the collector is cut from the broker', () => {
    const f = onlineFleet();
    expect(f.tick(T0 + 179 * S)).toEqual([]);
    f.broker(false, T0 + 100 * S);
    expect(f.tick(T0 + 500 * S)).toEqual([]);
    f.broker(true, T0 + 600 * S);
    // Silence is counted again from when the collector got its broker back.
    expect(f.tick(T0 + 700 * S)).toEqual([]);
    const effects = f.tick(T0 + 781 * S);
    expect(effects.some((e) => e.kind === 'transition' && e.transition.reason === 'silent')).toBe(true);
    expect(f.agents.get(`${UAI}/box`)?.state).toBe('offline');
  });

  it('turns degraded after K rounds with the internet unreachable and back online after K good rounds', () => {
    const f = onlineFleet();
    const cut = (seq: number, t: number) =>
      batch(seq, t, [ping(t, 'gateway', true), ping(t, 'anchor', false)]);
    expect(f.metrics(cut(2, T0 + 60 * S), T0 + 60 * S)).toEqual([]);
    const second = f.metrics(cut(3, T0 + 120 * S), T0 + 120 * S);
    expect(
      second.map(
        (e) => e.kind === 'transition' && `${e.transition.scope}:${e.transition.to}:${e.transition.reason}`,
      ),
    ).toEqual(['agent:degraded:internet_unreachable', 'school:degraded:internet_unreachable']);
    f.metrics(healthy(4, T0 + 180 * S), T0 + 180 * S);
    expect(f.schools.get(UAI)?.state).toBe('degraded');
    f.metrics(healthy(5, T0 + 240 * S), T0 + 240 * S);
    expect(f.schools.get(UAI)?.state).toBe('online');
  });

  it('degrades on latency past the threshold too', () => {
    const f = onlineFleet();
    const slow = (seq: number, t: number) => batch(seq, t, [ping(t, 'anchor', true, 450)]);
    f.metrics(slow(2, T0 + 60 * S), T0 + 60 * S);
    f.metrics(slow(3, T0 + 120 * S), T0 + 120 * S);
    expect(f.agents.get(`${UAI}/box`)).toMatchObject({ state: 'degraded', reason: 'latency' });
  });

  it('does not bring an agent back online with a replayed old batch', () => {
    const f = onlineFleet();
    f.status(status('offline', T0, 'will'), false, T0 + 200 * S);
    // The collector's own persistent session delivers a batch the agent built long ago.
    expect(f.metrics(healthy(2, T0 + 10 * S), T0 + 900 * S)).toEqual([]);
    expect(f.agents.get(`${UAI}/box`)?.state).toBe('offline');
  });

  it('keeps a school online while one of its two agents is', () => {
    const f = onlineFleet();
    f.status({ ...status('online', T0, 'birth'), agent: 'box2' }, false, T0);
    f.status(status('offline', T0, 'will'), false, T0 + 10 * S);
    expect(f.schools.get(UAI)?.state).toBe('online');
    expect(f.agents.get(`${UAI}/box`)?.state).toBe('offline');
  });

  it('ignores a retained offline for an agent already known offline (the outage start stays)', () => {
    const f = onlineFleet();
    f.status(status('offline', T0, 'will'), false, T0 + 100 * S);
    expect(f.status(status('offline', T0, 'will'), true, T0 + 500 * S)).toEqual([]);
  });

  it('rebuilds from what InfluxDB remembers without announcing transitions', () => {
    const f = new PresenceFleet(RULES);
    f.rebuild(
      [{ uai: UAI, agent: 'box', state: 'offline', since: T0, lastSeenAt: T0 - 5 * S, lastSeq: 41 }],
      [{ uai: UAI, state: 'offline', since: T0 - 5 * S }],
      T0 + 3600 * S,
    );
    expect(f.schools.get(UAI)).toMatchObject({ state: 'offline', outageStart: T0 - 5 * S });
    expect(f.status(status('offline', T0, 'will'), true, T0 + 3600 * S)).toEqual([]);
    const back = f.status(status('online', T0 + 7200 * S, 'birth'), false, T0 + 7200 * S);
    expect(back.find((e) => e.kind === 'outage_ended')).toMatchObject({ start: T0 - 5 * S });
    expect(f.agents.get(`${UAI}/box`)?.lastSeq).toBe(41);
  });

  it('refuses agents past the bound and counts them', () => {
    const f = new PresenceFleet({ ...RULES, maxAgents: 1 });
    f.status(status('online', T0, 'birth'), false, T0);
    expect(f.status(status('online', T0, 'birth', UAI2), false, T0)).toEqual([]);
    expect(f.refusedAgents).toBe(1);
  });
});

describe('outage classification from the replayed spool', () => {
  function outage() {
    const f = onlineFleet();
    f.metrics(healthy(2, T0 + 60 * S), T0 + 60 * S);
    f.status(status('offline', T0, 'will'), false, T0 + 150 * S);
    f.status(status('online', T0 + 400 * S, 'birth'), false, T0 + 400 * S);
    return f;
  }

  it('calls it a WAN cut when the gateway answered and the anchors did not, once the replay is complete', () => {
    const f = outage();
    const cut = (seq: number, t: number) =>
      batch(seq, t, [ping(t, 'gateway', true), ping(t, 'anchor', false)]);
    expect(f.metrics(cut(3, T0 + 120 * S), T0 + 401 * S)).toEqual([]);
    expect(f.metrics(cut(4, T0 + 180 * S), T0 + 402 * S)).toEqual([]);
    expect(f.metrics(cut(5, T0 + 240 * S), T0 + 403 * S)).toEqual([]);
    const done = f.metrics(healthy(6, T0 + 410 * S), T0 + 410 * S);
    expect(done).toEqual([
      { kind: 'outage_finished', uai: UAI, start: T0 + 60 * S, end: T0 + 400 * S, cause: 'wan_cut' },
    ]);
  });

  it('calls it power or box down when the agent built nothing during the outage', () => {
    const f = outage();
    const done = f.metrics(healthy(3, T0 + 410 * S), T0 + 410 * S);
    expect(done).toEqual([
      { kind: 'outage_finished', uai: UAI, start: T0 + 60 * S, end: T0 + 400 * S, cause: 'power_or_box' },
    ]);
  });

  it('waits for the missing batches, then classifies with what came when the settle time is over', () => {
    const f = outage();
    // seq 3 and 4 were built during the outage; only 4 arrives.
    f.metrics(
      batch(4, T0 + 180 * S, [ping(T0 + 180 * S, 'gateway', true), ping(T0 + 180 * S, 'anchor', false)]),
      T0 + 401 * S,
    );
    expect(f.metrics(healthy(5, T0 + 410 * S), T0 + 410 * S)).toEqual([]);
    expect(f.tick(T0 + 699 * S).filter((e) => e.kind === 'outage_finished')).toEqual([]);
    expect(f.tick(T0 + 700 * S).filter((e) => e.kind === 'outage_finished')).toEqual([
      { kind: 'outage_finished', uai: UAI, start: T0 + 60 * S, end: T0 + 400 * S, cause: 'wan_cut' },
    ]);
  });

  it('classifies from the evidence counts', () => {
    expect(classify({ samples: 0, gatewayOk: 0, anchorsOk: 0 })).toBe('power_or_box');
    expect(classify({ samples: 8, gatewayOk: 4, anchorsOk: 0 })).toBe('wan_cut');
    expect(classify({ samples: 8, gatewayOk: 0, anchorsOk: 0 })).toBe('power_or_box');
    expect(classify({ samples: 8, gatewayOk: 4, anchorsOk: 4 })).toBe('unknown');
  });
});

describe('presence points', () => {
  it('writes transitions and outages with the schema names and types', () => {
    const school = { commune: 'Lyon', isp: 'Orange' };
    expect(
      transitionPoint(
        { scope: 'agent', uai: UAI, agent: 'box', from: 'online', to: 'offline', at: T0, reason: 'will' },
        school,
      ),
    ).toEqual({
      measurement: 'presence',
      tags: { uai: UAI, agent: 'box', commune: 'Lyon', isp: 'Orange', scope: 'agent' },
      fields: { state: 'offline', previous: 'online', state_code: { int: 0 }, reason: 'will' },
      time: T0,
    });
    expect(
      transitionPoint(
        { scope: 'school', uai: UAI, agent: '', from: 'unknown', to: 'online', at: T0, reason: 'birth' },
        undefined,
      ).tags,
    ).toEqual({ uai: UAI, commune: 'unknown', isp: 'unknown', scope: 'school' });
    expect(
      outagePoint({ uai: UAI, start: T0, end: T0 + 90 * S, cause: 'wan_cut', schoolHoursS: 30 }, school),
    ).toEqual({
      measurement: 'outage',
      tags: { uai: UAI, commune: 'Lyon', isp: 'Orange', cause: 'wan_cut' },
      fields: { duration_s: 90, end_ms: { int: T0 + 90 * S }, school_hours_s: 30 },
      time: T0,
    });
  });
});

describe('degraded judged on fresh rounds only', () => {
  it('ignores rounds built before the agent came back and batches without anchor pings', () => {
    const f = new PresenceFleet(RULES);
    f.broker(true, T0);
    f.status(status('online', T0, 'birth'), false, T0);
    f.metrics(healthy(1, T0), T0);
    f.status(status('offline', T0, 'will'), false, T0 + 30 * S);
    // Link back: the session resumes, the last rounds of the cut arrive a few seconds late.
    const cut = (seq: number, t: number) =>
      batch(seq, t, [ping(t, 'gateway', true), ping(t, 'anchor', false)]);
    f.metrics(cut(2, T0 + 60 * S), T0 + 70 * S);
    f.metrics(cut(3, T0 + 65 * S), T0 + 71 * S);
    f.metrics(cut(4, T0 + 68 * S), T0 + 72 * S);
    expect(f.agents.get(`${UAI}/box`)?.state).toBe('online');
    const selfOnly = (seq: number, t: number) =>
      batch(seq, t, [
        {
          probe: 'self',
          t,
          version: '1',
          uptimeS: 1,
          rssBytes: 1,
          cpuPct: 1,
          spoolBytes: 0,
          spoolBatches: 0,
          spoolDropped: 0,
        },
      ]);
    f.metrics(cut(5, T0 + 80 * S), T0 + 80 * S);
    f.metrics(selfOnly(6, T0 + 81 * S), T0 + 81 * S);
    expect(f.agents.get(`${UAI}/box`)).toMatchObject({ state: 'online', badRounds: 1 });
    f.metrics(cut(7, T0 + 85 * S), T0 + 85 * S);
    expect(f.agents.get(`${UAI}/box`)?.state).toBe('degraded');
  });
});
