// The availability engine's monthly figures as points, for the Continuity dashboard: InfluxQL has no
// calendar months in local time, no school hours and no holiday calendar, so the dashboard reads
// what the engine computed (report/api.ts, the same figures as `vigie report` and GET /api/report)
// instead of deriving uptime from presence. One point per school and local calendar month in the
// long policy, stamped at the month's local start: rewriting it (same tags, same time) overwrites it,
// so the hourly run is idempotent. Hours and minutes add across months and schools; the dashboard
// computes every rate from the sums (weighted by open time, never averaged percentages).

import type { Figures, SchoolReport } from '../report/figures.ts';
import { ident, literal, type ReportInflux, rowsOf } from '../report/influx.ts';
import type { Period } from '../shared/availability/index.ts';
import {
  daysOf,
  monthPeriod,
  monthsOf,
  schoolYearOf,
  schoolYearPeriod,
} from '../shared/availability/index.ts';
import type { Logger } from '../shared/log.ts';
import { int, type Point, type PointSink } from './point.ts';
import { COLLECTOR_MEASUREMENTS } from './schema.ts';

/** What the job needs of the report service (report/api.ts reportService). */
export interface MonthlyFiguresSource {
  timeZone: string;
  figures(req: { period: Period }): Promise<{ schools: unknown[] }>;
}

/** A school of the report's JSON, as far as the job reads it. */
type SchoolMonths = Pick<SchoolReport, 'uai' | 'commune' | 'isp' | 'months'>;

const MEASUREMENT = COLLECTOR_MEASUREMENTS.availability_month.measurement;
const H = 3_600_000;
const MIN = 60_000;

/**
 * The point of one school for one month. `month` is the whole calendar month (its end is stored as
 * `end_ms`, for the dashboards' "months the range touches"); `f` its figures up to `as_of_ms`. A rate
 * with nothing to judge (null) is left out, never written as 0; every rate is in [0, 100].
 */
export function availabilityPoint(school: SchoolMonths, month: Period, f: Figures): Point {
  const pct = (name: string, v: number | null) =>
    v === null || !Number.isFinite(v) ? {} : { [name]: Math.min(100, Math.max(0, v)) };
  return {
    measurement: MEASUREMENT,
    tags: { uai: school.uai, commune: school.commune, isp: school.isp, month: month.label },
    fields: {
      open_h: f.openMs / H,
      up_h: f.upMs / H,
      lost_h: f.lostMs / H,
      not_measured_h: f.notMeasuredMs / H,
      excluded_h: f.excludedOpenMs / H,
      ...pct('availability_pct', f.availabilityPct),
      ...pct('coverage_pct', f.coveragePct),
      outages: int(f.outageCount),
      longest_outage_s: f.longestOutageMs / 1000,
      lost_min_wan_cut: f.lostMsByCause.wan_cut / MIN,
      lost_min_power_or_box: f.lostMsByCause.power_or_box / MIN,
      lost_min_unknown: f.lostMsByCause.unknown / MIN,
      calendar_h: f.calendarMs / H,
      calendar_up_h: f.calendarUpMs / H,
      calendar_down_h: f.calendarDownMs / H,
      ...pct('calendar_uptime_pct', f.calendarUptimePct),
      end_ms: int(month.endMs),
      as_of_ms: int(f.endMs),
    },
    time: month.startMs,
    policy: 'long',
  };
}

/**
 * The months a run covers: the previous and the current local calendar month, and with `schoolYear`
 * every month of the current school year too (the first run fills the year in).
 */
export function monthsToWrite(nowMs: number, timeZone: string, schoolYear: boolean): Period[] {
  const [y, m] = monthsOf([nowMs, nowMs + 1], timeZone)[0]!
    .label.split('-')
    .map(Number) as [number, number];
  const current = monthPeriod(y, m, timeZone);
  const previous = m === 1 ? monthPeriod(y - 1, 12, timeZone) : monthPeriod(y, m - 1, timeZone);
  const yearStart = schoolYearPeriod(schoolYearOf(nowMs, timeZone), timeZone).startMs;
  const from = schoolYear ? Math.min(yearStart, previous.startMs) : previous.startMs;
  return monthsOf([from, current.endMs], timeZone);
}

/** What decides whether a run recomputes the previous month (see monthsForRun). */
export interface PreviousMonthState {
  /** The local day (YYYY-MM-DD) of the last run that recomputed the previous month; null: none yet. */
  fullDay: string | null;
  /** The oldest sample time (ms) of the late batches noted since that run; +Infinity: none. */
  lateFrom: number;
}

/**
 * The months one run recomputes. The current month always; the previous month only at the first run
 * of each local day (the nightly run: the previous month's last hours after the 1st's midnight, and
 * whatever changed it that no hook saw, such as an outage point written at its end) or when late
 * batches measured before the current month began arrived since (a spool flushed after a cut). With
 * `schoolYear`, every month of the school year so far (monthsToWrite). Recomputing the previous month
 * every hour cost as much as the current one for nothing (bench/availability-job.ts).
 */
export function monthsForRun(
  nowMs: number,
  timeZone: string,
  schoolYear: boolean,
  state: PreviousMonthState,
): Period[] {
  const months = monthsToWrite(nowMs, timeZone, schoolYear);
  if (schoolYear) return months;
  const current = months[months.length - 1]!;
  const today = daysOf(nowMs, nowMs + 1, timeZone)[0]!.label;
  const previousDue = state.fullDay !== today || state.lateFrom < current.startMs;
  return previousDue ? months : [current];
}

/** Where the points already written can be read and removed: InfluxDB and the long policy's name. */
export interface StoredPoints {
  influx: ReportInflux;
  policy: string;
}

/**
 * A school whose commune or ISP changed in the registry would keep its old month points beside the
 * new ones (other tags, other series) and count twice in every sum: the points of the same school
 * and month under other tags are deleted. Returns how many series were.
 */
async function dropRetagged(stored: StoredPoints, fresh: Point[], months: Period[]): Promise<number> {
  const want = new Map(fresh.map((p) => [`${p.tags['uai']}/${p.tags['month']}`, p.tags]));
  const first = months[0]!.startMs;
  const end = months[months.length - 1]!.endMs;
  const [series] = await stored.influx.queryAll([
    `SELECT last(${ident('open_h')}) FROM ${ident(stored.policy)}.${ident(MEASUREMENT)} WHERE time >= ${first}ms AND time < ${end}ms GROUP BY "uai", "commune", "isp", "month"`,
  ]);
  const deletes: string[] = [];
  for (const row of rowsOf(series ?? [])) {
    const tags = want.get(`${row['uai']}/${row['month']}`);
    if (!tags || (tags['commune'] === row['commune'] && tags['isp'] === row['isp'])) continue;
    const where = (['uai', 'commune', 'isp', 'month'] as const)
      .map((k) => `${ident(k)} = ${literal(String(row[k] ?? ''))}`)
      .join(' AND ');
    deletes.push(`DELETE FROM ${ident(MEASUREMENT)} WHERE ${where}`);
  }
  if (deletes.length) await stored.influx.queryAll(deletes);
  return deletes.length;
}

/**
 * Computes the months' figures with the report engine and writes one point per school and month
 * (after deleting a school's points under its former commune or ISP, given `stored`).
 * Returns the number of points written.
 * @throws what the report service throws (ReportQueryError when InfluxDB cannot answer)
 */
export async function writeAvailabilityPoints(
  source: MonthlyFiguresSource,
  points: PointSink,
  months: Period[],
  stored?: StoredPoints,
): Promise<number> {
  if (!months.length) return 0;
  const first = months[0]!;
  const last = months[months.length - 1]!;
  const report = await source.figures({
    period: { label: `${first.label}/${last.label}`, startMs: first.startMs, endMs: last.endMs },
  });
  const byLabel = new Map(months.map((m) => [m.label, m]));
  const list: Point[] = [];
  for (const school of report.schools as SchoolMonths[])
    for (const { month, figures } of school.months) {
      const period = byLabel.get(month);
      // A month not begun (asOf before its start) has nothing to say yet.
      if (period && figures.endMs > figures.startMs) list.push(availabilityPoint(school, period, figures));
    }
  if (stored && list.length) await dropRetagged(stored, list, months);
  if (list.length) points.write(list);
  return list.length;
}

export interface AvailabilityJobOptions {
  source: MonthlyFiguresSource;
  points: PointSink;
  log: Logger;
  now: () => number;
  /** To delete the points a school left under its former commune or ISP. */
  stored?: StoredPoints;
  /** Between two runs; one hour by default. */
  everyMs?: number;
}

export interface AvailabilityJob {
  /** One run now (monthsForRun: the current month, the previous one when due; the school year when `schoolYear`). */
  run(schoolYear?: boolean): Promise<number>;
  /** A batch with samples measured at `t` (ms) arrived: if before the current month, the next run redoes the previous one. */
  late(t: number): void;
  stop(): void;
}

/**
 * Runs at start (once what was written before is in InfluxDB: the registry's `school` points), then
 * every hour. The first successful run covers the whole school year so far; until one succeeds, every
 * run tries the year again. Then each run recomputes the current month, and the previous one when
 * monthsForRun says it is due. A failed run is logged and retried at the next one; ingest goes on.
 */
export function startAvailabilityPoints(opts: AvailabilityJobOptions): AvailabilityJob {
  const everyMs = opts.everyMs ?? H;
  let yearDone = false;
  let stopped = false;
  let running: Promise<number> | null = null;
  let timer: NodeJS.Timeout | undefined;
  const previous: PreviousMonthState = { fullDay: null, lateFrom: Number.POSITIVE_INFINITY };
  const run = (schoolYear = false): Promise<number> => {
    running ??= (async () => {
      const nowMs = opts.now();
      const months = monthsForRun(nowMs, opts.source.timeZone, schoolYear, previous);
      // Late batches noted from here on wait for the next run; those before are this run's, unless it fails.
      const lateFrom = previous.lateFrom;
      previous.lateFrom = Number.POSITIVE_INFINITY;
      let n: number;
      try {
        n = await writeAvailabilityPoints(opts.source, opts.points, months, opts.stored);
      } catch (err) {
        previous.lateFrom = Math.min(previous.lateFrom, lateFrom);
        throw err;
      }
      if (months.length > 1) previous.fullDay = daysOf(nowMs, nowMs + 1, opts.source.timeZone)[0]!.label;
      opts.log.info(
        { points: n, months: `${months[0]?.label}/${months[months.length - 1]?.label}` },
        'availability figures written for the Continuity dashboard',
      );
      return n;
    })().finally(() => {
      running = null;
    });
    return running;
  };
  const tick = async () => {
    if (stopped) return;
    try {
      await run(!yearDone);
      yearDone = true;
    } catch (err) {
      opts.log.warn(
        { err: (err as Error).message },
        'availability figures not written; retried at the next run',
      );
    }
    if (!stopped) {
      timer = setTimeout(tick, everyMs);
      timer.unref();
    }
  };
  void (opts.points.written?.() ?? Promise.resolve()).then(tick);
  return {
    run,
    late(t) {
      if (t < previous.lateFrom) previous.lateFrom = t;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
