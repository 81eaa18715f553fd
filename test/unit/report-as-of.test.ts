// `--as-of` later than now (report/figures.ts): an outage still open is known to last up to now, not
// up to the as-of: the hours still to come are not measured, as for every other school, never lost.
import { describe, expect, it } from 'vitest';
import { computeReport } from '../../report/figures.ts';
import type { SchoolData } from '../../report/source.ts';
import { at, CAL, H, reportSchool } from '../harness/availability.ts';

const school = reportSchool('0690001B');
// Monday 2 November 2026: measured from midnight, offline since 10:00 and still offline at noon (now).
const now = at('2026-11-02T12:00');
const period = { label: 'week', startMs: at('2026-11-02T00:00'), endMs: at('2026-11-09T00:00') };
const data: SchoolData = {
  outages: [{ startMs: at('2026-11-02T10:00'), endMs: null, cause: 'unknown' }],
  measured: [[period.startMs, at('2026-11-02T10:00')]],
  speedTests: [],
  pingSlots: [],
};
const figures = (asOfMs: number) =>
  computeReport({
    period,
    calendar: CAL,
    asOfMs,
    nowMs: now,
    data: {
      schools: [school],
      bySchool: new Map([[school.uai, data]]),
      parts: [{ policy: 'raw', startMs: period.startMs, endMs: period.endMs }],
    },
  }).schools[0]!.total;

describe('an as-of later than now', () => {
  it('counts an outage still open up to now (2 h lost), not up to the as-of (36 h)', () => {
    const asOfNow = figures(now);
    const asOfFriday = figures(at('2026-11-06T18:00'));
    expect(asOfNow.lostMs).toBe(2 * H);
    expect(asOfFriday.lostMs).toBe(2 * H);
    expect(asOfFriday.upMs).toBe(asOfNow.upMs);
    // Tuesday, Thursday and Friday 08:00–17:00, and Monday from noon: open, not measured.
    expect(asOfFriday.notMeasuredMs).toBe(5 * H + 3 * 9 * H);
  });

  it('an outage open since before the period, as-of a month later: up to now only, the rest not measured', () => {
    const since: SchoolData = {
      outages: [{ startMs: at('2026-10-30T10:00'), endMs: null, cause: 'wan_cut' }],
      measured: [],
      speedTests: [],
      pingSlots: [],
    };
    const month = { label: '2026-11', startMs: at('2026-11-01T00:00'), endMs: at('2026-12-01T00:00') };
    const nowTuesday = at('2026-11-03T12:00');
    const total = (asOfMs: number) =>
      computeReport({
        period: month,
        calendar: CAL,
        asOfMs,
        nowMs: nowTuesday,
        data: {
          schools: [school],
          bySchool: new Map([[school.uai, since]]),
          parts: [{ policy: 'raw', startMs: month.startMs, endMs: month.endMs }],
        },
      }).schools[0]!.total;
    // Monday 2 (9 h) and Tuesday 3 until noon (4 h): 13 h lost, whatever the as-of after now.
    expect(total(nowTuesday).lostMs).toBe(13 * H);
    expect(total(month.endMs).lostMs).toBe(13 * H);
    expect(total(month.endMs).calendarDownMs).toBe(total(nowTuesday).calendarDownMs);
  });
});
