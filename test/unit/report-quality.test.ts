// Quality figures in school hours (report/quality.ts), hand-computed.
import { describe, expect, it } from 'vitest';
import { PingColumns, percentile, qualityFigures } from '../../report/quality.ts';
import { schoolOpenTime } from '../../shared/availability/index.ts';
import { at, CAL, MIN } from '../harness/availability.ts';

const open = schoolOpenTime(CAL, 'school', at('2026-11-02T00:00'), at('2026-11-03T00:00'));

describe('quality figures', () => {
  it('nearest-rank percentiles', () => {
    expect(percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 10)).toBe(1);
    expect(percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 50)).toBeNull();
  });

  it('speed tests in school hours only, against 80 % of the contract', () => {
    // Monday 2 Nov: open 08:00–17:00. Tests at 07:00 (closed, left out), 09:00, 12:00, 16:00.
    const tests = [
      { t: at('2026-11-02T07:00'), downBps: 1e6, upBps: 1e5 },
      { t: at('2026-11-02T09:00'), downBps: 85e6, upBps: 9e6 },
      { t: at('2026-11-02T12:00'), downBps: 60e6, upBps: 8e6 },
      { t: at('2026-11-02T16:00'), downBps: 95e6, upBps: 10e6 },
    ];
    const q = qualityFigures({ open, tests, slots: [], contractedDownMbps: 100 });
    expect(q.speedTests).toBe(3);
    expect(q.downMedianMbps).toBe(85);
    expect(q.downP10Mbps).toBe(60);
    expect(q.upMedianMbps).toBe(9);
    // 85 and 95 reach 80 Mbit/s, 60 does not: 2 of 3.
    expect(q.testsMeetingContractPct).toBeCloseTo(66.667, 3);
    expect(
      qualityFigures({ open, tests, slots: [], contractedDownMbps: null }).testsMeetingContractPct,
    ).toBeNull();
  });

  it('video-class slots: latency ≤ 50 ms and loss ≤ 0.5 %, in school hours', () => {
    const t0 = at('2026-11-02T08:00');
    const slots = [
      { t: t0, latencyMs: 20, lossPct: 0 },
      { t: t0 + 5 * MIN, latencyMs: 50, lossPct: 0.5 }, // on the thresholds: fit
      { t: t0 + 10 * MIN, latencyMs: 51, lossPct: 0 },
      { t: t0 + 15 * MIN, latencyMs: 30, lossPct: 2 },
      { t: t0 + 20 * MIN, latencyMs: null, lossPct: 0 }, // not judged
      { t: at('2026-11-02T20:00'), latencyMs: 900, lossPct: 50 }, // closed: left out
    ];
    const q = qualityFigures({ open, tests: [], slots, contractedDownMbps: 100 });
    expect(q.pingSlots).toBe(5);
    expect(q.videoFitPct).toBe(50);
    expect(q.latencyP50Ms).toBe(30);
    expect(q.latencyP95Ms).toBe(51);
    expect(q.lossMeanPct).toBe(0.5);
  });
});

describe('slots as columns (the report path) and as objects give the same figures', () => {
  it('a month of random slots against the open time of a school month', () => {
    const from = at('2026-11-01T00:00');
    const to = at('2026-12-01T00:00');
    const monthOpen = schoolOpenTime(CAL, 'school', from, to);
    let s = 7;
    const rand = () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const objects: { t: number; latencyMs: number | null; lossPct: number | null }[] = [];
    const columns = new PingColumns();
    for (let t = from; t < to; t += 5 * MIN) {
      const latencyMs = rand() < 0.05 ? null : Math.round(200 + 800 * rand()) / 10;
      const lossPct = rand() < 0.05 ? null : rand() < 0.9 ? 0 : Math.round(200 * rand()) / 100;
      objects.push({ t, latencyMs, lossPct });
      columns.push(t, latencyMs, lossPct);
    }
    const q = (slots: typeof objects | PingColumns) =>
      qualityFigures({ open: monthOpen, tests: [], slots, contractedDownMbps: null });
    expect(q(columns)).toEqual(q(objects));
    expect(q(columns).pingSlots).toBe(monthOpen.reduce((n, [a, b]) => n + (b - a) / (5 * MIN), 0));
  });
});
