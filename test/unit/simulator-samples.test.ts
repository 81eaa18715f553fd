// The simulator's sample generators: every batch it can build must pass the collector's own decoder.
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../shared/registry.ts';
import type { MetricsBatch, PingSample, Sample } from '../../shared/schemas.ts';
import { PROBE_KINDS } from '../../shared/schemas.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import { buildFleet } from '../../simulator/fleet.ts';
import { agentRng } from '../../simulator/random.ts';
import {
  certDaysLeft,
  DEFAULT_ROUND_OPTIONS,
  type LinkState,
  measureRound,
  newAgentState,
  pingRound,
} from '../../simulator/samples.ts';

const registry = [...loadRegistry('examples/agglomeration.csv').values()];
// Monday 2026-03-02 00:00 Paris (UTC+1).
const MONDAY = Date.UTC(2026, 2, 1, 23, 0, 0);
const HOUR = 3_600_000;
const LINKS: LinkState[] = [
  { kind: 'up' },
  { kind: 'wan-cut' },
  { kind: 'degraded', extraLossPct: 30, latencyFactor: 4 },
];

function batchOf(uai: string, seq: number, t: number, samples: Sample[]): MetricsBatch {
  return { v: 1, uai, agent: 'sim-1', seq, t, samples };
}

function roundsFor(seed: number, schools: number, times: number[], link: LinkState = { kind: 'up' }) {
  const fleet = buildFleet(schools, registry, seed);
  return fleet.map((sim) => {
    const rng = agentRng(seed, sim.index, 'samples');
    const state = newAgentState(sim, rng, times[0]!, DEFAULT_ROUND_OPTIONS);
    return times.map((t) => measureRound(sim, state, rng, t, link));
  });
}

describe('simulated samples', () => {
  it('builds batches the collector accepts, for every school, hour of the week and link state', () => {
    const fleet = buildFleet(60, registry, 7);
    const seen = new Set<string>();
    let batches = 0;
    for (const sim of fleet) {
      const rng = agentRng(7, sim.index, 'samples');
      const state = newAgentState(sim, rng, MONDAY, DEFAULT_ROUND_OPTIONS);
      for (let h = 0; h < 7 * 24; h += 5) {
        for (const link of LINKS) {
          const t = MONDAY + h * HOUR + sim.index * 1000;
          state.nextSpeedtestAt = h % 2 ? t : t + HOUR; // a speed test in every other round
          const batch = batchOf(sim.school.uai, batches, t, measureRound(sim, state, rng, t, link));
          const decoded = decodeMetrics(JSON.stringify(batch));
          if (!decoded.ok) throw new Error(`${sim.school.uai} at +${h} h, ${link.kind}: ${decoded.error}`);
          expect(decoded.value).toEqual(batch);
          for (const s of batch.samples) seen.add(s.probe);
          batches++;
        }
      }
    }
    expect(batches).toBe(60 * 34 * 3);
    expect([...seen].sort()).toEqual([...PROBE_KINDS].sort());
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const times = [MONDAY + 10 * HOUR, MONDAY + 10 * HOUR + 60_000];
    expect(roundsFor(3, 40, times)).toEqual(roundsFor(3, 40, times));
    expect(roundsFor(4, 40, times)).not.toEqual(roundsFor(3, 40, times));
  });

  it('shows a WAN cut the way a real box sees it: LAN fine, internet unreachable', () => {
    const [rounds] = roundsFor(1, 1, [MONDAY + 10 * HOUR], { kind: 'wan-cut' });
    const samples = rounds![0]!;
    const pings = samples.filter((s): s is PingSample => s.probe === 'ping');
    expect(pings.find((p) => p.role === 'gateway')?.lossPct).toBe(0);
    for (const p of pings.filter((p) => p.role !== 'gateway')) {
      expect(p).toMatchObject({ lossPct: 100, received: 0, error: 'ETIMEDOUT' });
      expect(p.medianMs).toBeUndefined();
    }
    for (const s of samples) {
      if (s.probe === 'dns') expect(s).toMatchObject({ ok: false, rcode: 'TIMEOUT' });
      if (s.probe === 'http') expect(s).toMatchObject({ ok: false, status: 0, error: 'ENETUNREACH' });
      if (s.probe === 'wifi') expect(s.up).toBe(true);
    }
  });

  it('loads the link in class and leaves it nearly idle at night and on Wednesday', () => {
    const load = (t: number) => {
      const all = roundsFor(9, 30, [t]).map((r) => r[0]!.find((s) => s.probe === 'wan'));
      return all.reduce((sum, s) => sum + (s?.probe === 'wan' ? (s.inPct ?? 0) : 0), 0) / all.length;
    };
    const mondayClass = load(MONDAY + 10 * HOUR);
    const mondayNight = load(MONDAY + 23 * HOUR);
    const wednesdayAfternoon = load(MONDAY + 2 * 24 * HOUR + 14 * HOUR);
    expect(mondayClass).toBeGreaterThan(20);
    expect(mondayNight).toBeLessThan(5);
    expect(wednesdayAfternoon).toBeLessThan(mondayClass / 3);
  });

  it('grows latency to the anchors when the link is degraded', () => {
    const median = (link: LinkState) => {
      const rounds = roundsFor(5, 30, [MONDAY + 10 * HOUR], link);
      const rtts = rounds.flatMap((r) =>
        r[0]!
          .filter((s): s is PingSample => s.probe === 'ping' && s.role === 'anchor')
          .map((p) => p.medianMs ?? 0),
      );
      return rtts.sort((a, b) => a - b)[Math.floor(rtts.length / 2)]!;
    };
    expect(median({ kind: 'degraded', extraLossPct: 5, latencyFactor: 4 })).toBeGreaterThan(
      2.5 * median({ kind: 'up' }),
    );
  });
});

describe('a ping round', () => {
  it('computes its statistics from the echoes it simulated', () => {
    const rng = agentRng(1, 0, 'ping');
    for (let i = 0; i < 500; i++) {
      const p = pingRound(rng, MONDAY, 'anchor-lyon', 'anchor', 20, 10);
      expect(p.sent).toBe(10);
      expect(p.lossPct).toBeCloseTo((100 * (10 - p.received)) / 10, 5);
      if (p.received === 0) continue;
      expect(p.minMs!).toBeLessThanOrEqual(p.medianMs!);
      expect(p.medianMs!).toBeLessThanOrEqual(p.maxMs!);
      expect(p.p95Ms!).toBeLessThanOrEqual(p.maxMs!);
      expect(p.minMs!).toBeLessThanOrEqual(p.avgMs!);
    }
  });

  it('reports a total loss as an error with no round-trip figures', () => {
    const p = pingRound(agentRng(1, 0, 'ping'), MONDAY, 'anchor-lyon', 'anchor', 20, 100);
    expect(p).toEqual({
      probe: 'ping',
      t: MONDAY,
      target: 'anchor-lyon',
      role: 'anchor',
      sent: 10,
      received: 0,
      lossPct: 100,
      error: 'ETIMEDOUT',
    });
  });
});

describe('certificate days left', () => {
  it('counts down and renews at the end of the period', () => {
    const day = 86_400_000;
    expect(certDaysLeft(0, 90, 0)).toBe(90);
    expect(certDaysLeft(10 * day, 90, 0)).toBe(80);
    expect(certDaysLeft(89.5 * day, 90, 0)).toBe(0.5);
    expect(certDaysLeft(90 * day, 90, 0)).toBe(90);
  });
});
