// Wall-clock time in a named IANA time zone (e.g. Europe/Paris), never the process's: school hours,
// holidays and daily budgets mean the school's clock whatever TZ the box or the collector runs with.
// Offsets come from the system's tz database (shared/tzif.ts): Intl with a timeZone paged in ~8 MiB
// of ICU data, a fifth of the agent's RSS (bench/agent-footprint). Intl answers only for a zone the
// system has no file for (a box without tzdata), so a zone is known wherever the platform knows it.
// Both agree on every zone from 1990 to 2060 (test/unit/tzif.test.ts).
//
// Everything derives from one number, the zone's offset from UTC at an instant: the "wall clock" of
// an instant is then plain UTC arithmetic on (instant + offset).

import { readZoneRules, type ZoneRules } from './tzif.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface LocalTime {
  /** Local calendar date, `YYYY-MM-DD`. */
  date: string;
  weekday: Weekday;
  /** Whole minutes since local midnight, 0–1439. */
  minute: number;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
/** How far apart nextOffsetChange looks: every zone's offset changes far less often than this. */
const PROBE_MINUTES = 6 * 60;
const CACHE_MAX = 10_000;

/** Each zone's rules, read once: its TZif file, or null when Intl answers for it. */
const zoneRules = new Map<string, ZoneRules | null>();
const formatters = new Map<string, Intl.DateTimeFormat>();
// Offsets change on whole minutes, so one per (zone, minute) is exact; the simulator asks for the
// same minute thousands of times per round (Intl only: a TZif lookup is a binary search).
const offsets = new Map<string, number>();
const dates = new Map<number, string>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function offsetAtMinute(minute: number, timeZone: string): number {
  let rules = zoneRules.get(timeZone);
  if (rules === undefined) {
    rules = readZoneRules(timeZone) ?? null;
    if (zoneRules.size >= CACHE_MAX) zoneRules.clear();
    zoneRules.set(timeZone, rules);
  }
  return rules ? rules.offsetS(minute * 60) * 1000 : intlOffsetAtMinute(minute, timeZone);
}

function intlOffsetAtMinute(minute: number, timeZone: string): number {
  const key = `${timeZone}@${minute}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const at = minute * MINUTE_MS;
    const p: Record<string, number> = {};
    for (const part of formatter(timeZone).formatToParts(at)) p[part.type] = Number(part.value);
    offset = Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) - at;
    if (offsets.size >= CACHE_MAX) offsets.clear();
    offsets.set(key, offset);
  }
  return offset;
}

/**
 * Offset of `timeZone` from UTC at the instant `ms` (ms since the epoch), in ms: 3_600_000 for Paris
 * in winter, 7_200_000 in summer. Throws a RangeError for a zone the platform does not know.
 */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  return offsetAtMinute(Math.floor(ms / MINUTE_MS), timeZone);
}

/**
 * The instants at which the wall clock of `timeZone` shows `wall` (a local date-time's fields read as
 * UTC ms, e.g. Date.UTC(2026, 1, 10, 20) for 10 Feb 2026 20:00): one; none in a DST gap (the clocks
 * skip it); two, ascending, in a DST overlap (the clocks go back). Offsets are looked up a day before
 * and after, which holds for every zone of the tz database. RangeError for an unknown zone.
 * The one place wall clock → instant is computed (shared/time.ts, reports' local days).
 */
export function instantsAtWall(wall: number, timeZone: string): number[] {
  const candidates = new Set([
    wall - zoneOffsetMs(wall - DAY_MS, timeZone),
    wall - zoneOffsetMs(wall + DAY_MS, timeZone),
  ]);
  return [...candidates].filter((t) => t + zoneOffsetMs(t, timeZone) === wall).sort((a, b) => a - b);
}

/** Days since 1970-01-01 of a wall-clock reading (local ms read as if UTC): its date and weekday. */
export function civilDay(day: number): { date: string; weekday: Weekday } {
  let date = dates.get(day);
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (dates.size >= CACHE_MAX) dates.clear();
    dates.set(day, date);
  }
  // 1970-01-01 was a Thursday.
  return { date, weekday: WEEKDAYS[(((day + 4) % 7) + 7) % 7]! };
}

/** The local date, weekday and minute of day at the instant `ms` in `timeZone` (RangeError: unknown zone). */
export function localTime(ms: number, timeZone: string): LocalTime {
  const wall = ms + zoneOffsetMs(ms, timeZone);
  const day = Math.floor(wall / DAY_MS);
  return { ...civilDay(day), minute: Math.floor((wall - day * DAY_MS) / MINUTE_MS) };
}

/**
 * The first instant in (`from`, `until`) at which the zone's offset differs from its offset at
 * `from` (a DST change), or undefined. Looks every 6 h then bisects to the minute, so it assumes
 * no two changes closer than that (true of the tz database's zones).
 */
export function nextOffsetChange(from: number, until: number, timeZone: string): number | undefined {
  const start = Math.floor(from / MINUTE_MS);
  const last = Math.ceil(until / MINUTE_MS) - 1;
  const offset = offsetAtMinute(start, timeZone);
  for (let lo = start; lo < last; ) {
    let hi = Math.min(lo + PROBE_MINUTES, last);
    if (offsetAtMinute(hi, timeZone) === offset) {
      lo = hi;
      continue;
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAtMinute(mid, timeZone) === offset) lo = mid;
      else hi = mid;
    }
    return hi * MINUTE_MS;
  }
  return undefined;
}
