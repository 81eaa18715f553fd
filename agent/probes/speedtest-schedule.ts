// When may a speed test run? A pure decision of (config, past runs, now, link load): inside school
// hours only (that is when the connection matters), a few times a day at most, spaced out, and never
// when the link is already busy (the test would both disturb classes and measure the wrong thing).
// School hours are the shared model's (shared/school-hours.ts), so the window is the one the
// collector's alerts use for the same profile.
import { localTime, WEEKDAYS } from '../../shared/local-time.ts';
import {
  DEFAULT_HOURS_PROFILE,
  hoursProfile,
  isOpen,
  type SchoolCalendar,
  schoolCalendar,
} from '../../shared/school-hours.ts';
import type { SpeedtestConfig } from './config.ts';

export type SpeedtestSkip = 'no_url' | 'outside_hours' | 'daily_budget' | 'too_soon' | 'link_busy';
export type SpeedtestDecision = { run: true } | { run: false; reason: SpeedtestSkip };

type HoursKeys = 'hours' | 'timezone' | 'profiles' | 'calendars' | 'schoolHours';
export type SpeedtestHoursConfig = Pick<SpeedtestConfig, HoursKeys>;

/** The school's calendar and the profile the speed test follows. */
export interface SpeedtestHours {
  calendar: SchoolCalendar;
  profile: string;
}

/** Name under which the old `schoolHours` form becomes a profile. */
const LEGACY_PROFILE = 'schoolHours';
const resolved = new WeakMap<SpeedtestHoursConfig, SpeedtestHours>();

/**
 * The hours a speed-test config names (cached per config object): `hours` among the default profiles
 * and `profiles`, or the old `schoolHours` form turned into a profile of its own.
 * @throws Error for an unknown profile, `hours` beside `schoolHours`, a malformed range or zone
 */
export function speedtestHours(config: SpeedtestHoursConfig): SpeedtestHours {
  const known = resolved.get(config);
  if (known) return known;
  let hours: SpeedtestHours;
  const legacy = config.schoolHours;
  if (legacy) {
    if (config.hours !== undefined)
      throw new Error(
        'probes.speedtest: `schoolHours` is the old form of `hours`; keep `hours` (a profile name) and drop `schoolHours`',
      );
    const range = [`${legacy.start}-${legacy.end}`];
    const days = Object.fromEntries(legacy.days.map((d) => [WEEKDAYS[d % 7], range]));
    hours = {
      calendar: schoolCalendar({
        timezone: legacy.timeZone,
        profiles: { ...config.profiles, [LEGACY_PROFILE]: days },
        calendars: config.calendars,
      }),
      profile: LEGACY_PROFILE,
    };
  } else {
    const calendar = schoolCalendar({
      timezone: config.timezone,
      profiles: config.profiles,
      calendars: config.calendars,
    });
    const profile = config.hours ?? DEFAULT_HOURS_PROFILE;
    if (!hoursProfile(calendar, profile))
      throw new Error(
        `probes.speedtest.hours: no hours profile "${profile}" (known: ${Object.keys(calendar.profiles).join(', ')}); define it under probes.speedtest.profiles as in collector.alerts.hours`,
      );
    hours = { calendar, profile };
  }
  resolved.set(config, hours);
  return hours;
}

/** Is `t` (ms) inside the hours the speed-test config names? */
export function inSchoolHours(t: number, config: SpeedtestHoursConfig): boolean {
  const { calendar, profile } = speedtestHours(config);
  return isOpen(calendar, profile, t);
}

/**
 * @param pastRuns start times (ms) of earlier tests, any order
 * @param busiestPct the WAN's latest load in % of contract, undefined when unknown (then not busy)
 */
export function speedtestDecision(
  config: Pick<SpeedtestConfig, 'url' | 'maxPerDay' | 'minGapS' | 'busyPct' | HoursKeys>,
  pastRuns: readonly number[],
  now: number,
  busiestPct: number | undefined,
): SpeedtestDecision {
  if (!config.url) return { run: false, reason: 'no_url' };
  if (!inSchoolHours(now, config)) return { run: false, reason: 'outside_hours' };
  const { timezone } = speedtestHours(config).calendar;
  const today = localTime(now, timezone).date;
  const todays = pastRuns.filter((t) => localTime(t, timezone).date === today);
  if (todays.length >= config.maxPerDay) return { run: false, reason: 'daily_budget' };
  if (pastRuns.some((t) => now - t < config.minGapS * 1000)) return { run: false, reason: 'too_soon' };
  if (busiestPct !== undefined && busiestPct >= config.busyPct) return { run: false, reason: 'link_busy' };
  return { run: true };
}
