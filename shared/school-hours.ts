// When is a school open? Named hours profiles (weekly opening ranges) and holiday calendars, read in
// one configured time zone. One model for the collector's alert hours and outage accounting, the
// agent's speed-test window and the simulator's daily traffic, with one default profile set.
import {
  civilDay,
  DAY_MS,
  localTime,
  MINUTE_MS,
  nextOffsetChange,
  type Weekday,
  zoneOffsetMs,
} from './local-time.ts';

/** A profile as config files write it (`collector.alerts.hours.*`, `probes.speedtest.profiles.*`). */
export type HoursProfileConfig = { [day in Weekday]?: string[] } & {
  /** Names of holiday calendars during which the school is closed. */
  holidays?: string[];
};

export interface HoursProfile {
  /** 'HH:MM-HH:MM' local ranges per weekday, end excluded; a missing or empty day is closed. */
  days: Partial<Record<Weekday, string[]>>;
  /** Names of holiday calendars (from `calendars`) during which the school is closed. */
  holidays?: string[];
}

export interface Holiday {
  name: string;
  /** First and last closed day, inclusive, `YYYY-MM-DD` local. */
  from: string;
  to: string;
}

export interface SchoolCalendar {
  /** IANA time zone every range and holiday is read in. */
  timezone: string;
  profiles: Record<string, HoursProfile>;
  calendars: Record<string, Holiday[]>;
}

/** An open stretch of time, [start, end) in ms since the epoch. */
export type Interval = [start: number, end: number];

export const DEFAULT_TIMEZONE = 'Europe/Paris';
/** The profile of a school that names none (the registry's `hours` column default). */
export const DEFAULT_HOURS_PROFILE = 'school';

const DAY = ['08:00-17:00'];
/**
 * The one default profile set: the four-day week most French primary schools keep (no class on
 * Wednesday), and the four-and-a-half-day week some communes keep (Wednesday morning too). The
 * range spans the school day with staff arriving and leaving, not only class time.
 */
export const DEFAULT_HOURS_PROFILES: Readonly<Record<string, HoursProfileConfig>> = {
  school: { mon: DAY, tue: DAY, thu: DAY, fri: DAY, holidays: [] },
  'school-wednesday': { mon: DAY, tue: DAY, wed: ['08:00-12:00'], thu: DAY, fri: DAY, holidays: [] },
};

const RANGE = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/;
const ranges = new Map<string, Interval>();

/** 'HH:MM-HH:MM' → [from, to) in minutes since local midnight; throws when malformed or empty. */
export function parseRange(range: string): Interval {
  const cached = ranges.get(range);
  if (cached) return cached;
  const m = RANGE.exec(range.trim());
  if (!m) throw new Error(`opening hours "${range}" must look like 08:30-16:30`);
  const from = Number(m[1]) * 60 + Number(m[2]);
  const to = Number(m[3]) * 60 + Number(m[4]);
  if (from >= to || to > 24 * 60)
    throw new Error(`opening hours "${range}": the end must come after the start`);
  ranges.set(range, [from, to]);
  return [from, to];
}

/**
 * The model of a config: `profiles` added to (or replacing by name) the default set, ranges checked.
 * @param cfg.timezone IANA zone (default Europe/Paris)
 * @param cfg.profiles named profiles in config form (e.g. `collector.alerts.hours`)
 * @param cfg.calendars holiday calendars by name (e.g. examples/holidays-fr-2025-2026.yaml, from the
 *   education ministry's yearly calendar)
 * @throws Error naming the profile and day of a malformed range, RangeError for an unknown zone
 */
export function schoolCalendar(cfg: {
  timezone?: string;
  profiles?: Record<string, HoursProfileConfig>;
  calendars?: Record<string, Holiday[]>;
}): SchoolCalendar {
  const timezone = cfg.timezone ?? DEFAULT_TIMEZONE;
  zoneOffsetMs(0, timezone);
  const profiles: Record<string, HoursProfile> = {};
  for (const [name, p] of Object.entries({ ...DEFAULT_HOURS_PROFILES, ...cfg.profiles })) {
    const { holidays, ...days } = p;
    for (const [day, list] of Object.entries(days))
      for (const r of list ?? []) {
        try {
          parseRange(r);
        } catch (err) {
          throw new Error(`hours profile "${name}", ${day}: ${(err as Error).message}`);
        }
      }
    profiles[name] = { days, ...(holidays ? { holidays } : {}) };
  }
  return { timezone, profiles, calendars: cfg.calendars ?? {} };
}

/** The named profile, or undefined (never an Object.prototype member: names come from config files). */
export function hoursProfile(cal: SchoolCalendar, name: string): HoursProfile | undefined {
  return Object.hasOwn(cal.profiles, name) ? cal.profiles[name] : undefined;
}

function onHoliday(cal: SchoolCalendar, profile: HoursProfile, date: string): boolean {
  for (const name of profile.holidays ?? [])
    for (const h of (Object.hasOwn(cal.calendars, name) && cal.calendars[name]) || [])
      if (date >= h.from && date <= h.to) return true;
  return false;
}

/** Is a profile open at a local weekday and minute of day (fractions allowed), holidays aside? */
export function openAtWallClock(profile: HoursProfile, weekday: Weekday, minute: number): boolean {
  return (profile.days[weekday] ?? []).some((r) => {
    const [from, to] = parseRange(r);
    return minute >= from && minute < to;
  });
}

/** Is the school open at `ms`? Unknown profile names count as always open: better a page than a silent outage. */
export function isOpen(cal: SchoolCalendar, profileName: string, ms: number): boolean {
  const profile = hoursProfile(cal, profileName);
  if (!profile) return true;
  const local = localTime(ms, cal.timezone);
  return !onHoliday(cal, profile, local.date) && openAtWallClock(profile, local.weekday, local.minute);
}

/**
 * The school's open time within [start, end): sorted, disjoint intervals in ms, adjacent ones merged,
 * exact across DST changes (each stretch of constant offset is mapped on its own). An unknown
 * profile is open throughout, as in isOpen. This is the function availability figures build on.
 */
export function openIntervals(
  cal: SchoolCalendar,
  profileName: string,
  start: number,
  end: number,
): Interval[] {
  if (end <= start) return [];
  const profile = hoursProfile(cal, profileName);
  if (!profile) return [[start, end]];
  const found: Interval[] = [];
  for (let t = start; t < end; ) {
    const stretchEnd = nextOffsetChange(t, end, cal.timezone) ?? end;
    const offset = zoneOffsetMs(t, cal.timezone);
    const wallStart = t + offset;
    const wallEnd = stretchEnd + offset;
    for (let day = Math.floor(wallStart / DAY_MS); day * DAY_MS < wallEnd; day++) {
      const { date, weekday } = civilDay(day);
      if (onHoliday(cal, profile, date)) continue;
      for (const r of profile.days[weekday] ?? []) {
        const [from, to] = parseRange(r);
        const a = Math.max(wallStart, day * DAY_MS + from * MINUTE_MS);
        const b = Math.min(wallEnd, day * DAY_MS + to * MINUTE_MS);
        if (b > a) found.push([a - offset, b - offset]);
      }
    }
    t = stretchEnd;
  }
  found.sort((x, y) => x[0] - y[0]);
  const merged: Interval[] = [];
  for (const [a, b] of found) {
    const last = merged[merged.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/** Milliseconds of [start, end) inside the school's open time (an outage's `school_hours_s`, in ms). */
export function openMsBetween(cal: SchoolCalendar, profileName: string, start: number, end: number): number {
  return openIntervals(cal, profileName, start, end).reduce((sum, [a, b]) => sum + b - a, 0);
}
