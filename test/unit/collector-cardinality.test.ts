import { describe, expect, it } from 'vitest';
import {
  type BatchDecision,
  type CardinalityLimits,
  CardinalityTracker,
  describeSeries,
  seriesKey,
} from '../../collector/cardinality.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import type { Sample } from '../../shared/schemas.ts';
import { everySample } from '../harness/collector.ts';

const T0 = 1_800_000_000_000;
const DAY = 86_400_000;
const DEFAULTS: CardinalityLimits = resolveCollectorConfig({}).ingest.cardinality;
const A = '0690001B';
const B = '0380042P';

const ping = (target: string, role?: 'gateway' | 'other'): Sample => ({
  probe: 'ping',
  t: T0,
  target,
  ...(role ? { role } : {}),
  sent: 10,
  received: 10,
  lossPct: 0,
});
const targets = (from: number, n: number) => Array.from({ length: n }, (_, i) => ping(`t-${from + i}`));

function ok(d: BatchDecision) {
  if (!d.ok) throw new Error(`agent refused: ${JSON.stringify(d)}`);
  return d;
}

describe('series bounds: defaults', () => {
  it('are sized for a real school and never refuse what a valid agent config produces', () => {
    expect(DEFAULTS).toEqual({
      maxAgentsPerSchool: 4,
      maxSeriesPerProbe: 160,
      forgetAfterMs: 7 * DAY,
      maxSchools: 10_000,
    });
    // agent/probes/config.ts: 16 box interfaces + 8 routers × 16; 128 access points + the box's radios.
    expect(DEFAULTS.maxSeriesPerProbe).toBeGreaterThan(16 + 8 * 16);
    expect(DEFAULTS.maxSeriesPerProbe).toBeGreaterThan(128 + 4);
  });
});

describe('series bounds: one agent', () => {
  it('keeps 5 × 2,000 new ping targets to the bound, and the known ones flowing', () => {
    const tracker = new CardinalityTracker(DEFAULTS);
    const notices = [];
    let kept = 0;
    for (let m = 0; m < 5; m++) {
      const d = ok(tracker.batch(A, 'box-1', targets(m * 2000, 2000), T0 + m * 1000));
      kept += d.kept.length;
      expect(d.kept.length + d.dropped.length).toBe(2000);
      if (d.notice) notices.push(d.notice);
    }
    expect(kept).toBe(160);
    expect(tracker.stats()).toMatchObject({ schools: 1, agents: 1, series: 160 });
    expect(notices).toEqual([{ uai: A, bound: 'series', agent: 'box-1', limit: 160 }]);
    // The 160 admitted keep going through, at the bound, in a batch beside new ones.
    const d = ok(tracker.batch(A, 'box-1', [...targets(0, 160), ping('new')], T0 + 10_000));
    expect(d.kept).toHaveLength(160);
    expect(d.dropped.map(describeSeries)).toEqual(['ping target="new"']);
    expect(d.notice).toBeUndefined();
  });

  it('returns the batch itself when nothing is dropped', () => {
    const tracker = new CardinalityTracker(DEFAULTS);
    const samples = everySample(T0);
    const d = ok(tracker.batch(A, 'box-1', samples, T0));
    expect(d.kept).toBe(samples);
    expect(d.dropped).toEqual([]);
  });

  // Other members of the kind: every tag that comes from the sample counts, each probe on its own.
  it.each([
    [
      'DNS resolver × name pairs',
      (i: number): Sample => ({
        probe: 'dns',
        t: T0,
        resolver: `198.18.0.${i % 10}`,
        name: `n${Math.floor(i / 10)}.test`,
        ok: true,
        rcode: 'NOERROR',
      }),
    ],
    [
      'WAN interfaces',
      (i: number): Sample => ({
        probe: 'wan',
        t: T0,
        source: 'snmp',
        iface: `uplink-${i}`,
        inBps: 1,
        outBps: 1,
      }),
    ],
    [
      'access points',
      (i: number): Sample => ({ probe: 'wifi', t: T0, ap: `AP ${i}`, up: true, reachable: true }),
    ],
    [
      'HTTP targets',
      (i: number): Sample => ({ probe: 'http', t: T0, target: `https://h${i}.test/`, ok: true, status: 200 }),
    ],
    ['speed-test targets', (i: number): Sample => ({ probe: 'speedtest', t: T0, target: `s${i}`, ok: true })],
    [
      'ping roles of one target',
      (i: number): Sample => ping(`t-${Math.floor(i / 2)}`, i % 2 ? 'gateway' : 'other'),
    ],
  ])('bounds %s, without touching the agent’s other probes', (_, make) => {
    const limits = { ...DEFAULTS, maxSeriesPerProbe: 20 };
    const tracker = new CardinalityTracker(limits);
    const usual = everySample(T0);
    ok(tracker.batch(A, 'box-1', usual, T0));
    const flood = Array.from({ length: 300 }, (_, i) => make(i));
    const d = ok(tracker.batch(A, 'box-1', [...flood, ...usual], T0 + 1));
    // The usual sample of the flooded probe held one place already.
    expect(d.kept).toHaveLength(19 + usual.length);
    expect(d.dropped).toHaveLength(281);
    expect(d.kept.slice(-usual.length)).toEqual(usual);
  });

  it('counts an absent tag and its empty value as one series, as InfluxDB stores neither', () => {
    expect(seriesKey(ping('a'))).toBe(seriesKey({ ...ping('a'), role: '' } as unknown as Sample));
    expect(seriesKey(ping('a', 'gateway'))).not.toBe(seriesKey(ping('a')));
    expect(seriesKey(ping('a\u0000b'))).not.toBe(seriesKey(ping('a')));
  });

  it('lets a changed config in once the old targets went unseen for forgetAfterMs', () => {
    const tracker = new CardinalityTracker({ ...DEFAULTS, maxSeriesPerProbe: 5 });
    ok(tracker.batch(A, 'box-1', targets(0, 5), T0));
    // New config: targets 3, 4 kept, 5, 6, 7 added. Too early: only the known ones pass.
    const renamed = targets(3, 5);
    expect(ok(tracker.batch(A, 'box-1', renamed, T0 + DAY)).kept.map(seriesKey)).toEqual(
      targets(3, 2).map(seriesKey),
    );
    expect(ok(tracker.batch(A, 'box-1', renamed, T0 + 7 * DAY - 1)).dropped).toHaveLength(3);
    // Targets 0–2, last seen at T0, are forgotten a week later: the new ones take their places.
    const later = ok(tracker.batch(A, 'box-1', renamed, T0 + 7 * DAY));
    expect(later.kept).toEqual(renamed);
    expect(later.dropped).toEqual([]);
    expect(tracker.stats().series).toBe(5);
  });
});

describe('series bounds: agents of a school', () => {
  it('admits 4 of 200 invented agent ids, says so once, and names the ones holding the places', () => {
    const tracker = new CardinalityTracker(DEFAULTS);
    const refused = [];
    for (let i = 0; i < 200; i++) {
      const d = tracker.batch(A, `a-${i}`, [ping('gateway')], T0 + i);
      if (!d.ok) refused.push(d);
    }
    expect(refused).toHaveLength(196);
    expect(refused[0]).toEqual({
      ok: false,
      known: ['a-0', 'a-1', 'a-2', 'a-3'],
      notice: { uai: A, bound: 'agents', agent: 'a-4', limit: 4 },
    });
    expect(refused.filter((d) => d.notice)).toHaveLength(1);
    expect(tracker.stats()).toMatchObject({ agents: 4, series: 4 });
    // The admitted agents go on, events and live statuses too.
    expect(tracker.batch(A, 'a-2', [ping('gateway')], T0 + 500).ok).toBe(true);
    expect(tracker.agent(A, 'a-3', T0 + 500).ok).toBe(true);
    expect(tracker.agent(A, 'a-200', T0 + 500).ok).toBe(false);
  });

  it('frees the place of a box gone for forgetAfterMs (a replacement box reports)', () => {
    const tracker = new CardinalityTracker({ ...DEFAULTS, maxAgentsPerSchool: 1 });
    expect(tracker.batch(A, 'old-box', [ping('gateway')], T0).ok).toBe(true);
    expect(tracker.batch(A, 'new-box', [ping('gateway')], T0 + 7 * DAY - 1).ok).toBe(false);
    expect(tracker.batch(A, 'new-box', [ping('gateway')], T0 + 7 * DAY).ok).toBe(true);
    expect(tracker.stats()).toMatchObject({ agents: 1, series: 1 });
    expect(tracker.batch(A, 'old-box', [ping('gateway')], T0 + 7 * DAY + 1).ok).toBe(false);
  });

  it('lets retained statuses of dead boxes pass without taking the places of live ones', () => {
    const tracker = new CardinalityTracker({ ...DEFAULTS, maxAgentsPerSchool: 2 });
    for (const dead of ['dead-1', 'dead-2', 'dead-3'])
      expect(tracker.agent(A, dead, T0, false).ok).toBe(true);
    expect(tracker.batch(A, 'live-1', [ping('gateway')], T0 + 1).ok).toBe(true);
    expect(tracker.batch(A, 'live-2', [ping('gateway')], T0 + 2).ok).toBe(true);
    // Now the school is full: a retained status of an agent without a place is refused, a holder's passes.
    expect(tracker.agent(A, 'dead-1', T0 + 3, false).ok).toBe(false);
    expect(tracker.agent(A, 'live-1', T0 + 3, false).ok).toBe(true);
  });

  it('tells the team again after a quiet window, not before', () => {
    const tracker = new CardinalityTracker({ ...DEFAULTS, maxAgentsPerSchool: 1 });
    tracker.batch(A, 'box', [ping('gateway')], T0);
    const notice = (at: number) => {
      const d = tracker.agent(A, 'intruder', at);
      return !d.ok && d.notice !== undefined;
    };
    expect(notice(T0 + 1)).toBe(true);
    expect(notice(T0 + 6 * DAY)).toBe(false); // still refused: the episode goes on
    tracker.agent(A, 'box', T0 + 12 * DAY); // the box keeps its place
    expect(notice(T0 + 13 * DAY)).toBe(true);
  });
});

describe('series bounds: schools', () => {
  it('keeps a school that publishes normally untouched while another one hits both bounds', () => {
    const tracker = new CardinalityTracker(DEFAULTS);
    for (let i = 0; i < 50; i++) tracker.batch(A, `a-${i}`, targets(i * 2000, 2000), T0 + i);
    const usual = everySample(T0);
    for (const agent of ['box-1', 'box-2', 'box-3', 'box-4']) {
      const d = ok(tracker.batch(B, agent, usual, T0 + 100));
      expect(d.kept).toBe(usual);
      expect(d.notice).toBeUndefined();
    }
    expect(tracker.stats()).toMatchObject({ schools: 2, agents: 8, series: 4 * 160 + 4 * usual.length });
  });

  it('holds maxSchools at most, forgets the least recently seen, and reports only an active one', () => {
    const tracker = new CardinalityTracker({ ...DEFAULTS, maxSchools: 2 });
    const H = 3_600_000;
    tracker.batch('0000001A', 'box', targets(0, 10), T0);
    tracker.batch('0000002B', 'box', targets(0, 10), T0 + H);
    // A seen again (past the refresh step, forgetAfterMs / 64 = 2.6 h): B is now the least recently seen.
    tracker.batch('0000001A', 'box', targets(0, 10), T0 + 3 * H);
    const d = ok(tracker.batch('0000003C', 'box', targets(0, 10), T0 + 4 * H));
    expect(d.forgotten).toEqual({ uai: '0000002B', lastSeen: T0 + H });
    expect(tracker.stats()).toEqual({ schools: 2, agents: 2, series: 20, schoolsForgotten: 1 });
    // A school unseen for the whole window makes room silently.
    const quiet = ok(tracker.batch('0000004D', 'box', targets(0, 10), T0 + 3 * H + 7 * DAY));
    expect(quiet.forgotten).toBeUndefined();
    expect(tracker.stats()).toEqual({ schools: 2, agents: 2, series: 20, schoolsForgotten: 1 });
  });
});
