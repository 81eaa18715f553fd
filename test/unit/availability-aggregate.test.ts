// Aggregates (commune, ISP, fleet) weight by open time; stored daily totals add up to the month and
// the school year exactly. Hand-computed, run under TZ=UTC and TZ=Pacific/Chatham.
import { describe, expect, it } from 'vitest';
import {
  aggregate,
  aggregateBy,
  availabilityRates,
  dailyTotals,
  monthPeriod,
  monthsOf,
  type SchoolRow,
  schoolYearPeriod,
  sumTotals,
  totalsOf,
} from '../../shared/availability/index.ts';
import { at, figures, H, OUTAGES_0690001B, OUTAGES_0690002C, PARIS } from '../harness/availability.ts';

const NOV = monthPeriod(2026, 11, PARIS);

// November 2026, every school measured throughout except 0690004E (no data at all):
//   0690001B Lyon / Orange, `school`:            open 153 h, lost 22.5 h, up 130.5 h → 85.29 %
//   0690002C Lyon / Free, `school`:              open 153 h, lost 139 h,  up 14 h    →  9.15 %
//   0690003D Villeurbanne / Orange, `school-wednesday`, no outage:
//                                                open 165 h (153 + 3 Wednesdays × 4 h), up 165 h → 100 %
//   0690004E Villeurbanne / Free, `school`, no data: open 153 h, not measured 153 h → unknown
const ROWS: SchoolRow[] = [
  {
    school: { uai: '0690001B', commune: 'Lyon', isp: 'Orange' },
    figures: figures(NOV, OUTAGES_0690001B).result,
  },
  {
    school: { uai: '0690002C', commune: 'Lyon', isp: 'Free' },
    figures: figures(NOV, OUTAGES_0690002C).result,
  },
  {
    school: { uai: '0690003D', commune: 'Villeurbanne', isp: 'Orange' },
    figures: figures(NOV, [], { profile: 'school-wednesday' }).result,
  },
  {
    school: { uai: '0690004E', commune: 'Villeurbanne', isp: 'Free' },
    figures: figures(NOV, [], { measured: [] }).result,
  },
];
const mean = (xs: (number | null)[]) => {
  const ok = xs.filter((x): x is number => x !== null);
  return ok.reduce((a, b) => a + b, 0) / ok.length;
};

describe('aggregates weight by open time', () => {
  it('the fleet: Σ up / Σ (up + lost), not the mean of the schools’ percentages', () => {
    const fleet = aggregate(ROWS);
    expect(fleet.schoolCount).toBe(4);
    expect(fleet.openMs).toBe(624 * H); // 153 × 3 + 165
    expect(fleet.upMs).toBe(309.5 * H); // 130.5 + 14 + 165 + 0
    expect(fleet.lostMs).toBe(161.5 * H); // 22.5 + 139
    expect(fleet.notMeasuredMs).toBe(153 * H);
    expect(fleet.availabilityPct).toBeCloseTo((100 * 309.5) / 471, 10); // 65.71 %
    expect(fleet.coveragePct).toBeCloseTo((100 * 471) / 624, 10); // 75.48 %
    // The mean of 85.29, 9.15 and 100 (the school without data has none) is 64.81 %: wrong.
    expect(mean(ROWS.map((r) => r.figures.availabilityPct))).toBeCloseTo(64.81, 2);
    expect(fleet.lostMsByCause).toEqual({ wan_cut: 20.5 * H, power_or_box: 139 * H, unknown: 2 * H });
    // Day and night: up 548.5 + 84 + 720 = 1352.5 h, down 171.5 + 636 = 807.5 h of 4 × 720 h.
    expect(fleet.calendarUptimePct).toBeCloseTo((100 * 1352.5) / 2160, 10); // 62.62 %
    expect(fleet.calendarCoveragePct).toBe(75); // 2160 / 2880
    expect(fleet.outageCount).toBe(3);
    expect(fleet).toMatchObject({ longestOutageMs: 636 * H, longestOutageUai: '0690002C' });
  });

  it('per ISP: Orange weighs its Wednesday school by its 165 hours', () => {
    const byIsp = aggregateBy(ROWS, 'isp');
    expect(byIsp.map((g) => g.key)).toEqual(['Free', 'Orange']);
    const orange = byIsp[1]!.figures;
    expect(orange.availabilityPct).toBeCloseTo((100 * 295.5) / 318, 10); // (130.5 + 165) / (153 + 165) = 92.92 %
    expect(mean([85.294117647, 100])).toBeCloseTo(92.65, 2); // the average of percentages differs
    const free = byIsp[0]!.figures;
    expect(free.availabilityPct).toBeCloseTo((100 * 14) / 153, 10); // 0690004E has no data: no weight
    expect(free.coveragePct).toBe(50); // 153 measured of 306 open
  });

  it('per commune: with equal open time both ways agree, and only then', () => {
    const byCommune = aggregateBy(ROWS, 'commune');
    const lyon = byCommune.find((g) => g.key === 'Lyon')!.figures;
    expect(lyon.availabilityPct).toBeCloseTo((100 * 144.5) / 306, 10); // 47.22 %
    expect(lyon.availabilityPct).toBeCloseTo(mean([85.294117647, 9.150326797]), 6); // 153 h each
    const villeurbanne = byCommune.find((g) => g.key === 'Villeurbanne')!.figures;
    expect(villeurbanne.availabilityPct).toBe(100);
    expect(villeurbanne.coveragePct).toBeCloseTo((100 * 165) / 318, 10);
  });

  it('a school without commune is grouped under null, last, not dropped', () => {
    const rows = [...ROWS, { school: { uai: '0690005F' }, figures: ROWS[0]!.figures }];
    const groups = aggregateBy(rows, 'commune');
    expect(groups.map((g) => g.key)).toEqual(['Lyon', 'Villeurbanne', null]);
    expect(groups[2]!.figures.schoolCount).toBe(1);
  });
});

describe('stored daily totals add up exactly', () => {
  it('the 30 days of November sum to November, whose rates they reproduce', () => {
    const { input, result: month } = figures(NOV, OUTAGES_0690001B);
    const days = dailyTotals(input, PARIS);
    expect(days).toHaveLength(30);
    const { date: _d, startMs: _s, endMs: _e, ...mon16 } = days.find((d) => d.date === '2026-11-16')!;
    expect(mon16).toMatchObject({ openMs: 9 * H, lostMs: 1 * H, calendarDownMs: 9 * H }); // 00:00–09:00
    expect(sumTotals(days)).toEqual(totalsOf(month));
    expect(availabilityRates(sumTotals(days)).calendarUptimePct).toBeCloseTo(76.18, 2);
  });

  it('with an exclusion and a period not over yet', () => {
    const { input, result: month } = figures(NOV, OUTAGES_0690001B, {
      annotations: [
        {
          kind: 'exclude',
          fromMs: at('2026-11-05T09:00'),
          toMs: at('2026-11-06T12:00'),
          author: 'Claire Martin (DSI)',
          reason: 'Grève',
        },
      ],
      asOfMs: at('2026-11-20T10:00'),
    });
    const days = dailyTotals(input, PARIS);
    expect(days).toHaveLength(20); // 1 … 20 Nov, the last cut at 10:00
    expect(sumTotals(days)).toEqual(totalsOf(month));
  });

  it('the months of school year 2026-2027 sum to the year, the 43-day outage included', () => {
    const year = schoolYearPeriod(2026, PARIS);
    const whole = figures(year, OUTAGES_0690002C).result;
    const months = monthsOf(year, PARIS).map((m) => totalsOf(figures(m, OUTAGES_0690002C).result));
    expect(sumTotals(months)).toEqual(totalsOf(whole));
    expect(whole.lostMs).toBe(155 * H); // 16 h in October + 139 h in November
  });

  it('school year 2025-2026 boundaries: an outage across each end is split between the years', () => {
    const y2024 = schoolYearPeriod(2024, PARIS);
    const y2025 = schoolYearPeriod(2025, PARIS);
    const y2026 = schoolYearPeriod(2026, PARIS);
    // Sun 31 Aug 2025 22:00 → Mon 1 Sept 2025 09:00 (back-to-school day, summer holidays end 31 Aug).
    const first = [
      { startMs: at('2025-08-31T22:00'), endMs: at('2025-09-01T09:00'), cause: 'unknown' as const },
    ];
    const a = figures(y2024, first).result;
    const b = figures(y2025, first).result;
    expect([a.calendarDownMs, a.lostMs]).toEqual([2 * H, 0]); // 22:00–24:00 on a Sunday
    expect([b.calendarDownMs, b.lostMs]).toEqual([9 * H, 1 * H]); // 00:00–09:00, class from 08:00
    // Mon 31 Aug 2026 23:00 → Tue 1 Sept 2026 01:00: one hour each side, none of it open.
    const last = [
      { startMs: at('2026-08-31T23:00'), endMs: at('2026-09-01T01:00'), cause: 'unknown' as const },
    ];
    expect(figures(y2025, last).result.calendarDownMs).toBe(1 * H);
    expect(figures(y2026, last).result.calendarDownMs).toBe(1 * H);
    expect(figures(y2025, last).result.lostMs + figures(y2026, last).result.lostMs).toBe(0);
  });
});
