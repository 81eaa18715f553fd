// The Continuity dashboard's monthly points (collector/availability-points.ts): which months a run
// writes, in local time, and what one point holds.
import { describe, expect, it } from 'vitest';
import {
  availabilityPoint,
  monthsForRun,
  monthsToWrite,
  type PreviousMonthState,
  startAvailabilityPoints,
  writeAvailabilityPoints,
} from '../../collector/availability-points.ts';
import type { Point } from '../../collector/point.ts';
import type { Figures } from '../../report/figures.ts';
import { monthPeriod } from '../../shared/availability/index.ts';
import { createLogger } from '../../shared/log.ts';

const PARIS = 'Europe/Paris';
const H = 3_600_000;
const school = { uai: '0381234K', commune: 'Vienne', isp: 'Orange', months: [] };

function figures(over: Partial<Figures> = {}): Figures {
  return {
    startMs: 0,
    endMs: 10 * H,
    openMs: 6 * H,
    upMs: 4.5 * H,
    lostMs: 1.5 * H,
    notMeasuredMs: 0,
    excludedOpenMs: 0,
    lostMsByCause: { wan_cut: H, power_or_box: 0.5 * H, unknown: 0 },
    calendarMs: 10 * H,
    calendarUpMs: 8 * H,
    calendarDownMs: 2 * H,
    calendarNotMeasuredMs: 0,
    calendarExcludedMs: 0,
    calendarDownMsByCause: { wan_cut: 1.5 * H, power_or_box: 0.5 * H, unknown: 0 },
    availabilityPct: 75,
    coveragePct: 100,
    calendarUptimePct: 80,
    calendarCoveragePct: 100,
    outageCount: 2,
    outageCountCalendar: 2,
    longestOutageMs: H,
    longestOutageLostMs: H,
    ...over,
  } as Figures;
}

describe('monthly availability points', () => {
  it('a run covers the previous and current calendar month in local time, across a new year', () => {
    // 1 Jan 2027 00:30 in Paris is still 31 Dec 2026 in UTC.
    const now = Date.UTC(2026, 11, 31, 23, 30);
    expect(monthsToWrite(now, PARIS, false).map((m) => m.label)).toEqual(['2026-12', '2027-01']);
    expect(monthsToWrite(now, PARIS, false)[1]).toEqual(monthPeriod(2027, 1, PARIS));
  });

  it('the first run covers the school year so far (from 1 September, local time)', () => {
    const now = Date.UTC(2026, 10, 30, 6);
    const labels = monthsToWrite(now, PARIS, true).map((m) => m.label);
    expect(labels).toEqual(['2026-09', '2026-10', '2026-11']);
    // In September the previous month (August) comes first.
    expect(monthsToWrite(Date.UTC(2026, 8, 10), PARIS, true).map((m) => m.label)).toEqual([
      '2026-08',
      '2026-09',
    ]);
  });

  it('one point per school and month, at the local month start, in the long policy, hours and minutes', () => {
    const october = monthPeriod(2026, 10, PARIS); // 745 h: the clocks go back on the 25th
    const p = availabilityPoint(school, october, figures());
    expect(p.time).toBe(Date.UTC(2026, 8, 30, 22));
    expect(p.policy).toBe('long');
    expect(p.tags).toEqual({ uai: '0381234K', commune: 'Vienne', isp: 'Orange', month: '2026-10' });
    expect(p.fields).toMatchObject({
      open_h: 6,
      up_h: 4.5,
      lost_h: 1.5,
      availability_pct: 75,
      coverage_pct: 100,
      outages: { int: 2 },
      longest_outage_s: 3600,
      lost_min_wan_cut: 60,
      lost_min_power_or_box: 30,
      lost_min_unknown: 0,
      end_ms: { int: october.endMs },
      as_of_ms: { int: 10 * H },
    });
    expect(october.endMs - october.startMs).toBe(745 * H);
  });

  it('a rate with nothing to judge is left out, never 0; a rate is never outside [0, 100]', () => {
    const month = monthPeriod(2026, 11, PARIS);
    const none = availabilityPoint(school, month, figures({ availabilityPct: null, coveragePct: null }));
    expect(none.fields).not.toHaveProperty('availability_pct');
    expect(none.fields).not.toHaveProperty('coverage_pct');
    const odd = availabilityPoint(
      school,
      month,
      figures({ availabilityPct: 100.0000001, coveragePct: -1e-9 }),
    );
    expect(odd.fields['availability_pct']).toBe(100);
    expect(odd.fields['coverage_pct']).toBe(0);
  });

  it('writes what the engine gives, skipping a month not begun; a failed run is retried at the next', async () => {
    const months = [monthPeriod(2026, 11, PARIS), monthPeriod(2026, 12, PARIS)];
    const written: Point[] = [];
    const sink = { write: (list: Point[]) => written.push(...list) };
    let calls = 0;
    const source = {
      timeZone: PARIS,
      async figures(req: { period: { startMs: number; endMs: number } }) {
        calls++;
        if (calls === 1) throw new Error('InfluxDB is not answering');
        expect(req.period).toMatchObject({ startMs: months[0]!.startMs, endMs: months[1]!.endMs });
        return {
          schools: [
            {
              ...school,
              months: [
                { month: '2026-11', figures: figures() },
                { month: '2026-12', figures: figures({ startMs: 5, endMs: 5 }) },
              ],
            },
          ],
        };
      },
    };
    await expect(writeAvailabilityPoints(source, sink, months)).rejects.toThrow(/not answering/);
    expect(await writeAvailabilityPoints(source, sink, months)).toBe(1);
    expect(written.map((p) => p.tags['month'])).toEqual(['2026-11']);

    // The job: its first run fails (logged), the next one (everyMs later) tries the school year again.
    const periods: { startMs: number; endMs: number }[] = [];
    const job = startAvailabilityPoints({
      source: {
        timeZone: PARIS,
        async figures(req) {
          periods.push(req.period);
          if (periods.length === 1) throw new Error('InfluxDB is not answering');
          return { schools: [] };
        },
      },
      points: sink,
      log: createLogger('test', 'silent'),
      now: () => Date.UTC(2026, 11, 2),
      everyMs: 20,
    });
    const deadline = Date.now() + 10_000;
    while (periods.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    job.stop();
    const september = monthPeriod(2026, 9, PARIS).startMs;
    // Failed, then the school year again (succeeds), then (the same local day) the current month only:
    // the previous one was just recomputed (monthsForRun).
    expect(periods.slice(0, 3).map((p) => p.startMs)).toEqual([september, september, months[1]!.startMs]);
  });

  it('the previous month is recomputed at the first run of each local day or after late batches, not hourly', () => {
    // 2 Dec 2026, 10:00 and 11:00 in Paris; 3 Dec 00:10 in Paris is still 2 Dec in UTC.
    const at10 = Date.UTC(2026, 11, 2, 9);
    const at11 = Date.UTC(2026, 11, 2, 10);
    const nextNight = Date.UTC(2026, 11, 2, 23, 10);
    const none = Number.POSITIVE_INFINITY;
    const labels = (now: number, state: PreviousMonthState) =>
      monthsForRun(now, PARIS, false, state).map((m) => m.label);
    expect(labels(at10, { fullDay: null, lateFrom: none })).toEqual(['2026-11', '2026-12']);
    expect(labels(at11, { fullDay: '2026-12-02', lateFrom: none })).toEqual(['2026-12']);
    expect(labels(nextNight, { fullDay: '2026-12-02', lateFrom: none })).toEqual(['2026-11', '2026-12']);
    // A late batch measured on 30 Nov (Paris) brings November back; one measured on 1 Dec does not.
    expect(labels(at11, { fullDay: '2026-12-02', lateFrom: Date.UTC(2026, 10, 30, 22) })).toEqual([
      '2026-11',
      '2026-12',
    ]);
    expect(labels(at11, { fullDay: '2026-12-02', lateFrom: Date.UTC(2026, 10, 30, 23, 30) })).toEqual([
      '2026-12',
    ]);
    // The first run still covers the school year.
    expect(monthsForRun(at11, PARIS, true, { fullDay: '2026-12-02', lateFrom: none })[0]!.label).toBe(
      '2026-09',
    );
  });

  it('the job: hourly runs of the current month; a late batch for the previous month brings it back once', async () => {
    let now = Date.UTC(2026, 11, 2, 9);
    const periods: string[] = [];
    const job = startAvailabilityPoints({
      source: {
        timeZone: PARIS,
        async figures(req) {
          periods.push(req.period.label);
          return { schools: [] };
        },
      },
      points: { write: () => {} },
      log: createLogger('test', 'silent'),
      now: () => now,
      everyMs: 3_600_000,
    });
    try {
      await job.run(true);
      now += H;
      await job.run();
      job.late(Date.UTC(2026, 10, 29, 12));
      now += H;
      await job.run();
      now += H;
      await job.run();
      // Midnight in Paris: the nightly run.
      now = Date.UTC(2026, 11, 2, 23, 5);
      await job.run();
      expect(periods).toEqual([
        '2026-09/2026-12',
        '2026-12/2026-12',
        '2026-11/2026-12',
        '2026-12/2026-12',
        '2026-11/2026-12',
      ]);
    } finally {
      job.stop();
    }
  });
});
