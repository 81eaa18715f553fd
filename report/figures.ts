// The report's figures, from what report/source.ts read: per school and calendar month, per school
// over the period, per commune, per ISP and for the fleet — every one from the availability engine,
// aggregates weighted by open time (shared/availability/aggregate.ts), never averaged percentages.
import {
  type AggregateAvailability,
  type Annotation,
  aggregate,
  aggregateBy,
  annotationsFor,
  type Interval,
  monthsOf,
  normalize,
  type Period,
  type PublicHolidayOptions,
  type SchoolAvailability,
  type SchoolRow,
  schoolAvailability,
  schoolOpenTime,
  subtract,
} from '../shared/availability/index.ts';
import { hoursProfile, type SchoolCalendar } from '../shared/school-hours.ts';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  PingColumns,
  type QualityFigures,
  type QualityThresholds,
  qualityFigures,
  WifiColumns,
  type WifiFigures,
  type WifiSlot,
  wifiOf,
} from './quality.ts';
import type { ReportData, ReportSchool, SchoolData, SpeedTest, UnreadableRollups } from './source.ts';

/** Below this availability in school hours a school is listed as "below target" (percent). */
export const DEFAULT_TARGET_PCT = 99;

/** Speed tests against the contract over a month (from successful tests, in Mbit/s). */
export interface SpeedFigures {
  tests: number;
  downMedianMbps: number | null;
  upMedianMbps: number | null;
  /** Median download as a share of the contracted rate, percent (null without contract or tests). */
  downMedianPctOfContract: number | null;
}

export type Figures = Omit<SchoolAvailability, 'outages'>;

export interface SchoolMonth {
  month: string;
  figures: Figures;
  speed: SpeedFigures;
  /** In school hours (report/quality.ts). */
  quality: QualityFigures;
}

export interface SchoolReport extends ReportSchool {
  /** Over the whole period (an outage across two months counts once here). */
  total: SchoolAvailability;
  months: SchoolMonth[];
  speed: SpeedFigures;
  /** Wi-Fi access points over the period's open time, excluded windows left out. */
  wifi: WifiFigures;
  annotations: Annotation[];
}

export interface GroupReport {
  /** Commune or ISP name; null for schools the registry gives none. */
  key: string | null;
  total: AggregateAvailability;
  /** The member schools' AP-slots summed (each school weighs its access-point time, not 1). */
  wifi: WifiFigures;
  months: { month: string; figures: AggregateAvailability }[];
}

/** Wi-Fi figures of several schools or months: AP-slots summed, the share recomputed. */
export function sumWifi(list: readonly WifiFigures[]): WifiFigures {
  return wifiOf(
    list.reduce((a, w) => a + w.apSlots, 0),
    list.reduce((a, w) => a + Math.round(w.upApSlots * 1000), 0),
  );
}

export interface Report {
  period: Period;
  timeZone: string;
  /** The instant the figures stop at (a period not over: now). */
  asOfMs: number;
  generatedAtMs: number;
  targetPct: number;
  /** The thresholds the quality figures were judged by (collector.report.quality). */
  quality: QualityThresholds;
  months: Period[];
  schools: SchoolReport[];
  communes: GroupReport[];
  isps: GroupReport[];
  fleet: GroupReport;
  annotations: Annotation[];
  /** Which retention policy each part of the period was read from. */
  sources: ReportData['parts'];
  /** Day rollups that did not decode: their days were read slot by slot (source.ts). */
  unreadableDayRollups: UnreadableRollups;
  /** Hours profiles the registry names and the config lacks, with their schools (no school-hours figures). */
  unknownHoursProfiles: { profile: string; uais: string[] }[];
  filter: { commune?: string; isp?: string };
}

/** The median (mean of the middle two for an even count), null for none. */
export const median = (xs: readonly number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Medians of successful tests; the contract comparison uses the registry's contracted download. */
export function speedFigures(tests: readonly SpeedTest[], school: ReportSchool): SpeedFigures {
  const down = tests.map((t) => t.downBps).filter((v): v is number => v !== null);
  const up = tests.map((t) => t.upBps).filter((v): v is number => v !== null);
  const d = median(down);
  const u = median(up);
  return {
    tests: tests.length,
    downMedianMbps: d === null ? null : d / 1e6,
    upMedianMbps: u === null ? null : u / 1e6,
    downMedianPctOfContract:
      d === null || !school.contractedDownMbps ? null : (100 * d) / 1e6 / school.contractedDownMbps,
  };
}

const withoutOutages = ({ outages: _, ...rest }: SchoolAvailability): Figures => rest;

export interface ReportInput {
  period: Period;
  calendar: SchoolCalendar;
  data: ReportData;
  annotations?: Annotation[];
  asOfMs: number;
  nowMs: number;
  publicHolidays?: PublicHolidayOptions;
  targetPct?: number;
  filter?: { commune?: string; isp?: string };
  /** Video-class and contract thresholds (default: M-Lab IQB, 80 %). */
  quality?: QualityThresholds;
}

/** Items of a time-sorted list in [startMs, endMs) (binary search: a year of slots, 13 periods). */
function within<T extends { t: number }>(sorted: readonly T[], startMs: number, endMs: number): T[] {
  const first = (bound: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.t < bound) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return sorted.slice(first(startMs), first(endMs));
}

/**
 * A school's open time over [startMs, endMs). A school whose hours profile the config lacks has none
 * here: its school-hours figures are "not measured" and it weighs nothing in the aggregates, instead
 * of open 24 h a day (its nights counted as teaching hours lost); the report names it
 * (Report.unknownHoursProfiles). Its calendar figures stand.
 */
export function reportOpenTime(
  calendar: SchoolCalendar,
  school: Pick<ReportSchool, 'hours'>,
  startMs: number,
  endMs: number,
  publicHolidays?: PublicHolidayOptions,
): Interval[] {
  if (!hoursProfile(calendar, school.hours)) return [];
  return schoolOpenTime(calendar, school.hours, startMs, endMs, publicHolidays);
}

/** Wi-Fi slots sorted by time (columns from readSchoolsData already are). */
const sortedWifi = (slots: readonly WifiSlot[] | WifiColumns): readonly WifiSlot[] | WifiColumns =>
  slots instanceof WifiColumns || slots.every((s, i, all) => i === 0 || all[i - 1]!.t <= s.t)
    ? slots
    : [...slots].sort((a, b) => a.t - b.t);

/**
 * One school's figures: over the period and per calendar month. Pure.
 * @param open the school's open time over the period (schoolOpenTime()); computed when not given
 */
export function schoolReport(
  input: Omit<ReportInput, 'data'>,
  school: ReportSchool,
  data: SchoolData | undefined,
  open?: Interval[],
): SchoolReport {
  const { period, calendar } = input;
  const months = monthsOf(period, calendar.timezone);
  const d = data ?? { outages: [], measured: [], speedTests: [], pingSlots: [] };
  const wifi = sortedWifi(d.wifiSlots ?? []);
  const annotations = annotationsFor(input.annotations ?? [], school);
  const openTime =
    open ?? reportOpenTime(calendar, school, period.startMs, period.endMs, input.publicHolidays);
  // An outage still open is known to last up to now, not beyond: an as-of later than now must not
  // count hours still to come as lost (they are not measured, as for every other school).
  const outages =
    input.asOfMs > input.nowMs
      ? d.outages.map((o) => (o.endMs === null ? { ...o, endMs: input.nowMs } : o))
      : d.outages;
  const base = {
    open: openTime,
    outages,
    measured: d.measured,
    annotations,
    asOfMs: input.asOfMs,
  };
  // Quality is judged over the same open time as availability: windows an annotation excludes
  // (planned works, a strike day) count in neither.
  const excluded = normalize(
    annotations.flatMap((a): Interval[] => (a.kind === 'exclude' ? [[a.fromMs, a.toMs]] : [])),
  );
  const qualityOpen = excluded.length ? subtract(openTime, excluded) : openTime;
  const tests = [...d.speedTests].sort((a, b) => a.t - b.t);
  const slots =
    d.pingSlots instanceof PingColumns
      ? d.pingSlots
      : d.pingSlots.every((s, i, all) => i === 0 || all[i - 1]!.t <= s.t)
        ? d.pingSlots
        : [...d.pingSlots].sort((a, b) => a.t - b.t);
  const monthly = months.map((m): SchoolMonth => {
    const monthTests = within(tests, m.startMs, m.endMs);
    return {
      month: m.label,
      figures: withoutOutages(schoolAvailability({ ...base, startMs: m.startMs, endMs: m.endMs })),
      speed: speedFigures(monthTests, school),
      quality: qualityFigures({
        open: qualityOpen.filter(([a, b]) => b > m.startMs && a < m.endMs),
        tests: monthTests,
        slots:
          slots instanceof PingColumns ? slots.within(m.startMs, m.endMs) : within(slots, m.startMs, m.endMs),
        wifi:
          wifi instanceof WifiColumns ? wifi.within(m.startMs, m.endMs) : within(wifi, m.startMs, m.endMs),
        contractedDownMbps: school.contractedDownMbps,
        ...(input.quality ? { thresholds: input.quality } : {}),
      }),
    };
  });
  return {
    ...school,
    total: schoolAvailability({ ...base, startMs: period.startMs, endMs: period.endMs }),
    months: monthly,
    speed: speedFigures(d.speedTests, school),
    // Months partition the period and a slot lies in one: the period's AP-slots are the months' sum.
    wifi: sumWifi(monthly.map((m) => m.quality.wifi)),
    annotations,
  };
}

function unknownProfiles(calendar: SchoolCalendar, schools: readonly ReportSchool[]) {
  const by = new Map<string, string[]>();
  for (const s of schools)
    if (!hoursProfile(calendar, s.hours)) (by.get(s.hours) ?? by.set(s.hours, []).get(s.hours)!).push(s.uai);
  return [...by].map(([profile, uais]) => ({ profile, uais }));
}

/** All the figures of a report. Pure: the clock and the data come in. */
export function computeReport(input: ReportInput): Report {
  const schools = input.data.schools.map((school) =>
    schoolReport(input, school, input.data.bySchool.get(school.uai)),
  );
  return assembleReport(input, schools, input.data.parts);
}

/**
 * The report from per-school figures: communes, ISPs and the fleet aggregated from them (weighted by
 * open time, shared/availability/aggregate.ts). Pure; what a chunked read ends with (report/compute.ts).
 */
export function assembleReport(
  input: Omit<ReportInput, 'data'>,
  schools: SchoolReport[],
  sources: ReportData['parts'],
  unreadableDayRollups: UnreadableRollups = { count: 0, first: [] },
): Report {
  const { period, calendar } = input;
  const tz = calendar.timezone;
  const months = monthsOf(period, tz);
  const all = input.annotations ?? [];
  const group = (rows: SchoolReport[], key: string | null): GroupReport => ({
    key,
    total: aggregate(rows.map((s): SchoolRow => ({ school: s, figures: s.total }))),
    wifi: sumWifi(rows.map((s) => s.wifi)),
    months: months.map((m, i) => ({
      month: m.label,
      figures: aggregate(
        rows.map((s): SchoolRow => ({ school: s, figures: { ...s.months[i]!.figures, outages: [] } })),
      ),
    })),
  });
  const groupsBy = (by: 'commune' | 'isp') =>
    aggregateBy(
      schools.map((s) => ({ school: s, figures: s.total })),
      by,
    ).map(({ key }) =>
      group(
        schools.filter((s) => (s[by] ?? null) === key),
        key,
      ),
    );
  return {
    period,
    timeZone: tz,
    asOfMs: input.asOfMs,
    generatedAtMs: input.nowMs,
    targetPct: input.targetPct ?? DEFAULT_TARGET_PCT,
    quality: input.quality ?? DEFAULT_QUALITY_THRESHOLDS,
    months,
    schools,
    communes: groupsBy('commune'),
    isps: groupsBy('isp'),
    fleet: group(schools, null),
    annotations: all,
    sources,
    unreadableDayRollups,
    unknownHoursProfiles: unknownProfiles(calendar, schools),
    filter: input.filter ?? {},
  };
}
