// The availability engine (shared/availability/engine.ts) on hand-computed cases. The arithmetic of
// every expected value is written beside it. Run under TZ=UTC and TZ=Pacific/Chatham: nothing may
// depend on the process zone.
import { describe, expect, it } from 'vitest';
import {
  type Annotation,
  annotationProblems,
  annotationsFor,
  type ExcludeAnnotation,
  monthPeriod,
  schoolAvailability,
  schoolYearPeriod,
} from '../../shared/availability/index.ts';
import {
  at,
  figures,
  H,
  MIN,
  OUTAGES_0690001B,
  OUTAGES_0690002C,
  outage,
  PARIS,
} from '../harness/availability.ts';

const NOV = monthPeriod(2026, 11, PARIS);
const OCT = monthPeriod(2026, 10, PARIS);

describe('issue 15 acceptance figures, November 2026', () => {
  // Open time: 1 Nov 2026 is a Sunday (and the last day of the autumn holidays, 17 Oct – 1 Nov
  // inclusive); the Mon/Tue/Thu/Fri are 2 3 5 6 9 10 12 13 16 17 19 20 23 24 26 27 30 = 17 days
  // × 9 h = 153 h. 11 Nov (public holiday) is a Wednesday: no effect on `school`.
  // Calendar: 30 d × 24 h = 720 h (the clocks changed on 25 Oct, none in November).
  it('0690001B: 76.18 % calendar uptime, 22.5 h lost in school hours', () => {
    const { result: f } = figures(NOV, OUTAGES_0690001B);
    expect(f.openMs).toBe(153 * H);
    expect(f.calendarMs).toBe(720 * H);
    // Outage 1 in November: 1 Nov 00:00 → 5 Nov 10:30 = 4 d 10.5 h = 106.5 h;
    //   open: Mon 2 (9 h) + Tue 3 (9 h) + Thu 5 08:00–10:30 (2.5 h) = 20.5 h (Wed 4 closed).
    // Outage 2: Fri 13 16:00 → Mon 16 09:00 = 8 + 48 + 9 = 65 h; open: Fri 16–17 + Mon 08–09 = 2 h.
    expect(f.calendarDownMs).toBe(171.5 * H); // 106.5 + 65
    expect(f.calendarUptimePct).toBeCloseTo(76.18, 2); // 100 × (720 − 171.5) / 720 = 76.1805…
    expect(f.lostMs).toBe(22.5 * H); // 20.5 + 2
    expect(f.availabilityPct).toBeCloseTo(85.29, 2); // 100 × (153 − 22.5) / 153 = 85.294…
    expect(f.coveragePct).toBe(100);
    expect(f.lostMsByCause).toEqual({ wan_cut: 20.5 * H, power_or_box: 0, unknown: 2 * H });
    expect(f.calendarDownMsByCause).toEqual({ wan_cut: 106.5 * H, power_or_box: 0, unknown: 65 * H });
    expect(f.outageCount).toBe(2);
    expect(f.longestOutageMs).toBe(106.5 * H); // clipped to November
    expect(f.longestOutageLostMs).toBe(20.5 * H);
    expect(f.outages.map((o) => o.ongoing)).toEqual([false, false]);
  });

  it('0690002C: 11.67 % calendar uptime, 139 of its 153 open hours lost', () => {
    const { result: f } = figures(NOV, OUTAGES_0690002C);
    // 1 Nov 00:00 → 27 Nov 12:00 = 26 d 12 h = 636 h of the month's 720.
    expect(f.calendarDownMs).toBe(636 * H);
    expect(f.calendarUptimePct).toBeCloseTo(11.67, 2); // 100 × 84 / 720 = 11.666…
    // Open days 2 … 26 = 15 days × 9 h = 135 h, + Fri 27 08:00–12:00 = 4 h → 139 h.
    expect(f.openMs).toBe(153 * H);
    expect(f.lostMs).toBe(139 * H);
    // Up: Fri 27 12:00–17:00 (5 h) + Mon 30 (9 h) = 14 h = 153 − 139.
    expect(f.upMs).toBe(14 * H);
    expect(f.availabilityPct).toBeCloseTo(9.15, 2); // 100 × 14 / 153 = 9.150…
    expect(f.longestOutageMs).toBe(636 * H);
  });
});

describe('October 2026 for the same schools stays in [0, 100]', () => {
  // October 2026 = 1 Oct 00:00 (+02:00) → 1 Nov 00:00 (+01:00) = 31 × 24 + 1 = 745 h (25 Oct is
  // 25 h long). Open: Mon/Tue/Thu/Fri of 1–16 Oct = 1 2 5 6 8 9 12 13 15 16 = 10 × 9 h = 90 h.
  it('0690002C: the 43-day outage is clipped to the month', () => {
    const { result: f } = figures(OCT, OUTAGES_0690002C);
    expect(f.calendarMs).toBe(745 * H);
    expect(f.openMs).toBe(90 * H);
    // 15 Oct 10:00 → 1 Nov 00:00 = 16 d 14 h + the hour 25 Oct repeats = 399 h.
    expect(f.calendarDownMs).toBe(399 * H);
    expect(f.calendarUptimePct).toBeCloseTo(46.44, 2); // 100 × 346 / 745 = 46.44…
    // Thu 15 10:00–17:00 (7 h) + Fri 16 (9 h) = 16 h; 100 × 74 / 90 = 82.22 %.
    expect(f.lostMs).toBe(16 * H);
    expect(f.availabilityPct).toBeCloseTo(82.22, 2);
    expect(f.outages[0]!.ongoing).toBe(true);
    // Counting the whole outage (15 Oct 08:00Z → 27 Nov 11:00Z = 43 d 3 h = 1035 h) in the month it
    // began, as a read of `duration_s` by point time would, gives 100 × (1 − 1035 / 745) = −38.9 %.
    expect(OUTAGES_0690002C[0]!.endMs! - OUTAGES_0690002C[0]!.startMs).toBe(1035 * H);
  });

  it('0690001B: an outage inside the autumn holidays costs no school time', () => {
    const { result: f } = figures(OCT, OUTAGES_0690001B);
    // 27 Oct 10:00 → 1 Nov 00:00 (both +01:00) = 4 d 14 h = 110 h; 100 × 635 / 745 = 85.23 %.
    expect(f.calendarDownMs).toBe(110 * H);
    expect(f.calendarUptimePct).toBeCloseTo(85.23, 2);
    expect(f.lostMs).toBe(0);
    expect(f.availabilityPct).toBe(100);
    expect(f.outageCount).toBe(0); // took no open time
    expect(f.outageCountCalendar).toBe(1);
  });

  it('both rates of both schools lie in [0, 100] for every month of the school year', () => {
    for (const outages of [OUTAGES_0690001B, OUTAGES_0690002C])
      for (let m = 1; m <= 12; m++) {
        const period = m >= 9 ? monthPeriod(2026, m, PARIS) : monthPeriod(2027, m, PARIS);
        const { result: f } = figures(period, outages);
        for (const pct of [f.availabilityPct, f.calendarUptimePct, f.coveragePct]) {
          expect(pct).toBeGreaterThanOrEqual(0);
          expect(pct).toBeLessThanOrEqual(100);
        }
      }
  });
});

describe('outages across boundaries', () => {
  it('across midnight: Mon 16 Nov 16:30 → Tue 17 Nov 08:30', () => {
    const { result: f } = figures(NOV, [outage('2026-11-16T16:30', '2026-11-17T08:30')]);
    expect(f.calendarDownMs).toBe(16 * H); // 7.5 h Monday + 8.5 h Tuesday
    expect(f.lostMs).toBe(60 * MIN); // Mon 16:30–17:00 + Tue 08:00–08:30
  });

  it('across a month end: Fri 30 Jan 2026 16:00 → Mon 2 Feb 10:00 is split between the months', () => {
    const o = [outage('2026-01-30T16:00', '2026-02-02T10:00')];
    const jan = figures(monthPeriod(2026, 1, PARIS), o).result;
    const feb = figures(monthPeriod(2026, 2, PARIS), o).result;
    expect(jan.calendarDownMs).toBe(32 * H); // Fri 30 16:00 → 24:00 (8 h) + Sat 31 (24 h)
    expect(jan.lostMs).toBe(1 * H); // Fri 16:00–17:00
    expect(jan.outages[0]!.ongoing).toBe(true); // still going at the end of January
    expect(feb.calendarDownMs).toBe(34 * H); // 1 Feb 00:00 → 2 Feb 10:00 = 24 + 10
    expect(feb.lostMs).toBe(2 * H); // Mon 08:00–10:00
    expect(jan.outageCount + feb.outageCount).toBe(2); // one per month it touched
  });

  it('across a weekend: Fri 20 Nov 15:00 → Mon 23 Nov 10:00', () => {
    const { result: f } = figures(NOV, [outage('2026-11-20T15:00', '2026-11-23T10:00')]);
    expect(f.calendarDownMs).toBe(67 * H); // 9 h Fri + 48 h weekend + 10 h Mon
    expect(f.lostMs).toBe(4 * H); // Fri 15–17 + Mon 08–10
  });

  it('inside the autumn holidays: Tue 20 Oct 09:00 → Thu 22 Oct 12:00', () => {
    const { result: f } = figures(OCT, [outage('2026-10-20T09:00', '2026-10-22T12:00')]);
    expect(f.calendarDownMs).toBe(51 * H); // 15 h + 24 h + 12 h
    expect(f.lostMs).toBe(0);
    expect(f.availabilityPct).toBe(100); // 90 h open, all up
    expect(f.calendarUptimePct).toBeCloseTo((100 * (745 - 51)) / 745, 10);
  });
});

describe('DST changes (Paris: 29 Mar 2026 02:00 → 03:00, 25 Oct 2026 03:00 → 02:00)', () => {
  it('March: the month is 743 h, a weekend outage 47 h, school time untouched', () => {
    const mar = monthPeriod(2026, 3, PARIS);
    const { result: f } = figures(mar, [outage('2026-03-28T12:00', '2026-03-30T12:00')]);
    expect(f.calendarMs).toBe(743 * H); // 31 × 24 − 1
    expect(f.calendarDownMs).toBe(47 * H); // 48 h of wall clock minus the skipped hour
    expect(f.lostMs).toBe(4 * H); // Mon 30 Mar 08:00–12:00, summer time
    // A profile open all weekend: Sat 28 (24 h) + Sun 29 (23 h) + nothing Monday = 47 h.
    const w = figures(mar, [outage('2026-03-28T00:00', '2026-03-30T00:00')], { profile: 'weekend' }).result;
    expect(w.lostMs).toBe(47 * H);
  });

  it('October: the month is 745 h, a weekend outage 49 h; 25 Oct is 25 h of open time', () => {
    const w = figures(OCT, [outage('2026-10-24T12:00', '2026-10-26T12:00')], { profile: 'weekend' }).result;
    expect(w.calendarDownMs).toBe(49 * H); // 48 h of wall clock plus the repeated hour
    expect(w.lostMs).toBe(37 * H); // Sat 12:00–24:00 (12 h) + Sun 25 Oct (25 h)
    // A whole-month outage: 0 %, not below.
    const all = figures(OCT, [outage('2026-09-30T12:00', '2026-11-02T12:00')]).result;
    expect(all.calendarDownMs).toBe(745 * H);
    expect(all.calendarUptimePct).toBe(0);
    expect(all.availabilityPct).toBe(0);
  });

  it('one outage across both changes, longer than 35 days (Fri 27 Mar 17:00 → Mon 26 Oct 08:00)', () => {
    const o = [outage('2026-03-27T17:00', '2026-10-26T08:00')];
    const period = { startMs: at('2026-03-01T00:00'), endMs: at('2026-11-01T00:00') };
    // 27 Mar 17:00 → 27 Oct 17:00 is 214 days (31 + 30 + 31 + 30 + 31 + 31 + 30), so 26 Oct 08:00 is
    // 213 d − 9 h = 5103 h of wall clock; the hour lost in March comes back in October: 5103 h.
    const w = figures(period, o, { profile: 'weekend' }).result;
    expect(w.calendarDownMs).toBe(5103 * H);
    // Weekends from Sat 28 Mar to Sun 25 Oct: 30 weeks from 28 Mar to 23 Oct + 24–25 Oct = 31
    // weekends = 62 days × 24 h − 1 h (29 Mar) + 1 h (25 Oct) = 1488 h; minus Sat 15 Aug
    // (Assomption, a public holiday) = 1464 h.
    expect(w.lostMs).toBe(1464 * H);
    const noHolidays = figures(period, o, {
      profile: 'weekend',
      publicHolidays: { profiles: { weekend: 'none' } },
    }).result;
    expect(noHolidays.lostMs).toBe(1488 * H);
  });
});

describe('a school open on Wednesday morning (school-wednesday)', () => {
  it('loses Wednesday morning where `school` loses nothing', () => {
    const o = [outage('2026-11-18T07:00', '2026-11-18T13:00')];
    expect(figures(NOV, o, { profile: 'school-wednesday' }).result.lostMs).toBe(4 * H); // 08–12
    expect(figures(NOV, o, { profile: 'school' }).result.lostMs).toBe(0);
  });

  it('is closed on 11 November (public holiday) unless its profile opts out', () => {
    const o = [outage('2026-11-11T07:00', '2026-11-11T13:00')];
    const f = figures(NOV, o, { profile: 'school-wednesday' }).result;
    // 153 h + Wednesdays 4, 18, 25 Nov × 4 h = 165 h (11 Nov is a public holiday).
    expect(f.openMs).toBe(165 * H);
    expect(f.lostMs).toBe(0);
    const opt = { profile: 'school-wednesday', publicHolidays: { profiles: { 'school-wednesday': 'none' } } };
    const g = figures(NOV, o, opt as Parameters<typeof figures>[2]).result;
    expect(g.openMs).toBe(169 * H); // + 11 Nov 08–12
    expect(g.lostMs).toBe(4 * H);
  });
});

describe('an outage longer than 35 days', () => {
  it('counts in full over the school year', () => {
    const year = schoolYearPeriod(2026, PARIS);
    const f = figures(year, OUTAGES_0690002C).result;
    expect(f.calendarDownMs).toBe(1035 * H); // 15 Oct 08:00Z → 27 Nov 11:00Z = 43 d 3 h
    expect(f.lostMs).toBe(155 * H); // October 16 h + November 139 h
    expect(f.outageCount).toBe(1);
    expect(f.longestOutageMs).toBe(1035 * H);
  });
});

describe('an outage still open', () => {
  const open = [outage('2026-11-30T16:00', null, 'wan_cut')];

  it('counts up to the end of the period', () => {
    const f = figures(NOV, open).result;
    expect(f.calendarDownMs).toBe(8 * H); // Mon 30 Nov 16:00 → 1 Dec 00:00
    expect(f.lostMs).toBe(1 * H); // 16:00–17:00
    expect(f.outages[0]).toMatchObject({ ongoing: true, endMs: null, inPeriodMs: 8 * H });
  });

  it('counts up to now in a period not over yet, and the rest of the period is left out', () => {
    const f = figures(NOV, open, { asOfMs: at('2026-11-30T16:45') }).result;
    expect(f.endMs).toBe(at('2026-11-30T16:45'));
    expect(f.lostMs).toBe(45 * MIN);
    expect(f.openMs).toBe(153 * H - 15 * MIN); // 16:45–17:00 has not happened yet
    expect(f.calendarMs).toBe(720 * H - 7 * H - 15 * MIN); // 30 Nov 16:45 → 1 Dec 00:00 = 7 h 15 min
  });

  it('an outage that ends after the period is ongoing at its end too', () => {
    const f = figures(NOV, [outage('2026-11-30T16:00', '2026-12-01T09:00')]).result;
    expect(f.outages[0]!.ongoing).toBe(true);
    expect(f.lostMs).toBe(1 * H);
  });
});

describe('annotations', () => {
  const works: ExcludeAnnotation = {
    kind: 'exclude',
    fromMs: at('2026-11-02T00:00'),
    toMs: at('2026-11-03T00:00'),
    uai: ['0690001B'],
    author: 'Claire Martin (DSI)',
    reason: 'Travaux Orange annoncés sur le NRA',
  };

  it('an excluded window takes part of an outage out of every figure', () => {
    const f = figures(NOV, OUTAGES_0690001B, { annotations: [works] }).result;
    expect(f.excludedOpenMs).toBe(9 * H); // Mon 2 Nov 08–17
    expect(f.openMs).toBe(144 * H); // 153 − 9
    expect(f.lostMs).toBe(13.5 * H); // 22.5 − 9
    expect(f.availabilityPct).toBeCloseTo(90.625, 10); // 100 × (144 − 13.5) / 144
    expect(f.calendarExcludedMs).toBe(24 * H);
    expect(f.calendarMs).toBe(696 * H); // 720 − 24
    expect(f.calendarDownMs).toBe(147.5 * H); // 171.5 − 24
    expect(f.calendarUptimePct).toBeCloseTo((100 * 548.5) / 696, 10); // 78.81 %
  });

  it('applies to the schools it names only; one naming none applies to all (a strike day)', () => {
    expect(annotationsFor([works], { uai: '0690002C' })).toEqual([]);
    expect(annotationsFor([works], { uai: '0690001B' })).toEqual([works]);
    const { uai: _named, ...strike } = { ...works, reason: 'Grève nationale' };
    expect(annotationsFor([strike], { uai: '0690002C', commune: 'Lyon' })).toEqual([strike]);
    const lyon: Annotation = { ...strike, commune: ['Lyon'] };
    expect(annotationsFor([lyon], { uai: '0690002C', commune: 'Villeurbanne' })).toEqual([]);
    expect(annotationsFor([lyon], { uai: '0690002C' })).toEqual([]); // commune unknown: no match
  });

  it('a reclassified cause moves the lost time; the later correction wins', () => {
    const second = OUTAGES_0690001B[1]!.startMs;
    const annotations: Annotation[] = [
      {
        kind: 'reclassify',
        uai: '0690001B',
        outageStartMs: second,
        cause: 'power_or_box',
        author: 'A. Bernard',
        reason: 'Coupure EDF ?',
        createdAtMs: at('2026-12-01T10:00'),
      },
      {
        kind: 'reclassify',
        uai: '0690001B',
        outageStartMs: second,
        cause: 'wan_cut',
        author: 'Claire Martin (DSI)',
        reason: 'Orange confirme la coupure (ticket 4521)',
        createdAtMs: at('2026-12-02T10:00'),
      },
    ];
    const f = figures(NOV, OUTAGES_0690001B, { annotations: [...annotations].reverse() }).result;
    expect(f.lostMsByCause).toEqual({ wan_cut: 22.5 * H, power_or_box: 0, unknown: 0 }); // 20.5 + 2
    expect(f.outages[1]).toMatchObject({
      cause: 'wan_cut',
      recordedCause: 'unknown',
      reclassified: { author: 'Claire Martin (DSI)', reason: 'Orange confirme la coupure (ticket 4521)' },
    });
    expect(f.lostMs).toBe(22.5 * H); // the totals do not move
  });

  it('refuses an annotation without author or reason, or with an empty window', () => {
    expect(annotationProblems(works)).toEqual([]);
    expect(annotationProblems({ ...works, author: ' ', reason: '', toMs: works.fromMs })).toEqual([
      'author: required',
      'reason: required',
      'toMs: must come after fromMs',
    ]);
    expect(
      annotationProblems({
        kind: 'reclassify',
        uai: '0690001B',
        outageStartMs: 0,
        cause: 'storm' as 'unknown',
        author: 'x',
        reason: 'y',
      }),
    ).toEqual(['cause: one of wan_cut, power_or_box, unknown']);
  });
});

describe('time with no data is not measured, never up', () => {
  it('a period with no data at all: coverage 0 %, availability unknown (not 100 %)', () => {
    const f = figures(NOV, [], { measured: [] }).result;
    expect(f.openMs).toBe(153 * H);
    expect(f.notMeasuredMs).toBe(153 * H);
    expect(f.upMs).toBe(0);
    expect(f.coveragePct).toBe(0);
    expect(f.availabilityPct).toBeNull();
    expect(f.calendarCoveragePct).toBe(0);
    expect(f.calendarUptimePct).toBeNull();
  });

  it('half the month measured: availability over the measured part, coverage says how much', () => {
    const measured: [number, number][] = [[NOV.startMs, at('2026-11-16T00:00')]];
    const f = figures(NOV, [outage('2026-11-20T10:00', '2026-11-20T12:00')], { measured }).result;
    // Measured open time: 2 3 5 6 9 10 12 13 Nov = 8 × 9 = 72 h; the outage on the 20th is known
    // although unmeasured: 2 h lost. Known 74 h; not measured 153 − 74 = 79 h.
    expect(f.upMs).toBe(72 * H);
    expect(f.lostMs).toBe(2 * H);
    expect(f.notMeasuredMs).toBe(79 * H);
    expect(f.availabilityPct).toBeCloseTo((100 * 72) / 74, 10); // 97.30 %
    expect(f.coveragePct).toBeCloseTo((100 * 74) / 153, 10); // 48.37 %
  });
});

describe('inputs', () => {
  it('overlapping outages count once, for the one that began first', () => {
    const f = figures(NOV, [
      outage('2026-11-02T09:00', '2026-11-02T11:00', 'wan_cut'),
      outage('2026-11-02T10:00', '2026-11-02T12:00', 'unknown'),
    ]).result;
    expect(f.lostMs).toBe(3 * H); // 09:00–12:00
    expect(f.lostMsByCause).toEqual({ wan_cut: 2 * H, power_or_box: 0, unknown: 1 * H });
  });

  it('refuses an outage ending before it starts', () => {
    expect(() =>
      schoolAvailability({
        startMs: NOV.startMs,
        endMs: NOV.endMs,
        open: [],
        measured: [],
        outages: [{ startMs: at('2026-11-02T10:00'), endMs: at('2026-11-02T09:00'), cause: 'unknown' }],
      }),
    ).toThrow(RangeError);
  });
});
