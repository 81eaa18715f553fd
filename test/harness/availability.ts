// Shared by the availability engine tests: the acceptance calendar of issue 15 and local-time helpers.
// Every time is written as Paris wall clock and read with shared/time.ts in Europe/Paris, so nothing
// depends on the process zone (the tests run under TZ=UTC and TZ=Pacific/Chatham).

import type { ReportSchool } from '../../report/source.ts';
import {
  type Annotation,
  type Interval,
  type OutageCause,
  type OutageRecord,
  type PublicHolidayOptions,
  type SchoolAvailabilityInput,
  schoolAvailability,
  schoolOpenTime,
} from '../../shared/availability/index.ts';
import { type SchoolCalendar, schoolCalendar } from '../../shared/school-hours.ts';
import { parseInstant } from '../../shared/time.ts';

export const PARIS = 'Europe/Paris';
export const MIN = 60_000;
export const H = 60 * MIN;
export const DAY = 24 * H;

/** A Paris wall-clock time `YYYY-MM-DDTHH:MM` (refused when DST skips or repeats it) → ms. */
export function at(local: string): number {
  const r = parseInstant(`${local}:00`, { timeZone: PARIS });
  if (!r.ok) throw new Error(r.problem);
  return r.ms;
}

const DAY_RANGE = ['08:00-17:00'];

/**
 * Issue 15's acceptance calendar: `school` (Mon, Tue, Thu, Fri 08:00–17:00) and `school-wednesday`
 * (the same plus Wednesday 08:00–12:00), closed during the zone A holidays (from/to are the first
 * and last closed days, inclusive: shared/school-hours.ts compares local dates `from <= d <= to`),
 * and on public holidays, which the engine adds (default for Europe/Paris).
 */
export const CAL: SchoolCalendar = schoolCalendar({
  timezone: PARIS,
  profiles: {
    school: { mon: DAY_RANGE, tue: DAY_RANGE, thu: DAY_RANGE, fri: DAY_RANGE, holidays: ['zone-a'] },
    'school-wednesday': {
      mon: DAY_RANGE,
      tue: DAY_RANGE,
      wed: ['08:00-12:00'],
      thu: DAY_RANGE,
      fri: DAY_RANGE,
      holidays: ['zone-a'],
    },
    // Open every weekend day and night, no school holidays: shows DST in open time.
    weekend: { sat: ['00:00-24:00'], sun: ['00:00-24:00'] },
  },
  calendars: {
    // examples/holidays-fr-2025-2026.yaml, plus the ends of 2024-2025 and the 2026 autumn holidays.
    'zone-a': [
      { name: "Vacances d'été 2025", from: '2025-07-05', to: '2025-08-31' },
      { name: 'Vacances de la Toussaint', from: '2025-10-18', to: '2025-11-02' },
      { name: 'Vacances de Noël', from: '2025-12-20', to: '2026-01-04' },
      { name: "Vacances d'hiver", from: '2026-02-07', to: '2026-02-22' },
      { name: 'Vacances de printemps', from: '2026-04-04', to: '2026-04-19' },
      { name: "Pont de l'Ascension", from: '2026-05-14', to: '2026-05-17' },
      { name: "Vacances d'été", from: '2026-07-04', to: '2026-08-31' },
      { name: 'Vacances de la Toussaint', from: '2026-10-17', to: '2026-11-01' },
    ],
  },
});

export function outage(from: string, to: string | null, cause: OutageCause = 'unknown'): OutageRecord {
  return { startMs: at(from), endMs: to === null ? null : at(to), cause };
}

/**
 * The figures of one school over [startMs, endMs): open time from CAL and `profile`, measured
 * throughout unless `measured` says otherwise (the box reported all along, outages included).
 */
export function figures(
  period: { startMs: number; endMs: number },
  outages: OutageRecord[],
  opts: {
    profile?: string;
    measured?: Interval[];
    annotations?: Annotation[];
    asOfMs?: number;
    publicHolidays?: PublicHolidayOptions;
  } = {},
) {
  const input: SchoolAvailabilityInput = {
    startMs: period.startMs,
    endMs: period.endMs,
    open: schoolOpenTime(CAL, opts.profile ?? 'school', period.startMs, period.endMs, opts.publicHolidays),
    outages,
    measured: opts.measured ?? [[period.startMs, period.endMs]],
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
    ...(opts.asOfMs !== undefined ? { asOfMs: opts.asOfMs } : {}),
  };
  return { input, result: schoolAvailability(input) };
}

/** The two acceptance schools' outages (issue 15). */
export const OUTAGES_0690001B = [
  outage('2026-10-27T10:00', '2026-11-05T10:30', 'wan_cut'),
  outage('2026-11-13T16:00', '2026-11-16T09:00', 'unknown'),
];
export const OUTAGES_0690002C = [outage('2026-10-15T10:00', '2026-11-27T12:00', 'power_or_box')];

/** A registry school for the report's tests: École in Lyon, Orange, 100/20 Mbit/s, `school` hours unless given. */
export function reportSchool(uai: string, over: Partial<ReportSchool> = {}): ReportSchool {
  return {
    uai,
    name: 'École',
    commune: 'Lyon',
    isp: 'Orange',
    contractedDownMbps: 100,
    contractedUpMbps: 20,
    hours: 'school',
    ...over,
  };
}
