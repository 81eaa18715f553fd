// When may a speed test run? A pure decision of (config, past runs, now, link load): inside school
// hours only (that is when the connection matters), a few times a day at most, spaced out, and never
// when the link is already busy (the test would both disturb classes and measure the wrong thing).
import type { SpeedtestConfig } from './config.ts';

export type SpeedtestSkip = 'no_url' | 'outside_hours' | 'daily_budget' | 'too_soon' | 'link_busy';
export type SpeedtestDecision = { run: true } | { run: false; reason: SpeedtestSkip };

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock day, ISO weekday and minute of day at `t` in a time zone. */
export function localTime(t: number, timeZone: string): { day: string; weekday: number; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  return {
    day: `${p['year']}-${p['month']}-${p['day']}`,
    weekday: WEEKDAYS[p['weekday'] ?? ''] ?? 0,
    minute: Number(p['hour']) * 60 + Number(p['minute']),
  };
}

const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inSchoolHours(t: number, hours: SpeedtestConfig['schoolHours']): boolean {
  const local = localTime(t, hours.timeZone);
  return (
    hours.days.includes(local.weekday) &&
    local.minute >= minuteOf(hours.start) &&
    local.minute < minuteOf(hours.end)
  );
}

/**
 * @param pastRuns start times (ms) of earlier tests, any order
 * @param busiestPct the WAN's latest load in % of contract, undefined when unknown (then not busy)
 */
export function speedtestDecision(
  config: Pick<SpeedtestConfig, 'url' | 'schoolHours' | 'maxPerDay' | 'minGapS' | 'busyPct'>,
  pastRuns: readonly number[],
  now: number,
  busiestPct: number | undefined,
): SpeedtestDecision {
  if (!config.url) return { run: false, reason: 'no_url' };
  if (!inSchoolHours(now, config.schoolHours)) return { run: false, reason: 'outside_hours' };
  const today = localTime(now, config.schoolHours.timeZone).day;
  const todays = pastRuns.filter((t) => localTime(t, config.schoolHours.timeZone).day === today);
  if (todays.length >= config.maxPerDay) return { run: false, reason: 'daily_budget' };
  if (pastRuns.some((t) => now - t < config.minGapS * 1000)) return { run: false, reason: 'too_soon' };
  if (busiestPct !== undefined && busiestPct >= config.busyPct) return { run: false, reason: 'link_busy' };
  return { run: true };
}
