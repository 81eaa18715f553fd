// School hours and holidays: is a school open now, and how much of an outage fell inside its hours.
// Local times are read in the configured time zone with Intl (no library, DST handled by the platform).

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface HoursProfile {
  /** 'HH:MM-HH:MM' ranges per weekday; a missing or empty day is closed. */
  days: Partial<Record<Weekday, string[]>>;
  /** Names of holiday calendars (from `calendars`) during which the school is closed. */
  holidays?: string[];
}

export interface Holiday {
  name: string;
  /** First and last closed day, inclusive, YYYY-MM-DD local. */
  from: string;
  to: string;
}

export interface SchoolCalendar {
  timezone: string;
  profiles: Record<string, HoursProfile>;
  calendars: Record<string, Holiday[]>;
}

interface LocalDay {
  date: string;
  weekday: Weekday;
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function localDay(ms: number, tz: string): LocalDay {
  const parts = Object.fromEntries(
    formatter(tz)
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts['year']}-${parts['month']}-${parts['day']}`,
    weekday: String(parts['weekday']).toLowerCase().slice(0, 3) as Weekday,
    minutes: Number(parts['hour']) * 60 + Number(parts['minute']),
  };
}

/** Offset of the zone from UTC at `ms`, in ms (Paris: +1 h in winter, +2 h in summer). */
function zoneOffset(ms: number, tz: string): number {
  const p = Object.fromEntries(
    formatter(tz)
      .formatToParts(ms)
      .map((x) => [x.type, x.value]),
  );
  const asUtc = Date.UTC(
    Number(p['year']),
    Number(p['month']) - 1,
    Number(p['day']),
    Number(p['hour']),
    Number(p['minute']),
    Number(p['second']),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

export function parseRange(range: string): [number, number] {
  const m = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(range.trim());
  if (!m) throw new Error(`opening hours "${range}" must look like 08:30-16:30`);
  const from = Number(m[1]) * 60 + Number(m[2]);
  const to = Number(m[3]) * 60 + Number(m[4]);
  if (from >= to || to > 24 * 60)
    throw new Error(`opening hours "${range}": the end must come after the start`);
  return [from, to];
}

function onHoliday(cal: SchoolCalendar, profile: HoursProfile, date: string): boolean {
  for (const name of profile.holidays ?? [])
    for (const h of cal.calendars[name] ?? []) if (date >= h.from && date <= h.to) return true;
  return false;
}

/** Unknown profile names count as always open: better a page than a silent outage. */
export function isOpen(cal: SchoolCalendar, profileName: string, ms: number): boolean {
  const profile = cal.profiles[profileName];
  if (!profile) return true;
  const d = localDay(ms, cal.timezone);
  if (onHoliday(cal, profile, d.date)) return false;
  return (profile.days[d.weekday] ?? []).some((r) => {
    const [from, to] = parseRange(r);
    return d.minutes >= from && d.minutes < to;
  });
}

const DAY_MS = 86_400_000;

/** Milliseconds of [start, end) that fell inside the school's opening hours. */
export function openMsBetween(cal: SchoolCalendar, profileName: string, start: number, end: number): number {
  if (end <= start) return 0;
  const profile = cal.profiles[profileName];
  if (!profile) return end - start;
  let total = 0;
  const done = new Set<string>();
  // Walk local days (half-day steps, so 23 h and 25 h DST days are neither skipped nor counted twice);
  // each day's ranges map to UTC with that day's noon offset (DST changes happen at night).
  for (let step = start - DAY_MS; step < end + DAY_MS; step += DAY_MS / 2) {
    const d = localDay(step, cal.timezone);
    if (done.has(d.date)) continue;
    done.add(d.date);
    if (onHoliday(cal, profile, d.date)) continue;
    const [y, m, dd] = d.date.split('-').map(Number) as [number, number, number];
    const noonUtc = Date.UTC(y, m - 1, dd, 12);
    const midnight = Date.UTC(y, m - 1, dd) - zoneOffset(noonUtc, cal.timezone);
    for (const r of profile.days[d.weekday] ?? []) {
      const [from, to] = parseRange(r);
      const a = Math.max(start, midnight + from * 60_000);
      const b = Math.min(end, midnight + to * 60_000);
      if (b > a) total += b - a;
    }
  }
  return total;
}
