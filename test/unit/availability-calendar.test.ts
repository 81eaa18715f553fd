// What the availability engine builds on: French public holidays from @socialgouv/jours-feries,
// report periods in local time, interval arithmetic and measured time. Run under TZ=UTC and
// TZ=Pacific/Chatham: the package computes in the process zone, the engine must not.
import { readFileSync } from 'node:fs';
import getJoursFeries from '@socialgouv/jours-feries';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  clip,
  daysOf,
  frenchPublicHolidays,
  intersect,
  localDayStartMs,
  measuredFromBatchTimes,
  measuredFromBuckets,
  monthPeriod,
  monthsOf,
  normalize,
  schoolOpenTime,
  schoolYearOf,
  schoolYearPeriod,
  subtract,
  totalMs,
  withPublicHolidays,
} from '../../shared/availability/index.ts';
import { localTime } from '../../shared/local-time.ts';
import { schoolCalendar } from '../../shared/school-hours.ts';
import { at, CAL, H, MIN, PARIS } from '../harness/availability.ts';

const dates = (list: { from: string }[]) => list.map((h) => h.from);

describe('French public holidays', () => {
  it('2026: the 11 national days; Alsace-Moselle adds Good Friday and 26 December', () => {
    // Easter 2026 is Sunday 5 April: Easter Monday 6 Apr, Ascension (+39) Thu 14 May, Whit Monday
    // (+50) 25 May.
    expect(dates(frenchPublicHolidays(2026))).toEqual([
      '2026-01-01',
      '2026-04-06',
      '2026-05-01',
      '2026-05-08',
      '2026-05-14',
      '2026-05-25',
      '2026-07-14',
      '2026-08-15',
      '2026-11-01',
      '2026-11-11',
      '2026-12-25',
    ]);
    const alsace = dates(frenchPublicHolidays(2026, 'fr-alsace-moselle'));
    expect(alsace).toHaveLength(13);
    expect(alsace).toContain('2026-04-03');
    expect(alsace).toContain('2026-12-26');
    expect(frenchPublicHolidays(2026).find((h) => h.from === '2026-11-11')).toEqual({
      name: 'Armistice',
      from: '2026-11-11',
      to: '2026-11-11',
    });
  });

  it('movable feasts fall on their weekday in every year, whatever the process zone', () => {
    const weekday = (date: string) => new Date(`${date}T12:00:00Z`).getUTCDay();
    for (let year = 1970; year <= 2199; year++) {
      const h = Object.fromEntries(
        frenchPublicHolidays(year, 'fr-alsace-moselle').map((d) => [d.name, d.from]),
      );
      expect(weekday(h['Lundi de Pâques']!), `${year}`).toBe(1);
      expect(weekday(h['Ascension']!), `${year}`).toBe(4);
      expect(weekday(h['Lundi de Pentecôte']!), `${year}`).toBe(1);
      expect(weekday(h['Vendredi Saint']!), `${year}`).toBe(5);
    }
  });

  it('the package alone slips a day when the process zone changes offset after Easter', () => {
    // Chatham's clocks go back on Easter Sunday 2026: the package's Easter Monday (midnight + 24 h)
    // reads Sunday 23:00 there. frenchPublicHolidays rounds to the nearest day.
    const raw = getJoursFeries(2026)['Lundi de Pâques']!;
    const localDate = raw.getDate();
    if (process.env['TZ'] === 'Pacific/Chatham') expect(localDate).toBe(5);
    expect(dates(frenchPublicHolidays(2026))).toContain('2026-04-06');
  });

  it('agrees with the public holidays of examples/holidays-fr-2025-2026.yaml', () => {
    const file = parse(
      readFileSync(new URL('../../examples/holidays-fr-2025-2026.yaml', import.meta.url), 'utf8'),
    );
    const computed = new Set([...dates(frenchPublicHolidays(2025)), ...dates(frenchPublicHolidays(2026))]);
    for (const h of file.calendars.feries as { from: string }[]) expect(computed).toContain(h.from);
  });

  it('close open time by default in a French zone, per profile on demand, never elsewhere by default', () => {
    const every = ['08:00-17:00'];
    const days = { mon: every, tue: every, wed: every, thu: every, fri: every, sat: every, sun: every };
    const paris = schoolCalendar({ timezone: PARIS, profiles: { every: days } });
    // 22 Dec 2025 → 5 Jan 2026 = 14 days, minus 25 Dec 2025 and 1 Jan 2026 = 12 × 9 h = 108 h.
    const [from, to] = [at('2025-12-22T00:00'), at('2026-01-05T00:00')];
    expect(totalMs(schoolOpenTime(paris, 'every', from, to))).toBe(108 * H);
    expect(totalMs(schoolOpenTime(paris, 'every', from, to, { set: 'none' }))).toBe(126 * H);
    // Alsace-Moselle: 26 Dec too.
    expect(
      totalMs(schoolOpenTime(paris, 'every', from, to, { profiles: { every: 'fr-alsace-moselle' } })),
    ).toBe(99 * H);
    const utc = schoolCalendar({ timezone: 'UTC', profiles: { every: days } });
    const [f2, t2] = [Date.parse('2025-12-22T00:00:00Z'), Date.parse('2026-01-05T00:00:00Z')];
    expect(totalMs(schoolOpenTime(utc, 'every', f2, t2))).toBe(126 * H);
    expect(totalMs(schoolOpenTime(utc, 'every', f2, t2, { set: 'fr' }))).toBe(108 * H);
  });

  it('leave the calendar it was given alone and refuse a config calendar under a reserved name', () => {
    const before = JSON.stringify(CAL);
    withPublicHolidays(CAL, at('2026-01-01T00:00'), at('2027-01-01T00:00'));
    expect(JSON.stringify(CAL)).toBe(before);
    const taken = schoolCalendar({ calendars: { 'public-holidays:fr': [] } });
    expect(() => withPublicHolidays(taken, 0, 1)).toThrow(/reserved/);
  });
});

describe('periods in local time', () => {
  it('calendar months begin at local midnight and hold 743, 745 or 720 hours around DST', () => {
    const nov = monthPeriod(2026, 11, PARIS);
    expect(nov).toEqual({
      label: '2026-11',
      startMs: Date.parse('2026-10-31T23:00:00Z'),
      endMs: Date.parse('2026-11-30T23:00:00Z'),
    });
    expect(monthPeriod(2026, 3, PARIS).endMs - monthPeriod(2026, 3, PARIS).startMs).toBe(743 * H);
    expect(monthPeriod(2026, 10, PARIS).endMs - monthPeriod(2026, 10, PARIS).startMs).toBe(745 * H);
    expect(monthPeriod(2026, 12, PARIS).endMs).toBe(Date.parse('2026-12-31T23:00:00Z'));
    // Chatham in its summer is UTC+13:45.
    expect(monthPeriod(2026, 11, 'Pacific/Chatham').startMs).toBe(Date.parse('2026-10-31T10:15:00Z'));
  });

  it('a day whose midnight the zone skips begins when the clocks jump', () => {
    // Santiago goes from 00:00 (−04:00) to 01:00 (−03:00) on Sunday 6 September 2026.
    expect(localDayStartMs('2026-09-06', 'America/Santiago')).toBe(Date.parse('2026-09-06T04:00:00Z'));
    expect(localDayStartMs('2026-09-07', 'America/Santiago')).toBe(Date.parse('2026-09-07T03:00:00Z'));
    expect(() => localDayStartMs('6/9/2026', PARIS)).toThrow(RangeError);
  });

  it('school year 2025-2026: 1 Sept 2025 00:00 to 31 Aug 2026 24:00, Paris time', () => {
    const y = schoolYearPeriod(2025, PARIS);
    expect(y).toEqual({
      label: '2025-2026',
      startMs: Date.parse('2025-08-31T22:00:00Z'),
      endMs: Date.parse('2026-08-31T22:00:00Z'),
    });
    expect(y.endMs - y.startMs).toBe(365 * 24 * H); // 2026 is not a leap year; the DST hours cancel
    // 31 Aug 2025 23:59 Paris is still 2024-2025; 00:00 on 1 Sept is 2025-2026, whatever the UTC date.
    expect(schoolYearOf(y.startMs - MIN, PARIS)).toBe(2024);
    expect(schoolYearOf(y.startMs, PARIS)).toBe(2025);
    expect(schoolYearOf(y.endMs - 1, PARIS)).toBe(2025);
    expect(schoolYearOf(y.endMs, PARIS)).toBe(2026);
    const months = monthsOf(y, PARIS);
    expect(months.map((m) => m.label)).toEqual([
      '2025-09',
      '2025-10',
      '2025-11',
      '2025-12',
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
    ]);
    expect(months.reduce((sum, m) => sum + m.endMs - m.startMs, 0)).toBe(365 * 24 * H);
  });

  it('the school year start is configurable', () => {
    const y = schoolYearPeriod(2025, PARIS, { month: 8, day: 16 });
    expect(y.startMs).toBe(at('2025-08-16T00:00'));
    expect(y.endMs).toBe(at('2026-08-16T00:00'));
    expect(schoolYearOf(at('2026-08-15T23:00'), PARIS, { month: 8, day: 16 })).toBe(2025);
    expect(schoolYearOf(at('2026-08-16T00:00'), PARIS, { month: 8, day: 16 })).toBe(2026);
    // A period cut mid-month: the first and last months are clipped.
    expect(monthsOf(y, PARIS)[0]).toEqual({
      label: '2025-08',
      startMs: y.startMs,
      endMs: at('2025-09-01T00:00'),
    });
    expect(monthsOf(y, PARIS)).toHaveLength(13);
  });

  it('days are cut at local midnight: 25 Oct 2026 lasts 25 hours', () => {
    const oct = monthPeriod(2026, 10, PARIS);
    const days = daysOf(oct.startMs, oct.endMs, PARIS);
    expect(days).toHaveLength(31);
    expect(days[24]).toEqual({
      label: '2026-10-25',
      startMs: at('2026-10-25T00:00'),
      endMs: at('2026-10-26T00:00'),
    });
    expect(days[24]!.endMs - days[24]!.startMs).toBe(25 * H);
    expect(days.every((d) => localTime(d.startMs, PARIS).minute === 0)).toBe(true);
  });
});

describe('intervals', () => {
  it('normalize, intersect, subtract', () => {
    expect(
      normalize([
        [5, 7],
        [1, 3],
        [3, 4],
        [9, 9],
        [6, 8],
      ]),
    ).toEqual([
      [1, 4],
      [5, 8],
    ]);
    expect(
      intersect(
        [
          [0, 10],
          [20, 30],
        ],
        [
          [5, 25],
          [28, 40],
        ],
      ),
    ).toEqual([
      [5, 10],
      [20, 25],
      [28, 30],
    ]);
    expect(
      subtract(
        [
          [0, 10],
          [20, 30],
        ],
        [
          [2, 3],
          [5, 22],
          [29, 40],
        ],
      ),
    ).toEqual([
      [0, 2],
      [3, 5],
      [22, 29],
    ]);
    expect(subtract([[0, 10]], [])).toEqual([[0, 10]]);
    const list: [number, number][] = [
      [0, 10],
      [20, 30],
      [40, 50],
    ];
    expect(clip(list, 25, 45)).toEqual([
      [25, 30],
      [40, 45],
    ]);
    expect(clip(list, 10, 20)).toEqual([]);
    expect(subtract([[0, 10]], [[-5, 15]])).toEqual([]);
  });
});

describe('measured time', () => {
  it('from batch times: runs of batches at most 3 intervals apart, each reporting the minute before it', () => {
    // A batch a minute 08:00 … 09:00, a 10-minute silence, 09:10 … 09:20 (several agents mixed).
    const times: number[] = [];
    for (let m = 0; m <= 60; m++) times.push(at('2026-11-02T08:00') + m * MIN);
    for (let m = 10; m <= 20; m++) times.push(at('2026-11-02T09:00') + m * MIN);
    times.push(at('2026-11-02T08:30') + 20_000); // a second agent, inside the first run
    expect(measuredFromBatchTimes(times.reverse(), { intervalMs: MIN })).toEqual([
      [at('2026-11-02T07:59'), at('2026-11-02T09:00')],
      [at('2026-11-02T09:09'), at('2026-11-02T09:20')],
    ]);
    expect(measuredFromBatchTimes([], { intervalMs: MIN })).toEqual([]);
  });

  it('from 5-minute rollup buckets that hold a batch', () => {
    const b = at('2026-11-02T08:00');
    expect(measuredFromBuckets([b + 10 * MIN, b, b + 5 * MIN], 5 * MIN)).toEqual([[b, b + 15 * MIN]]);
  });
});
