// The simulated fleet's pure parts: schools, outages, time of day, connection budget, console lines, pacing.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadRegistry } from '../../shared/registry.ts';
import { isUai } from '../../shared/uai.ts';
import { baseWanLoad, isSchoolOpen, localHour } from '../../simulator/daily-profile.ts';
import { buildFleet, linkKind } from '../../simulator/fleet.ts';
import { connectionBudgetProblem, localPortRange, openFilesLimit } from '../../simulator/limits.ts';
import { linkStateAt, planOutage } from '../../simulator/outage.ts';
import { ConnectGate } from '../../simulator/pacing.ts';
import { formatProgress } from '../../simulator/progress.ts';
import { agentRng, Rng } from '../../simulator/random.ts';
import { type FleetSnapshot, newCounters } from '../../simulator/stats.ts';

const registry = [...loadRegistry('examples/agglomeration.csv').values()];

describe('the fleet', () => {
  it('takes the registry schools first, then makes up schools with valid, unique UAIs', () => {
    const fleet = buildFleet(10_000, registry, 1);
    expect(fleet.slice(0, registry.length).map((s) => s.school)).toEqual(registry);
    const uais = fleet.map((s) => s.school.uai);
    expect(new Set(uais).size).toBe(10_000);
    expect(uais.every(isUai)).toBe(true);
    expect(fleet.every((s) => s.traits.accessPoints.length >= 2)).toBe(true);
  });

  it('gives the same schools for a seed', () => {
    expect(buildFleet(200, [], 42)).toEqual(buildFleet(200, [], 42));
    expect(buildFleet(200, [], 43)).not.toEqual(buildFleet(200, [], 42));
  });

  it('refuses more schools than it can name', () => {
    expect(() => buildFleet(50_000, registry, 1)).toThrow(/at most 40030 simulated schools/);
  });

  it('reads the link type from the registry row', () => {
    expect(linkKind({ isp: 'Bouygues Telecom 4G', contractedDownMbps: 40 })).toBe('4g');
    expect(linkKind({ isp: 'Orange', contractedDownMbps: 100 })).toBe('fibre');
    expect(linkKind({ isp: 'Orange', contractedDownMbps: 50 })).toBe('vdsl');
    expect(linkKind({ isp: 'Orange', contractedDownMbps: 8 })).toBe('adsl');
  });
});

describe('outages', () => {
  it('are off at rate 0', () => {
    expect(planOutage(new Rng('x'), 0, 0, 60_000)).toBeNull();
  });

  it('arrive at the asked rate, last at least three rounds, and mix the three kinds', () => {
    const rng = new Rng('outages');
    const kinds = { 'wan-cut': 0, 'power-cut': 0, degraded: 0 };
    let waited = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const o = planOutage(rng, 0, 2, 10_000)!;
      waited += o.start;
      kinds[o.kind]++;
      expect(o.end - o.start).toBeGreaterThanOrEqual(30_000);
      expect(o.end - o.start).toBeLessThanOrEqual(4 * 3_600_000);
    }
    // 2 an hour: 30 min on average between them.
    expect(waited / n / 60_000).toBeGreaterThan(27);
    expect(waited / n / 60_000).toBeLessThan(33);
    expect(kinds['wan-cut'] / n).toBeCloseTo(0.5, 1);
    expect(kinds['power-cut'] / n).toBeCloseTo(0.2, 1);
  });

  it('set the link state only while they last', () => {
    const cut = { kind: 'wan-cut' as const, start: 100, end: 200 };
    expect(linkStateAt(cut, 99)).toEqual({ kind: 'up' });
    expect(linkStateAt(cut, 100)).toEqual({ kind: 'wan-cut' });
    expect(linkStateAt(cut, 200)).toEqual({ kind: 'up' });
    expect(linkStateAt({ ...cut, kind: 'degraded', extraLossPct: 12, latencyFactor: 3 }, 150)).toEqual({
      kind: 'degraded',
      extraLossPct: 12,
      latencyFactor: 3,
    });
  });
});

describe('time of day', () => {
  it('follows Paris time across the DST change', () => {
    // 2026-03-29 01:30 UTC is 03:30 summer time (the clocks jumped at 02:00).
    expect(localHour(Date.UTC(2026, 2, 29, 1, 30), 'Europe/Paris')).toEqual({ weekday: 'sun', hour: 3.5 });
    expect(localHour(Date.UTC(2026, 0, 5, 9, 15), 'Europe/Paris')).toEqual({ weekday: 'mon', hour: 10.25 });
  });

  it('keeps schools closed on Wednesday unless their profile says otherwise', () => {
    const wed10 = { weekday: 'wed' as const, hour: 10 };
    expect(isSchoolOpen(wed10, 'school')).toBe(false);
    expect(isSchoolOpen(wed10, 'school-wednesday')).toBe(true);
    expect(isSchoolOpen({ weekday: 'wed', hour: 14 }, 'school-wednesday')).toBe(false);
    expect(isSchoolOpen({ weekday: 'mon', hour: 10 }, 'no-such-profile')).toBe(true);
    expect(baseWanLoad({ weekday: 'mon', hour: 10 }, 'school')).toBeGreaterThan(
      5 * baseWanLoad({ weekday: 'mon', hour: 22 }, 'school'),
    );
  });
});

describe('random streams', () => {
  it('are independent per agent and stream, and repeatable', () => {
    const a = agentRng(1, 5, 'samples');
    const b = agentRng(1, 5, 'samples');
    const c = agentRng(1, 5, 'outages');
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    const r = new Rng('mean');
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += r.next();
    expect(sum / 10_000).toBeCloseTo(0.5, 1);
  });
});

describe('connection budget', () => {
  const limits =
    'Limit  Soft Limit  Hard Limit  Units\nMax open files            1024                 524288               files\n';

  it('reads the open files limit and the local port range', () => {
    expect(openFilesLimit(limits)).toEqual({ soft: 1024, hard: 524288 });
    expect(openFilesLimit('Max open files  unlimited  unlimited  files')).toEqual({
      soft: Number.POSITIVE_INFINITY,
      hard: Number.POSITIVE_INFINITY,
    });
    expect(localPortRange('32768\t60999\n')).toBe(28232);
  });

  it('says what to raise when 10,000 agents will not fit', () => {
    expect(connectionBudgetProblem(10_000, openFilesLimit(limits), 28232)).toMatch(
      /10000 agents need 10064 open files .* may open 1024: raise it first: `ulimit -n 10064`/,
    );
    expect(connectionBudgetProblem(10_000, { soft: 1024, hard: 4096 }, 28232)).toMatch(
      /the hard limit is 4096/,
    );
    expect(connectionBudgetProblem(30_000, { soft: 65536, hard: 65536 }, 28232)).toMatch(
      /ip_local_port_range/,
    );
    expect(connectionBudgetProblem(10_000, { soft: 20_000, hard: 20_000 }, 28232)).toBeNull();
  });
});

describe('progress line', () => {
  const snap = (at: number, acked: number, extra: Partial<FleetSnapshot> = {}): FleetSnapshot => {
    const counters = newCounters();
    counters.acked = acked;
    counters.ackedBytes = acked * 2500;
    return {
      at,
      agents: 10_000,
      connected: 9_990,
      connecting: 10,
      inOutage: { 'wan-cut': 3, 'power-cut': 1, degraded: 2 },
      spooled: 42,
      counters,
      ...extra,
    };
  };

  it('gives connected agents, outages, rates and errors in plain words', () => {
    const prev = snap(Date.UTC(2026, 0, 5, 9, 0, 0), 1000);
    const cur = snap(prev.at + 5000, 6000);
    cur.counters.refused = 2;
    cur.counters.lastError = 'broker refused the connection: Connection refused: Not authorized';
    expect(formatProgress(cur, prev)).toBe(
      '09:00:05 · 9,990/10,000 agents connected · 10 connecting · outages now: 3 WAN cut, 1 power cut, 2 degraded · ' +
        '1000 batches/s acked (2.5 MB/s) · 42 batches in spools · 2 refused by broker ' +
        '(last: broker refused the connection: Connection refused: Not authorized)',
    );
  });
});

describe('connect pacing', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets connections through at the set rate and never more pending than allowed', () => {
    vi.useFakeTimers();
    const gate = new ConnectGate(100, 15);
    let started = 0;
    for (let i = 0; i < 50; i++) gate.acquire(() => started++);
    expect(started).toBe(10); // one 100 ms slice of 100/s
    vi.advanceTimersByTime(100);
    expect(started).toBe(15); // capped by pending
    for (let i = 0; i < 15; i++) gate.done();
    expect(started).toBe(20); // the slice's 5 unused tokens, at once
    vi.advanceTimersByTime(100);
    expect(started).toBe(30);
    for (let i = 0; i < 10; i++) gate.done();
    vi.advanceTimersByTime(300);
    expect(started).toBe(40);
    expect(gate.queued).toBe(10);
    gate.close();
  });
});
