// The day-rollup job: one `school_day` point per school and local day in the long policy, from the
// raw policy's batches and anchor pings, so a yearly report reads 365 small points per school
// instead of 105,000 five-minute slots (issue 15's bench). Runs at start (the days of the raw
// retention that have none, and the last few) and each night after local midnight (the last few
// days again: agents flush spooled batches late). Idempotent: same uai + time overwrites.

import { at, ident, literal, rowsOf } from '../report/influx.ts';
import type { Period } from '../shared/availability/index.ts';
import { daysOf, localDayStartOf } from '../shared/availability/index.ts';
import type { Logger } from '../shared/log.ts';
import { isUai } from '../shared/uai.ts';
import type { RetentionConfig } from './config.ts';
import {
  apUpShare,
  DAY_ROLLUP_FORMAT,
  daySlots,
  encodeMeasured,
  encodePings,
  encodeWifi,
  SLOT_MS,
  type SlotPing,
  type SlotWifi,
  WIFI_APS,
} from './day-rollup-codec.ts';
import { lateDays } from './day-rollup-late.ts';
import type { InfluxHttp, QueryResult } from './influx-http.ts';
import { rawPolicyStartMs } from './retention.ts';
import { COLLECTOR_MEASUREMENTS } from './schema.ts';

export interface DayRollupOptions {
  http: Pick<InfluxHttp, 'query' | 'write' | 'encode'>;
  database: string;
  retention: RetentionConfig;
  /** The alerts' zone: local days are cut at its midnights (23 h and 25 h days included). */
  timeZone: string;
  log: Logger;
  now?: () => number;
  /** Days redone at each run, yesterday included (late spool flushes). Default 3. */
  redoDays?: number;
  /** Schools per query (bounds each answer: schools × days × 288 rows). Default 50. */
  schoolsPerQuery?: number;
  /** Days per query. Default 3. */
  daysPerQuery?: number;
  /** After local midnight, wait this long before the nightly run (late batches of the day). Default 15 min. */
  nightlyDelayMs?: number;
  /** After a run that failed or lost a write (InfluxDB down, database not created yet), the backfill is tried again this soon. Default 10 min. */
  retryMs?: number;
  /**
   * True while the collector's write-ahead log still holds batches InfluxDB has not taken (after an
   * InfluxDB outage): a run then would roll up days half refilled, so it waits (retryMs).
   */
  backlog?: () => boolean;
  /** Days that got late batches are redone once none has come for this long. Default 5 min. */
  lateQuietMs?: number;
}

export interface DayRollupRun {
  days: number;
  schools: number;
  points: number;
  failedWrites: number;
  ms: number;
}

export interface DayRollupCounters {
  runs: number;
  points: number;
  failures: number;
}

const MEASUREMENT = COLLECTOR_MEASUREMENTS.school_day.measurement;
/** One statement's rows (report/influx.ts rowsOf: columns → values, tags merged). */
const rowsAt = (result: QueryResult, statement: number) => rowsOf(result.results[statement]?.series ?? []);

/**
 * Per school/day key, the Wi-Fi slots from per-AP, per-slot counts of polls and of up polls: each AP
 * polled in a slot is one AP-slot, up for the share of its polls that found it up.
 */
function wifiSlots(
  polls: Record<string, unknown>[],
  ups: Record<string, unknown>[],
  slotOf: (row: Record<string, unknown>) => { key: string; slot: number } | null,
): Map<string, SlotWifi[]> {
  const perAp = new Map<string, { key: string; slot: number; polls: number; up: number }>();
  const entry = (row: Record<string, unknown>) => {
    const at = slotOf(row);
    if (!at) return null;
    const id = `${at.key}/${at.slot}/${String(row['ap'])}`;
    return perAp.get(id) ?? perAp.set(id, { ...at, polls: 0, up: 0 }).get(id)!;
  };
  for (const row of polls) {
    const e = entry(row);
    if (e) e.polls = Number(row['polls']) || 0;
  }
  for (const row of ups) {
    const e = entry(row);
    if (e) e.up = Number(row['up']) || 0;
  }
  const out = new Map<string, Map<number, SlotWifi>>();
  for (const e of perAp.values()) {
    if (!(e.polls > 0)) continue;
    const day = out.get(e.key) ?? out.set(e.key, new Map()).get(e.key)!;
    const slot = day.get(e.slot) ?? day.set(e.slot, { slot: e.slot, aps: 0, upAps: 0 }).get(e.slot)!;
    slot.aps++;
    slot.upAps += apUpShare(e.up, e.polls);
  }
  return new Map([...out].map(([k, v]) => [k, [...v.values()]]));
}

/** The schools the registry wrote (`school` points, raw policy), sorted: the report's list. */
export async function rollupSchools(opts: DayRollupOptions): Promise<string[]> {
  const res = await opts.http.query(
    `SELECT last("name") FROM ${ident(opts.retention.raw.name)}.${ident(COLLECTOR_MEASUREMENTS.school.measurement)} GROUP BY "uai"`,
  );
  const uais = new Set<string>();
  for (const row of rowsAt(res, 0))
    if (typeof row['uai'] === 'string' && isUai(row['uai'])) uais.add(row['uai']);
  return [...uais].sort();
}

/** The index of the day holding t in sorted, contiguous days; -1 outside. */
function dayIndex(days: readonly Period[], t: number): number {
  let lo = 0;
  let hi = days.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t < days[mid]!.startMs) hi = mid - 1;
    else if (t >= days[mid]!.endMs) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Rolls up the given whole local days for the given schools: reads the raw policy (5-minute batch
 * counts and anchor-ping means, chunked by schools and days) and writes one point per school and day
 * (an empty bitmap for a school with no batch: "not measured" is then known without reading slots).
 * @param days whole local days, sorted and contiguous (daysOf())
 * @throws InfluxQueryError when InfluxDB does not answer a read (nothing of that chunk is written)
 */
export async function rollUpDays(
  opts: DayRollupOptions,
  days: readonly Period[],
  schools: readonly string[],
  stopped: () => boolean = () => false,
): Promise<DayRollupRun> {
  const started = Date.now();
  const raw = ident(opts.retention.raw.name);
  const perQuery = opts.schoolsPerQuery ?? 50;
  const daysPer = opts.daysPerQuery ?? 3;
  let points = 0;
  let failedWrites = 0;
  for (let s = 0; s < schools.length; s += perQuery) {
    const chunk = schools.slice(s, s + perQuery);
    const uaiMatch = `"uai" =~ /^(${chunk.join('|')})$/`;
    for (let d = 0; d < days.length && !stopped(); d += daysPer) {
      const span = days.slice(d, d + daysPer);
      const range = `time >= ${at(span[0]!.startMs)} AND time < ${at(span[span.length - 1]!.endMs)}`;
      const res = await opts.http.query(
        `SELECT count("seq") AS "n" FROM ${raw}."batch" WHERE ${uaiMatch} AND ${range} GROUP BY time(5m), "uai" fill(none); ` +
          `SELECT mean("median_ms") AS "latency", mean("loss_pct") AS "loss" FROM ${raw}."ping" WHERE "role" != 'gateway' AND ${uaiMatch} AND ${range} GROUP BY time(5m), "uai" fill(none); ` +
          `SELECT count("up") AS "polls" FROM ${raw}."wifi" WHERE ${WIFI_APS} AND ${uaiMatch} AND ${range} GROUP BY time(5m), "uai", "ap" fill(none); ` +
          `SELECT count("up") AS "up" FROM ${raw}."wifi" WHERE "up" = true AND ${WIFI_APS} AND ${uaiMatch} AND ${range} GROUP BY time(5m), "uai", "ap" fill(none)`,
      );
      // Per school and day: measured slots and ping slots.
      const measured = new Map<string, number[]>();
      const pings = new Map<string, SlotPing[]>();
      const slotOf = (row: Record<string, unknown>) => {
        const t = Number(row['time']);
        const k = dayIndex(span, t);
        if (k < 0) return null;
        const day = daySlots(span[k]!.startMs, span[k]!.endMs);
        return { key: `${row['uai']}/${k}`, slot: Math.round((t - day.baseMs) / SLOT_MS) };
      };
      for (const row of rowsAt(res, 0)) {
        const at = slotOf(row);
        if (!at || !(Number(row['n']) > 0)) continue;
        (measured.get(at.key) ?? measured.set(at.key, []).get(at.key)!).push(at.slot);
      }
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
      for (const row of rowsAt(res, 1)) {
        const at = slotOf(row);
        if (!at) continue;
        (pings.get(at.key) ?? pings.set(at.key, []).get(at.key)!).push({
          slot: at.slot,
          latencyMs: num(row['latency']),
          lossPct: num(row['loss']),
        });
      }
      const wifi = wifiSlots(rowsAt(res, 2), rowsAt(res, 3), slotOf);
      const lines: string[] = [];
      for (const uai of chunk)
        span.forEach((day, k) => {
          const slots = daySlots(day.startMs, day.endMs);
          const key = `${uai}/${k}`;
          lines.push(
            `${MEASUREMENT},uai=${uai} measured="${encodeMeasured(measured.get(key) ?? [], slots.count)}",pings="${encodePings(pings.get(key) ?? [], slots.count)}",wifi="${encodeWifi(wifi.get(key) ?? [], slots.count)}",slots=${slots.count}i,format=${DAY_ROLLUP_FORMAT}i ${day.startMs}`,
          );
        });
      const out = await opts.http.write(
        await opts.http.encode(Buffer.from(`${lines.join('\n')}\n`)),
        opts.retention.rollup.name,
      );
      if (out.ok) points += lines.length;
      else {
        failedWrites++;
        opts.log.warn(
          { status: out.status, err: out.message, schools: chunk.length, days: span.length },
          'day rollup: write refused; redone at the next run',
        );
      }
    }
  }
  return { days: days.length, schools: schools.length, points, failedWrites, ms: Date.now() - started };
}

/** The start of the local day holding `t` (shared/availability localDayStartOf). */
export const localDayStart = localDayStartOf;

/**
 * The whole local days before today's: the last `redo`, plus those in `from` on with no point of the
 * current format yet (after an upgrade, the days still kept raw are rolled up again).
 */
export async function daysToRollUp(
  opts: DayRollupOptions,
  schools: number,
  backfill: boolean,
): Promise<Period[]> {
  const now = (opts.now ?? Date.now)();
  // Today's midnight, not daysOf(now, …)[0], which starts at `now`: today is never rolled up half done.
  const today = { startMs: localDayStart(now, opts.timeZone) };
  const redo = opts.redoDays ?? 3;
  const edge = rawPolicyStartMs(opts.retention, now);
  // The raw policy kept for ever: backfill a year at most (a report reads older days slot by slot).
  const from = Math.max(Number.isFinite(edge) ? edge : now - 366 * 86_400_000, now - 400 * 86_400_000);
  // Whole days only: the first one is clipped by `from` (and half gone from the raw policy anyway).
  const whole = daysOf(from, today.startMs, opts.timeZone).slice(1);
  const recent = new Set(whole.slice(-redo).map((d) => d.startMs));
  if (!backfill) return whole.filter((d) => recent.has(d.startMs));
  const res = await opts.http.query(
    `SELECT count("slots") AS "n" FROM ${ident(opts.retention.rollup.name)}.${ident(MEASUREMENT)} WHERE "format" = ${DAY_ROLLUP_FORMAT} AND time >= ${at(from)} GROUP BY time(1d) fill(none) tz(${literal(opts.timeZone)})`,
  );
  const done = new Map<number, number>();
  for (const row of rowsAt(res, 0)) done.set(Number(row['time']), Number(row['n']));
  return whole.filter((d) => recent.has(d.startMs) || (done.get(d.startMs) ?? 0) < schools);
}

export interface DayRollupJob {
  /** Resolves when the start-up run (backfill) is over, failed or not. */
  ready: Promise<void>;
  /**
   * A batch measured at `t` (ms) was just taken: a day older than the nightly redo window (a box's
   * spool flushed after days offline, a collector back after days down) is redone once late batches
   * stop coming (lateQuietMs). At most one entry per day of the raw retention.
   */
  late(t: number): void;
  /** Runs now: the last few days, or the backfill too. */
  runOnce(backfill?: boolean): Promise<DayRollupRun>;
  lateDays(): number[];
  counters(): DayRollupCounters;
  stop(): Promise<void>;
}

/**
 * A fresh install: the collector creates its database and policies as it starts, maybe after the
 * job's first run. Nothing to roll up yet is said at info level, not warned about.
 */
function notSetUpYet(err: unknown, log: Logger): boolean {
  const message = (err as Error).message;
  if (!/database not found|retention policy not found/.test(message)) return false;
  log.info({ err: message }, 'day rollup: the database is not set up yet; tried again later');
  return true;
}

/**
 * Starts the job: a backfill run now, then one run each night `nightlyDelayMs` after local midnight.
 * A run that fails (InfluxDB down) is logged and counted; the next night's run redoes its days, and
 * a restart backfills what is missing.
 */
export function startDayRollups(opts: DayRollupOptions): DayRollupJob {
  const counters: DayRollupCounters = { runs: 0, points: 0, failures: 0 };
  const now = opts.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  const runOnce = async (backfill = false, only?: readonly number[]): Promise<DayRollupRun> => {
    const schools = await rollupSchools(opts);
    let days = await daysToRollUp(opts, schools.length, backfill);
    if (only) {
      const wanted = new Set(only);
      const t = now();
      const edge = rawPolicyStartMs(opts.retention, t);
      days = daysOf(
        Math.max(Math.min(...only), Number.isFinite(edge) ? edge : 0),
        localDayStart(t, opts.timeZone),
        opts.timeZone,
      ).filter((d) => wanted.has(d.startMs));
    }
    const run = await rollUpDays(opts, days, schools, () => stopped);
    counters.runs++;
    counters.points += run.points;
    opts.log.info({ ...run, backfill }, 'day rollup: school_day points written');
    return run;
  };
  /** One run at a time; true when it went through without a failed read or write. */
  const guarded = (backfill: boolean, only?: readonly number[]): Promise<boolean> => {
    const attempt = async (): Promise<boolean> => {
      if (stopped) return true;
      if (opts.backlog?.()) {
        opts.log.info({ backfill }, 'day rollup: postponed while the write-ahead log refills InfluxDB');
        return false;
      }
      try {
        return (await runOnce(backfill, only)).failedWrites === 0;
      } catch (err) {
        if (!notSetUpYet(err, opts.log)) {
          counters.failures++;
          opts.log.warn({ err: (err as Error).message }, 'day rollup: run failed; tried again later');
        }
        return false;
      }
    };
    const p = running.then(attempt);
    running = p;
    return p;
  };
  const schedule = (ok: boolean) => {
    if (stopped) return;
    const t = now();
    const tomorrow = daysOf(t, t + 36 * 3_600_000, opts.timeZone)[1]!.startMs;
    const wait = ok ? tomorrow - t + (opts.nightlyDelayMs ?? 15 * 60_000) : (opts.retryMs ?? 10 * 60_000);
    timer = setTimeout(() => {
      void guarded(!ok).then(schedule);
    }, wait);
    timer.unref();
  };
  const late = lateDays({
    retention: opts.retention,
    now,
    dayStart: (t) => localDayStart(t, opts.timeZone),
    redoDays: opts.redoDays ?? 3,
    quietMs: opts.lateQuietMs ?? 5 * 60_000,
    retryMs: opts.retryMs ?? 10 * 60_000,
    redo: (days) => guarded(false, days),
  });
  const ready = guarded(true).then(schedule);
  return {
    ready,
    late: (t: number) => late.note(t),
    runOnce: (backfill = false) => runOnce(backfill),
    /** Days waiting to be redone for late batches, local midnights (ms). */
    lateDays: () => late.pending(),
    counters: () => ({ ...counters }),
    /** Stops scheduling; waits for a run in progress up to 2 s (it stops at its next chunk). */
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      late.stop();
      await Promise.race([running, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
