// How a school's link behaves over a day: closed at night, busy in class, quiet at lunch; latency
// grows when the link fills (queues in the box) and in the evening peak of the ISP's network.

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface LocalTime {
  weekday: Weekday;
  /** Hours since local midnight, fractional (13.5 = 13:30). */
  hour: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const minuteCache = new Map<string, LocalTime>();

/** Wall-clock time in `timeZone`; cached by minute since thousands of agents ask for the same one. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const minute = Math.floor(ms / 60_000);
  const key = `${timeZone}@${minute}`;
  const cached = minuteCache.get(key);
  if (cached) return { weekday: cached.weekday, hour: cached.hour + (ms % 60_000) / 3_600_000 };
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, fmt);
  }
  const parts = fmt.formatToParts(new Date(minute * 60_000));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0';
  const local: LocalTime = {
    weekday: get('weekday').toLowerCase().slice(0, 3) as Weekday,
    hour: Number(get('hour')) + Number(get('minute')) / 60,
  };
  if (minuteCache.size > 10_000) minuteCache.clear();
  minuteCache.set(key, local);
  return { weekday: local.weekday, hour: local.hour + (ms % 60_000) / 3_600_000 };
}

/** Opening hours by weekday, [from, to) in local hours. Unknown profile names fall back to `school`. */
export const HOURS_PROFILES: Record<string, Partial<Record<Weekday, [number, number][]>>> = {
  // The four-day week most French primary schools keep: no class on Wednesday.
  school: {
    mon: [[8.33, 16.5]],
    tue: [[8.33, 16.5]],
    thu: [[8.33, 16.5]],
    fri: [[8.33, 16.5]],
  },
  'school-wednesday': {
    mon: [[8.33, 16.5]],
    tue: [[8.33, 16.5]],
    wed: [[8.33, 11.5]],
    thu: [[8.33, 16.5]],
    fri: [[8.33, 16.5]],
  },
};

export function isSchoolOpen(local: LocalTime, hours: string): boolean {
  const profile = HOURS_PROFILES[hours] ?? HOURS_PROFILES['school']!;
  return (profile[local.weekday] ?? []).some(([from, to]) => local.hour >= from && local.hour < to);
}

/**
 * Mean share of the contracted downlink in use (0..1) before noise and the school's own appetite:
 * class time is busy, lunch (11:30-13:30) quiet, nights nearly idle but for the 02:00 updates.
 */
export function baseWanLoad(local: LocalTime, hours: string): number {
  if (isSchoolOpen(local, hours)) {
    const h = local.hour;
    if (h >= 11.5 && h < 13.5) return 0.12;
    if (h < 9) return 0.15 + (0.2 * (h - 8.33)) / 0.67;
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
export function ispPeakFactor(local: LocalTime): number {
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
