// Report periods in local time: calendar months and school years begin at local midnight in the
// configured zone, so a month is 743 h or 745 h long when it holds a DST change.
import { DAY_MS, instantsAtWall, localTime, nextOffsetChange } from '../local-time.ts';
import type { Interval } from './intervals.ts';

export interface Period {
  /** `2026-11` for a month, `2025-2026` for a school year, `2026-11-05` for a day. */
  label: string;
  startMs: number;
  /** Excluded. */
  endMs: number;
}

/** The first day of a school year; 1 September by default (French primary schools). */
export interface SchoolYearStart {
  /** 1–12 */
  month: number;
  /** 1–28 */
  day: number;
}

export const DEFAULT_SCHOOL_YEAR_START: SchoolYearStart = { month: 9, day: 1 };

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The instant local `date` (YYYY-MM-DD) begins in `timeZone`: its midnight, or the end of the DST gap
 * when the zone skips midnight that day (America/Santiago in September).
 * @throws RangeError when `date` is not YYYY-MM-DD or not a day of the calendar (2026-02-29, 2026-13-01)
 */
export function localDayStartMs(date: string, timeZone: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`"${date}" is not a date YYYY-MM-DD`);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2026-02-29 over to 1 March: a day the calendar does not have is refused.
  const back = new Date(wall);
  if (back.getUTCMonth() !== Number(m[2]) - 1 || back.getUTCDate() !== Number(m[3]))
    throw new RangeError(`"${date}" is not a day of the calendar`);
  // The earliest instant that reads as midnight (a zone going back at midnight shows it twice).
  const found = instantsAtWall(wall, timeZone);
  if (found.length) return found[0]!;
  // Midnight does not exist that day: the day begins when the clocks jump.
  const jump = nextOffsetChange(wall - DAY_MS, wall + DAY_MS, timeZone);
  if (jump === undefined) throw new RangeError(`no start found for ${date} in ${timeZone}`);
  return jump;
}

/** Calendar month `month` (1–12) of `year`, local midnight to local midnight. */
export function monthPeriod(year: number, month: number, timeZone: string): Period {
  const next = month === 12 ? [year + 1, 1] : [year, month + 1];
  return {
    label: `${year}-${pad(month)}`,
    startMs: localDayStartMs(`${year}-${pad(month)}-01`, timeZone),
    endMs: localDayStartMs(`${next[0]}-${pad(next[1]!)}-01`, timeZone),
  };
}

/** The school year beginning in `startYear` (2025 → 2025-2026: 1 Sept 2025 to 31 Aug 2026 inclusive). */
export function schoolYearPeriod(
  startYear: number,
  timeZone: string,
  start: SchoolYearStart = DEFAULT_SCHOOL_YEAR_START,
): Period {
  const day = `${pad(start.month)}-${pad(start.day)}`;
  return {
    label: `${startYear}-${startYear + 1}`,
    startMs: localDayStartMs(`${startYear}-${day}`, timeZone),
    endMs: localDayStartMs(`${startYear + 1}-${day}`, timeZone),
  };
}

/** The start year of the school year holding the instant `ms` (1 Sept 2025 … 31 Aug 2026 → 2025). */
export function schoolYearOf(
  ms: number,
  timeZone: string,
  start: SchoolYearStart = DEFAULT_SCHOOL_YEAR_START,
): number {
  const date = localTime(ms, timeZone).date;
  const year = Number(date.slice(0, 4));
  return date.slice(5) >= `${pad(start.month)}-${pad(start.day)}` ? year : year - 1;
}

/** The calendar months overlapping `period`, each clipped to it (a school year: 12 months). */
export function monthsOf(period: Interval | Period, timeZone: string): Period[] {
  const [startMs, endMs] = 'startMs' in period ? [period.startMs, period.endMs] : period;
  const out: Period[] = [];
  const first = localTime(startMs, timeZone).date;
  let year = Number(first.slice(0, 4));
  let month = Number(first.slice(5, 7));
  for (;;) {
    const m = monthPeriod(year, month, timeZone);
    if (m.startMs >= endMs) break;
    out.push({ label: m.label, startMs: Math.max(m.startMs, startMs), endMs: Math.min(m.endMs, endMs) });
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  }
  return out;
}

/** The start of the local day holding the instant `t` (its midnight; 23 h and 25 h days included). */
export function localDayStartOf(t: number, timeZone: string): number {
  return localDayStartMs(localTime(t, timeZone).date, timeZone);
}

/** The local days overlapping [startMs, endMs), each clipped to it: the unit of stored rollups. */
export function daysOf(startMs: number, endMs: number, timeZone: string): Period[] {
  const out: Period[] = [];
  let date = localTime(startMs, timeZone).date;
  let dayStart = localDayStartMs(date, timeZone);
  while (dayStart < endMs) {
    const next = new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
    const nextStart = localDayStartMs(next, timeZone);
    out.push({ label: date, startMs: Math.max(dayStart, startMs), endMs: Math.min(nextStart, endMs) });
    date = next;
    dayStart = nextStart;
  }
  return out;
}
