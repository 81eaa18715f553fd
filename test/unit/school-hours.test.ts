// The shared model of local time, hours profiles and holidays (shared/local-time.ts,
// shared/school-hours.ts). Times are given in UTC or with an explicit offset: nothing here may depend
// on the process time zone (run it under TZ=UTC and TZ=Pacific/Chatham).
import { describe, expect, it } from 'vitest';
import { localTime, nextOffsetChange, zoneOffsetMs } from '../../shared/local-time.ts';
import {
  DEFAULT_HOURS_PROFILES,
  type Interval,
  isOpen,
  openIntervals,
  openMsBetween,
  schoolCalendar,
} from '../../shared/school-hours.ts';

const MIN = 60_000;
const H = 60 * MIN;
const PARIS = 'Europe/Paris';
// 2026 in Paris: summer time from Sunday 29 March 01:00 UTC, winter time from Sunday 25 October 01:00 UTC.
const SPRING = Date.parse('2026-03-29T01:00:00Z');
const AUTUMN = Date.parse('2026-10-25T01:00:00Z');
const ALL_DAY = ['00:00-24:00'];

describe('local time', () => {
  // Thursday 2026-11-26, Paris is UTC+1 in November.
  const at = (hhmm: string) => Date.parse(`2026-11-26T${hhmm}:00+01:00`);

  it('reads the local wall clock in the configured time zone', () => {
    expect(localTime(at('08:30'), PARIS)).toEqual({ date: '2026-11-26', weekday: 'thu', minute: 510 });
    expect(localTime(at('00:30'), 'UTC')).toEqual({
      date: '2026-11-25',
      weekday: 'wed',
      minute: 23 * 60 + 30,
    });
    // Chatham is UTC+13:45 in its summer: a quarter-hour offset, a day ahead.
    expect(localTime(Date.parse('2026-01-05T10:15:00Z'), 'Pacific/Chatham')).toEqual({
      date: '2026-01-06',
      weekday: 'tue',
      minute: 0,
    });
  });

  it('knows the offset on either side of a DST change, and finds the change to the minute', () => {
    expect(zoneOffsetMs(SPRING - 1, PARIS)).toBe(H);
    expect(zoneOffsetMs(SPRING, PARIS)).toBe(2 * H);
    expect(nextOffsetChange(SPRING - 3 * 86_400_000, SPRING + 86_400_000, PARIS)).toBe(SPRING);
    expect(nextOffsetChange(AUTUMN - 40 * H, AUTUMN + 1, PARIS)).toBe(AUTUMN);
    expect(nextOffsetChange(AUTUMN - 40 * H, AUTUMN, PARIS)).toBeUndefined();
    expect(nextOffsetChange(SPRING, SPRING + 100 * 86_400_000, PARIS)).toBeUndefined();
  });

  it('refuses a time zone the platform does not know', () => {
    expect(() => localTime(0, 'Europe/Lyon')).toThrow(RangeError);
    expect(() => schoolCalendar({ timezone: 'Europe/Lyon' })).toThrow(RangeError);
  });
});

/** isOpen sampled every minute must agree with membership in openIntervals, for every instant. */
function expectIntervalsMatchIsOpen(
  cal: ReturnType<typeof schoolCalendar>,
  profile: string,
  t0: number,
  t1: number,
) {
  const intervals = openIntervals(cal, profile, t0, t1);
  const inside = (t: number) => intervals.some(([a, b]) => t >= a && t < b);
  for (let t = t0; t < t1; t += MIN)
    expect(inside(t), new Date(t).toISOString()).toBe(isOpen(cal, profile, t));
  return intervals;
}

describe('hours profiles', () => {
  const cal = schoolCalendar({
    profiles: {
      always: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ALL_DAY])),
      // Ranges whose edges fall in the hour that is skipped in spring and lived twice in autumn.
      night: { sun: ['01:30-02:30', '02:45-04:00'] },
    },
  });

  it('come with the default set, to which the config adds profiles', () => {
    expect(Object.keys(cal.profiles)).toEqual(['school', 'school-wednesday', 'always', 'night']);
    expect(cal.timezone).toBe(PARIS);
    const replaced = schoolCalendar({ profiles: { school: { mon: ['09:00-12:00'] } } });
    expect(replaced.profiles['school']).toEqual({ days: { mon: ['09:00-12:00'] } });
    expect(replaced.profiles['school-wednesday']?.days).toEqual(
      (({ holidays: _, ...days }) => days)(DEFAULT_HOURS_PROFILES['school-wednesday']!),
    );
  });

  it('say which profile and day hold a malformed range', () => {
    expect(() => schoolCalendar({ profiles: { late: { tue: ['17:00-08:00'] } } })).toThrow(
      /hours profile "late", tue: .*end must come after/,
    );
  });

  it('give a 23-hour and a 25-hour day at the DST changes', () => {
    const springStart = Date.parse('2026-03-29T00:00:00+01:00');
    const springEnd = Date.parse('2026-03-30T00:00:00+02:00');
    expect(openMsBetween(cal, 'always', springStart, springEnd)).toBe(23 * H);
    const autumnStart = Date.parse('2026-10-25T00:00:00+02:00');
    const autumnEnd = Date.parse('2026-10-26T00:00:00+01:00');
    expect(openMsBetween(cal, 'always', autumnStart, autumnEnd)).toBe(25 * H);
    expect(openIntervals(cal, 'always', springStart - 2 * H, springEnd + 2 * H)).toEqual([
      [springStart - 2 * H, springEnd + 2 * H],
    ]);
  });

  it('map open time exactly across DST changes, even with edges inside the changing hour', () => {
    const spring = expectIntervalsMatchIsOpen(cal, 'night', SPRING - 6 * H, SPRING + 6 * H);
    // 02:00-03:00 does not exist: 01:30-02:30 is 30 min long, 02:45-04:00 begins at 03:00.
    expect(spring).toEqual<Interval[]>([
      [Date.parse('2026-03-29T01:30:00+01:00'), Date.parse('2026-03-29T04:00:00+02:00')],
    ]);
    expect(openMsBetween(cal, 'night', SPRING - 6 * H, SPRING + 6 * H)).toBe(90 * MIN);
    const autumn = expectIntervalsMatchIsOpen(cal, 'night', AUTUMN - 6 * H, AUTUMN + 6 * H);
    // 02:00-03:00 happens twice, once in summer time (+02:00), then in winter time (+01:00).
    expect(autumn).toEqual<Interval[]>([
      [Date.parse('2026-10-25T01:30:00+02:00'), Date.parse('2026-10-25T02:30:00+02:00')],
      [Date.parse('2026-10-25T02:45:00+02:00'), Date.parse('2026-10-25T02:30:00+01:00')],
      [Date.parse('2026-10-25T02:45:00+01:00'), Date.parse('2026-10-25T04:00:00+01:00')],
    ]);
  });

  it('close on holidays and leave an unknown profile open throughout', () => {
    const zoneC = schoolCalendar({
      profiles: { school: { ...DEFAULT_HOURS_PROFILES['school'], holidays: ['zone-c'] } },
      calendars: { 'zone-c': [{ name: 'Printemps', from: '2026-04-18', to: '2026-05-03' }] },
    });
    // Friday 17 April open, Monday 4 May open, the fortnight between closed.
    const week = (from: string, to: string) =>
      openMsBetween(zoneC, 'school', Date.parse(`${from}T00:00:00Z`), Date.parse(`${to}T00:00:00Z`));
    expect(week('2026-04-17', '2026-05-05')).toBe(2 * 9 * H);
    expect(openIntervals(zoneC, 'nope', 5, 10)).toEqual([[5, 10]]);
    expect(openIntervals(zoneC, 'toString', 5, 10)).toEqual([[5, 10]]);
    expect(isOpen(zoneC, 'constructor', 5)).toBe(true);
    expect(openIntervals(zoneC, 'school', 10, 5)).toEqual([]);
  });
});
