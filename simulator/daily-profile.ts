// How a school's link behaves over a day: closed at night, busy in class, quiet at lunch; latency
// grows when the link fills (queues in the box) and in the evening peak of the ISP's network.
import { localTime, MINUTE_MS, type Weekday } from '../shared/local-time.ts';
import {
  DEFAULT_HOURS_PROFILE,
  hoursProfile,
  openAtWallClock,
  schoolCalendar,
} from '../shared/school-hours.ts';

/** The simulator's view of the wall clock: weekday and hour of day. */
export interface LocalHour {
  weekday: Weekday;
  /** Hours since local midnight, fractional (13.5 = 13:30). */
  hour: number;
}

/** Wall-clock weekday and fractional hour at `ms` in `timeZone` (the shared local time, to the ms). */
export function localHour(ms: number, timeZone: string): LocalHour {
  const local = localTime(ms, timeZone);
  return { weekday: local.weekday, hour: (local.minute + (ms % MINUTE_MS) / MINUTE_MS) / 60 };
}

// The shared default profiles: the simulated schools keep the hours the collector alerts on.
const DEFAULTS = schoolCalendar({});

/** Open by the school's profile? A name outside the default set falls back to `school` (no config here). */
export function isSchoolOpen(local: LocalHour, hours: string): boolean {
  const profile = hoursProfile(DEFAULTS, hours) ?? hoursProfile(DEFAULTS, DEFAULT_HOURS_PROFILE)!;
  return openAtWallClock(profile, local.weekday, local.hour * 60);
}

/**
 * Mean share of the contracted downlink in use (0..1) before noise and the school's own appetite:
 * class time is busy, lunch (11:30-13:30) quiet, nights nearly idle but for the 02:00 updates.
 */
export function baseWanLoad(local: LocalHour, hours: string): number {
  if (isSchoolOpen(local, hours)) {
    const h = local.hour;
    if (h >= 11.5 && h < 13.5) return 0.12;
    // Staff then pupils arriving over the first hour after the 08:00 opening.
    if (h < 9) return 0.15 + 0.2 * Math.max(0, h - 8);
    if (h >= 15.75) return 0.2;
    return 0.38;
  }
  if (local.hour >= 2 && local.hour < 3) return 0.08;
  // Staff before class and after school, and the occasional evening meeting.
  if (local.weekday !== 'sat' && local.weekday !== 'sun' && local.hour >= 7.5 && local.hour < 18.5)
    return 0.05;
  return 0.015;
}

/** Evening peak in the ISP's network (19:00-23:00): everybody streams at home. */
export function ispPeakFactor(local: LocalHour): number {
  const h = local.hour;
  if (h >= 19 && h < 23) return 1.25;
  if (h >= 18 && h < 19) return 1.1;
  return 1;
}

/** Extra round trip (ms) from queues in the school's box when the link fills: bufferbloat. */
export function queueingDelayMs(loadShare: number): number {
  const x = Math.min(1, Math.max(0, loadShare));
  return 120 * x ** 6;
}
