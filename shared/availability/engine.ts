// The availability engine: for one school and one period, its open time, outages, measured time and
// corrections (plain data) → figures with their units in their names. Pure: no clock, no I/O, no
// process time zone. The report, the HTTP API and the collector's daily rollups all call it; every
// formula is written here once, and explained in docs/report.md.
import { openIntervals, type SchoolCalendar } from '../school-hours.ts';
import { type Annotation, type OutageCause, reclassifications } from './annotations.ts';
import { type Interval, intersect, normalize, subtract, totalMs, union } from './intervals.ts';
import { type PublicHolidayOptions, withPublicHolidays } from './public-holidays.ts';

/** One outage of the school, as the collector records it (measurement `outage`). */
export interface OutageRecord {
  /** Its start: the school's last sign of life (the point's time). */
  startMs: number;
  /** Its end, excluded; null while it is still going on. */
  endMs: number | null;
  cause: OutageCause;
}

export interface SchoolAvailabilityInput {
  /** The period [startMs, endMs), e.g. monthPeriod() or schoolYearPeriod(). */
  startMs: number;
  endMs: number;
  /** The school's open time (schoolOpenTime()); any order, clipped to the period here. */
  open: Interval[];
  /** The school's outages that may touch the period (all that began before its end), any order. */
  outages: OutageRecord[];
  /** Time some data from the school covers (measuredFromBatchTimes / measuredFromBuckets). */
  measured: Interval[];
  /** Corrections for this school (annotationsFor()). */
  annotations?: Annotation[];
  /** Now, for a period not over yet: what comes after it is left out (neither open nor measured). */
  asOfMs?: number;
}

/**
 * The additive figures: sums of milliseconds that add up across days, months, schools, communes,
 * ISPs and the fleet. These, never percentages, are what gets stored and summed.
 * `openMs = upMs + lostMs + notMeasuredMs`; `calendarMs = calendarUpMs + calendarDownMs +
 * calendarNotMeasuredMs`.
 */
export interface AvailabilityTotals {
  /** Open time in the period: hours profile minus school holidays and public holidays, minus exclusions. */
  openMs: number;
  /** Open time with data and no outage. */
  upMs: number;
  /** Open time inside an outage ("teaching hours lost", in ms). */
  lostMs: number;
  /** Open time with no data and no outage known: not measured, never counted as up. */
  notMeasuredMs: number;
  /** Open time that exclusion annotations took out of the figures. */
  excludedOpenMs: number;
  /** lostMs by (possibly reclassified) cause; sums to lostMs. */
  lostMsByCause: Record<OutageCause, number>;
  /** The whole period, day and night (minus exclusions). */
  calendarMs: number;
  calendarUpMs: number;
  calendarDownMs: number;
  calendarNotMeasuredMs: number;
  calendarExcludedMs: number;
  /** calendarDownMs by cause; sums to calendarDownMs. */
  calendarDownMsByCause: Record<OutageCause, number>;
}

/** Ratios derived from totals, in percent; null when their denominator is zero (nothing to judge). */
export interface AvailabilityRates {
  /** 100 × upMs / (upMs + lostMs): availability in school hours, over the open time measured. */
  availabilityPct: number | null;
  /** 100 × (upMs + lostMs) / openMs: the share of open time we know about. */
  coveragePct: number | null;
  /** 100 × calendarUpMs / (calendarUpMs + calendarDownMs): uptime day and night. */
  calendarUptimePct: number | null;
  /** 100 × (calendarUpMs + calendarDownMs) / calendarMs. */
  calendarCoveragePct: number | null;
}

/** One outage as seen from the period. */
export interface OutageInPeriod {
  startMs: number;
  endMs: number | null;
  /** The cause in force (after reclassification). */
  cause: OutageCause;
  recordedCause: OutageCause;
  reclassified?: { author: string; reason: string };
  /** Not over at the period's end (or asOfMs): counted up to it. */
  ongoing: boolean;
  /** Its time inside the period, minus exclusions and time an earlier outage already counts. */
  inPeriodMs: number;
  /** The open time it took. */
  lostMs: number;
}

export interface SchoolAvailability extends AvailabilityTotals, AvailabilityRates {
  startMs: number;
  /** The period's end, or asOfMs when earlier. */
  endMs: number;
  /** Outages that took open time in the period. */
  outageCount: number;
  /** Outages with any time in the period, day or night. */
  outageCountCalendar: number;
  /** The longest inPeriodMs (clipped to the period), 0 without outages. */
  longestOutageMs: number;
  /** The most open time one outage took. */
  longestOutageLostMs: number;
  /** Outages with time in the period, by start. */
  outages: OutageInPeriod[];
}

const byCause = (): Record<OutageCause, number> => ({ wan_cut: 0, power_or_box: 0, unknown: 0 });

/**
 * The school's open time in [startMs, endMs): its hours profile (shared/school-hours.ts) minus its
 * holiday calendars and, unless the options say otherwise, the French public holidays.
 */
export function schoolOpenTime(
  cal: SchoolCalendar,
  profile: string,
  startMs: number,
  endMs: number,
  publicHolidays?: PublicHolidayOptions,
): Interval[] {
  return openIntervals(withPublicHolidays(cal, startMs, endMs, publicHolidays), profile, startMs, endMs);
}

/**
 * Figures of one school over one period. Definitions (docs/report.md explains them):
 * - scope = [startMs, min(endMs, asOfMs)) minus exclusion windows; open = open time ∩ scope.
 * - Each outage covers [startMs, endMs ?? +∞) ∩ scope: clipped to the period, an outage still open
 *   counts up to its end. Time two outages share counts once, for the earlier.
 * - down = ∪ outages; known = (measured ∪ down) ∩ scope: an outage is known even with no data.
 * - lostMs = |down ∩ open|; upMs = |known ∩ open| − lostMs; notMeasuredMs = openMs − |known ∩ open|.
 * - The calendar figures are the same over the whole scope instead of open time.
 * @throws RangeError for an outage whose times are not finite or end before they start
 */
export function schoolAvailability(input: SchoolAvailabilityInput): SchoolAvailability {
  const startMs = input.startMs;
  const endMs = input.asOfMs === undefined ? input.endMs : Math.min(input.endMs, input.asOfMs);
  const period: Interval[] = endMs > startMs ? [[startMs, endMs]] : [];
  const annotations = input.annotations ?? [];
  const windows: Interval[] = [];
  for (const a of annotations) if (a.kind === 'exclude') windows.push([a.fromMs, a.toMs]);
  const excluded = intersect(period, normalize(windows));
  const scope = subtract(period, excluded);
  const openAll = intersect(normalize(input.open), period);
  const open = subtract(openAll, excluded);

  const recause = reclassifications(annotations);
  const sorted = [...input.outages].sort((x, y) => x.startMs - y.startMs);
  const outages: OutageInPeriod[] = [];
  const lostMsByCause = byCause();
  const calendarDownMsByCause = byCause();
  let down: Interval[] = [];
  for (const o of sorted) {
    if (!Number.isFinite(o.startMs) || (o.endMs !== null && !(o.endMs >= o.startMs)))
      throw new RangeError(`outage ${o.startMs} → ${o.endMs}: times must be finite, the end after the start`);
    const own = subtract(intersect([[o.startMs, o.endMs ?? Number.POSITIVE_INFINITY]], scope), down);
    const inPeriodMs = totalMs(own);
    if (inPeriodMs === 0) continue;
    down = union(down, own);
    const r = recause.get(o.startMs);
    const cause = r?.cause ?? o.cause;
    const lostMs = totalMs(intersect(own, open));
    lostMsByCause[cause] += lostMs;
    calendarDownMsByCause[cause] += inPeriodMs;
    outages.push({
      startMs: o.startMs,
      endMs: o.endMs,
      cause,
      recordedCause: o.cause,
      ...(r ? { reclassified: { author: r.author, reason: r.reason } } : {}),
      ongoing: o.endMs === null || o.endMs > endMs,
      inPeriodMs,
      lostMs,
    });
  }

  const known = intersect(union(normalize(input.measured), down), scope);
  const openMs = totalMs(open);
  const lostMs = totalMs(intersect(down, open));
  const knownOpenMs = totalMs(intersect(known, open));
  const calendarMs = totalMs(scope);
  const calendarDownMs = totalMs(down);
  const totals: AvailabilityTotals = {
    openMs,
    upMs: knownOpenMs - lostMs,
    lostMs,
    notMeasuredMs: openMs - knownOpenMs,
    excludedOpenMs: totalMs(openAll) - openMs,
    lostMsByCause,
    calendarMs,
    calendarUpMs: totalMs(known) - calendarDownMs,
    calendarDownMs,
    calendarNotMeasuredMs: calendarMs - totalMs(known),
    calendarExcludedMs: totalMs(excluded),
    calendarDownMsByCause,
  };
  return {
    startMs,
    endMs: Math.max(startMs, endMs),
    ...totals,
    ...availabilityRates(totals),
    outageCount: outages.filter((o) => o.lostMs > 0).length,
    outageCountCalendar: outages.length,
    longestOutageMs: Math.max(0, ...outages.map((o) => o.inPeriodMs)),
    longestOutageLostMs: Math.max(0, ...outages.map((o) => o.lostMs)),
    outages,
  };
}

const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);

/** The rates of any totals: one school's, or sums over days, schools, communes, ISPs, the fleet. */
export function availabilityRates(t: AvailabilityTotals): AvailabilityRates {
  return {
    availabilityPct: pct(t.upMs, t.upMs + t.lostMs),
    coveragePct: pct(t.upMs + t.lostMs, t.openMs),
    calendarUptimePct: pct(t.calendarUpMs, t.calendarUpMs + t.calendarDownMs),
    calendarCoveragePct: pct(t.calendarUpMs + t.calendarDownMs, t.calendarMs),
  };
}

/** Zero totals, the start of a sum. */
export function emptyTotals(): AvailabilityTotals {
  return {
    openMs: 0,
    upMs: 0,
    lostMs: 0,
    notMeasuredMs: 0,
    excludedOpenMs: 0,
    lostMsByCause: byCause(),
    calendarMs: 0,
    calendarUpMs: 0,
    calendarDownMs: 0,
    calendarNotMeasuredMs: 0,
    calendarExcludedMs: 0,
    calendarDownMsByCause: byCause(),
  };
}

const SUMMED = [
  'openMs',
  'upMs',
  'lostMs',
  'notMeasuredMs',
  'excludedOpenMs',
  'calendarMs',
  'calendarUpMs',
  'calendarDownMs',
  'calendarNotMeasuredMs',
  'calendarExcludedMs',
] as const;

/** The additive part of any figures (for storage), copied. */
export function totalsOf(f: AvailabilityTotals): AvailabilityTotals {
  return addTotals(emptyTotals(), f);
}

/** a + b, field by field (a new object). */
export function addTotals(a: AvailabilityTotals, b: AvailabilityTotals): AvailabilityTotals {
  const sum = emptyTotals();
  for (const k of SUMMED) sum[k] = a[k] + b[k];
  for (const c of Object.keys(sum.lostMsByCause) as OutageCause[]) {
    sum.lostMsByCause[c] = a.lostMsByCause[c] + b.lostMsByCause[c];
    sum.calendarDownMsByCause[c] = a.calendarDownMsByCause[c] + b.calendarDownMsByCause[c];
  }
  return sum;
}
