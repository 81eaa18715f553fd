// What the availability engine needs for a period, read from InfluxDB: the registry (`school`
// points), outages (finished ones, plus the one still open per presence), measured time (5-minute
// slots holding a batch), speed tests. A period older than the raw policy's retention is read from
// the long policy (collector/retention.ts rollups); the raw policy is never asked beyond it.
import type { RetentionConfig } from '../collector/config.ts';
import type { Interval, OutageCause, OutageRecord } from '../shared/availability/index.ts';
import { measuredFromBuckets, normalize, OUTAGE_CAUSES } from '../shared/availability/index.ts';
import { localDayStartMs } from '../shared/availability/periods.ts';
import { DEFAULT_HOURS_PROFILE } from '../shared/school-hours.ts';
import { isUai } from '../shared/uai.ts';
import { at, ident, literal, type ReportInflux, rowsOf } from './influx.ts';
import type { PingSlot } from './quality.ts';

/** A school as the registry (`school` points) describes it; no personal data. */
export interface ReportSchool {
  uai: string;
  name: string;
  commune: string;
  isp: string;
  /** Contracted rates, Mbit/s (null when the registry point has none). */
  contractedDownMbps: number | null;
  contractedUpMbps: number | null;
  /** Hours profile name (shared/school-hours.ts). */
  hours: string;
}

export interface SpeedTest {
  t: number;
  downBps: number | null;
  upBps: number | null;
}

export interface SchoolData {
  outages: OutageRecord[];
  /** Time covered by 5-minute slots holding at least one batch. */
  measured: Interval[];
  speedTests: SpeedTest[];
  /** 5-minute slots of pings to the internet anchors (role ≠ gateway). */
  pingSlots: PingSlot[];
}

export interface ReportData {
  schools: ReportSchool[];
  bySchool: Map<string, SchoolData>;
  /** Which policy each part of the period was read from. */
  parts: { policy: string; startMs: number; endMs: number }[];
}

export interface SourceOptions {
  influx: ReportInflux;
  retention: RetentionConfig;
  timeZone: string;
  startMs: number;
  endMs: number;
  /** The real now: where the raw policy's retention begins. */
  nowMs: number;
  commune?: string;
  isp?: string;
  /** Called as each step is done: `step` names it, `done`/`total` count its requests. */
  onProgress?(step: string, done: number, total: number): void;
}

const SLOT_MS_DEFAULT = 5 * 60_000;
const UNITS: Record<string, number> = {
  ns: 1e-6,
  u: 1e-3,
  µ: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** An InfluxQL duration (`90d`, `5m`, `1h30m`, `INF`) in ms; INF and 0 are Infinity (kept for ever). */
export function durationMs(text: string): number {
  if (text === 'INF' || text === '0' || text === '0s') return Number.POSITIVE_INFINITY;
  let total = 0;
  const re = /(\d+)(ns|u|µ|ms|s|m|h|d|w)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  for (m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    end = re.lastIndex;
  }
  if (end !== text.length || total === 0) throw new RangeError(`"${text}" is not an InfluxQL duration`);
  return total;
}

/**
 * Where the raw policy can be trusted: a day after its retention edge (shards are dropped a shard at
 * a time, so the oldest day may be half gone).
 */
export function rawPolicyStartMs(retention: RetentionConfig, nowMs: number): number {
  const keep = durationMs(retention.raw.duration);
  if (!Number.isFinite(keep)) return Number.NEGATIVE_INFINITY;
  return nowMs - keep + durationMs(retention.raw.shardDuration);
}

/** The period split at the raw policy's edge: the older part from the long policy, the rest raw. */
export function policyParts(opts: Pick<SourceOptions, 'retention' | 'startMs' | 'endMs' | 'nowMs'>) {
  const edge = rawPolicyStartMs(opts.retention, opts.nowMs);
  const parts: { policy: string; long: boolean; startMs: number; endMs: number }[] = [];
  if (opts.startMs < Math.min(edge, opts.endMs))
    parts.push({
      policy: opts.retention.rollup.name,
      long: true,
      startMs: opts.startMs,
      endMs: Math.min(edge, opts.endMs),
    });
  if (opts.endMs > Math.max(edge, opts.startMs))
    parts.push({
      policy: opts.retention.raw.name,
      long: false,
      startMs: Math.max(edge, opts.startMs),
      endMs: opts.endMs,
    });
  return parts;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const STATEMENTS_PER_REQUEST = 200;

/** The registry's latest `school` point per UAI (written at start and daily: always in the raw policy). */
async function readSchools(opts: SourceOptions): Promise<ReportSchool[]> {
  const rp = ident(opts.retention.raw.name);
  const [series] = await opts.influx.queryAll([
    `SELECT last("name") AS "name", last("contracted_down_bps") AS "down", last("contracted_up_bps") AS "up", last("hours") AS "hours" FROM ${rp}."school" GROUP BY *`,
  ]);
  const latest = new Map<string, { t: number; school: ReportSchool }>();
  for (const row of rowsOf(series ?? [])) {
    const uai = str(row['uai']);
    if (!uai || !isUai(uai)) continue;
    const t = num(row['time']) ?? 0;
    const prev = latest.get(uai);
    if (prev && prev.t >= t) continue;
    const down = num(row['down']);
    const up = num(row['up']);
    latest.set(uai, {
      t,
      school: {
        uai,
        name: str(row['name']) ?? uai,
        commune: str(row['commune']) ?? 'unknown',
        isp: str(row['isp']) ?? 'unknown',
        contractedDownMbps: down === null ? null : down / 1e6,
        contractedUpMbps: up === null ? null : up / 1e6,
        hours: str(row['hours']) ?? DEFAULT_HOURS_PROFILE,
      },
    });
  }
  return [...latest.values()]
    .map((v) => v.school)
    .filter(
      (s) =>
        (opts.commune === undefined || s.commune === opts.commune) &&
        (opts.isp === undefined || s.isp === opts.isp),
    )
    .sort((a, b) => a.uai.localeCompare(b.uai));
}

const cause = (v: unknown): OutageCause =>
  OUTAGE_CAUSES.includes(v as OutageCause) ? (v as OutageCause) : 'unknown';

/**
 * Outages touching [startMs, endMs): every outage point that began before the end and ended after the
 * start, whatever its length. In the long policy the point's time is its 5-minute bucket, so the
 * start is end_ms − duration_s (both exact).
 */
async function readOutages(opts: SourceOptions, out: Map<string, SchoolData>): Promise<void> {
  // By start time: before the raw policy's edge from the long policy, after it from the raw one.
  const edge = rawPolicyStartMs(opts.retention, opts.nowMs);
  const where = `"end_ms" > ${Math.floor(opts.startMs)} GROUP BY "uai", "cause"`;
  const statements: string[] = [];
  if (Number.isFinite(edge))
    statements.push(
      `SELECT "duration_s", "end_ms" FROM ${ident(opts.retention.rollup.name)}."outage" WHERE time < ${at(Math.min(edge, opts.endMs))} AND ${where}`,
    );
  if (opts.endMs > edge)
    statements.push(
      `SELECT "duration_s", "end_ms" FROM ${ident(opts.retention.raw.name)}."outage" WHERE ${Number.isFinite(edge) ? `time >= ${at(edge)} AND ` : ''}time < ${at(opts.endMs)} AND ${where}`,
    );
  const results = await opts.influx.queryAll(statements);
  const seen = new Set<string>();
  for (const series of results)
    for (const row of rowsOf(series)) {
      const d = out.get(String(row['uai']));
      const endMs = num(row['end_ms']);
      const durS = num(row['duration_s']);
      if (!d || endMs === null || durS === null) continue;
      const startMs = Math.round(endMs - durS * 1000);
      const key = `${row['uai']}/${startMs}`;
      if (seen.has(key)) continue;
      seen.add(key);
      d.outages.push({ startMs, endMs, cause: cause(row['cause']) });
    }
}

/**
 * A school whose last presence before the period's end is `offline` has an outage still open: it
 * counts up to the period's end (docs/report.md). Its start is the transition's time, unless a
 * finished outage point already covers it.
 */
async function readOpenOutages(opts: SourceOptions, out: Map<string, SchoolData>): Promise<void> {
  const statements = policyParts(opts)
    .filter((p) => !p.long)
    .map(
      (p) =>
        `SELECT last("state") AS "state" FROM ${ident(p.policy)}."presence" WHERE "scope" = 'school' AND time < ${at(opts.endMs)} GROUP BY "uai"`,
    );
  for (const series of await opts.influx.queryAll(statements))
    for (const row of rowsOf(series)) {
      const d = out.get(String(row['uai']));
      const t = num(row['time']);
      if (!d || t === null || row['state'] !== 'offline') continue;
      if (d.outages.some((o) => o.startMs <= t + SLOT_MS_DEFAULT && (o.endMs === null || o.endMs > t)))
        continue;
      d.outages.push({ startMs: t, endMs: null, cause: 'unknown' });
    }
}

/**
 * Measured time: 5-minute slots with at least one batch. First the count of such slots per local day
 * (one row per school and day); a day with all its slots is measured whole, a day with none not at
 * all, and only the days in between are read slot by slot.
 */
async function readMeasured(opts: SourceOptions, out: Map<string, SchoolData>): Promise<void> {
  const slotMs = SLOT_MS_DEFAULT;
  const tz = literal(opts.timeZone);
  const partial: { uai: string; policy: string; long: boolean; startMs: number; endMs: number }[] = [];
  for (const p of policyParts(opts)) {
    const rp = ident(p.policy);
    const range = `time >= ${at(p.startMs)} AND time < ${at(p.endMs)}`;
    // The long policy holds one point per 5-minute slot with batches (its rollup writes none for an
    // empty slot): a plain count. The raw policy holds batches, counted per slot in a subquery,
    // 16 times slower (bench/report.ts): it is only read for the last raw-retention days.
    const statement = p.long
      ? `SELECT count("batches") AS "slots" FROM ${rp}."batch" WHERE ${range} GROUP BY time(1d), "uai" fill(none) tz(${tz})`
      : `SELECT count("n") AS "slots" FROM (SELECT count("seq") AS "n" FROM ${rp}."batch" WHERE ${range} GROUP BY time(5m), "uai" fill(none)) WHERE ${range} GROUP BY time(1d), "uai" fill(none) tz(${tz})`;
    const [series] = await opts.influx.queryAll([statement]);
    opts.onProgress?.(`measured time, ${p.policy} policy: days`, 1, 1);
    for (const row of rowsOf(series ?? [])) {
      const uai = String(row['uai']);
      const d = out.get(uai);
      const dayStart = num(row['time']);
      const slots = num(row['slots']) ?? 0;
      if (!d || dayStart === null || slots === 0) continue;
      // InfluxDB's local day: the next local midnight is found from the day after (DST days: 23 h, 25 h).
      const startMs = Math.max(dayStart, p.startMs);
      const endMs = Math.min(nextLocalMidnight(dayStart, opts.timeZone), p.endMs);
      const firstSlot = Math.floor(startMs / slotMs) * slotMs;
      const expected = Math.ceil((endMs - firstSlot) / slotMs);
      if (slots >= expected) d.measured.push([startMs, endMs]);
      else partial.push({ uai, policy: p.policy, long: p.long, startMs, endMs });
    }
  }
  for (let i = 0; i < partial.length; i += STATEMENTS_PER_REQUEST) {
    const chunk = partial.slice(i, i + STATEMENTS_PER_REQUEST);
    const results = await opts.influx.queryAll(
      chunk.map((c) => {
        const where = `"uai" = ${literal(c.uai)} AND time >= ${at(c.startMs)} AND time < ${at(c.endMs)}`;
        return c.long
          ? `SELECT "batches" AS "n" FROM ${ident(c.policy)}."batch" WHERE ${where}`
          : `SELECT count("seq") AS "n" FROM ${ident(c.policy)}."batch" WHERE ${where} GROUP BY time(5m) fill(none)`;
      }),
    );
    results.forEach((series, k) => {
      const c = chunk[k]!;
      const buckets = rowsOf(series)
        .map((r) => num(r['time']))
        .filter((t): t is number => t !== null);
      for (const [a, b] of measuredFromBuckets(buckets, slotMs))
        if (Math.min(b, c.endMs) > Math.max(a, c.startMs))
          out.get(c.uai)?.measured.push([Math.max(a, c.startMs), Math.min(b, c.endMs)]);
    });
    opts.onProgress?.(
      'measured time: partial days',
      Math.min(i + STATEMENTS_PER_REQUEST, partial.length),
      partial.length,
    );
  }
  for (const d of out.values()) d.measured = normalize(d.measured);
}

function nextLocalMidnight(dayStartMs: number, timeZone: string): number {
  // Noon of the next day is always inside it; its local date's midnight is what we want.
  const fmt = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  const nextDate = fmt.format(new Date(dayStartMs + 36 * 3_600_000));
  return localDayStartMs(nextDate, timeZone);
}

/** Successful speed tests in the period (the long policy keeps their 5-minute means). */
async function readSpeedTests(opts: SourceOptions, out: Map<string, SchoolData>): Promise<void> {
  const statements = policyParts(opts).map(
    (p) =>
      `SELECT "down_bps", "up_bps" FROM ${ident(p.policy)}."speedtest" WHERE time >= ${at(p.startMs)} AND time < ${at(p.endMs)}${p.long ? '' : ' AND "ok" = true'} GROUP BY "uai"`,
  );
  for (const series of await opts.influx.queryAll(statements))
    for (const row of rowsOf(series)) {
      const d = out.get(String(row['uai']));
      const t = num(row['time']);
      if (!d || t === null) continue;
      d.speedTests.push({ t, downBps: num(row['down_bps']), upBps: num(row['up_bps']) });
    }
}

/** Anchor pings per 5-minute slot: mean of the targets' median RTT and loss (the long policy keeps means). */
async function readPingSlots(opts: SourceOptions, out: Map<string, SchoolData>): Promise<void> {
  const statements = policyParts(opts).map(
    (p) =>
      `SELECT mean("median_ms") AS "latency", mean("loss_pct") AS "loss" FROM ${ident(p.policy)}."ping" WHERE "role" != 'gateway' AND time >= ${at(p.startMs)} AND time < ${at(p.endMs)} GROUP BY time(5m), "uai" fill(none)`,
  );
  for (const series of await opts.influx.queryAll(statements))
    for (const row of rowsOf(series)) {
      const d = out.get(String(row['uai']));
      const t = num(row['time']);
      if (!d || t === null) continue;
      d.pingSlots.push({ t, latencyMs: num(row['latency']), lossPct: num(row['loss']) });
    }
}

/**
 * Everything the report needs for [startMs, endMs).
 * @throws ReportQueryError (report/influx.ts) when InfluxDB cannot answer; RangeError for a bad
 *   retention duration in the config
 */
export async function readReportData(opts: SourceOptions): Promise<ReportData> {
  const progress = opts.onProgress ?? (() => {});
  const schools = await readSchools(opts);
  progress('schools', 1, 1);
  const bySchool = new Map<string, SchoolData>(
    schools.map((s) => [s.uai, { outages: [], measured: [], speedTests: [], pingSlots: [] }]),
  );
  await readOutages(opts, bySchool);
  await readOpenOutages(opts, bySchool);
  progress('outages', 1, 1);
  await readMeasured(opts, bySchool);
  await readSpeedTests(opts, bySchool);
  progress('speed tests', 1, 1);
  await readPingSlots(opts, bySchool);
  progress('pings to the anchors', 1, 1);
  return {
    schools,
    bySchool,
    parts: policyParts(opts).map(({ policy, startMs, endMs }) => ({ policy, startMs, endMs })),
  };
}
