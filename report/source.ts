// What the availability engine needs for a period, read from InfluxDB: the registry (`school`
// points), outages (finished ones, plus the one still open per presence), measured time (5-minute
// slots holding a batch), anchor pings, speed tests. Measured time and pings come from the
// collector's day rollups (`school_day`, one point per school and local day, collector/day-rollup.ts)
// wherever a whole day has one; other days (today, days the job has not reached) are read slot by
// slot. A period older than the raw policy's retention is read from the long policy
// (collector/retention.ts rollups); the raw policy is never asked beyond it. Schools are read a
// chunk at a time (readSchoolsData), so memory follows the chunk, not the fleet.
import type { RetentionConfig } from '../collector/config.ts';
import {
  apUpShare,
  DAY_ROLLUP_FORMAT,
  DayRollupError,
  daySlots,
  decodeMeasured,
  decodePings,
  decodeWifi,
  WIFI_APS,
} from '../collector/day-rollup-codec.ts';
import { durationMs, rawPolicyStartMs } from '../collector/retention.ts';
import { COLLECTOR_MEASUREMENTS } from '../collector/schema.ts';
import type { Interval, OutageCause, OutageRecord, Period } from '../shared/availability/index.ts';
import { daysOf, measuredFromBuckets, normalize, OUTAGE_CAUSES } from '../shared/availability/index.ts';
import { localDayStartOf } from '../shared/availability/periods.ts';
import { DEFAULT_HOURS_PROFILE } from '../shared/school-hours.ts';
import { isUai } from '../shared/uai.ts';

export { durationMs, rawPolicyStartMs };

import { at, ident, literal, type ReportInflux, rowsOf } from './influx.ts';
import { inIntervals, PingColumns, type PingSlot, WifiColumns, type WifiSlot } from './quality.ts';

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
  /** 5-minute slots of pings to the internet anchors (role ≠ gateway), sorted by time; readSchoolsData gives columns. */
  pingSlots: PingSlot[] | PingColumns;
  /** 5-minute slots of Wi-Fi access points, sorted by time (absent: none). */
  wifiSlots?: WifiSlot[] | WifiColumns;
}

/** What readSchoolsData gives: slots as columns. */
export interface ChunkData extends SchoolData {
  pingSlots: PingColumns;
  wifiSlots: WifiColumns;
}

/** How the chunk's measured time and pings were read: days from rollups, days slot by slot. */
export interface ReadStats {
  rollupDays: number;
  slotDays: number;
  /** `school_day` points that did not decode (their days were read slot by slot): how many, the first few. */
  unreadable: UnreadableRollups;
}

export interface UnreadableRollups {
  count: number;
  /** At most UNREADABLE_NAMED: school, local midnight of the day (ms), what was wrong. */
  first: { uai: string; day: number; problem: string }[];
}
/** Unreadable rollups named in full; the rest are counted. */
export const UNREADABLE_NAMED = 10;
export const noReadStats = (): ReadStats => ({
  rollupDays: 0,
  slotDays: 0,
  unreadable: { count: 0, first: [] },
});

// Scratch space for one point's slots, kept only once the whole point has decoded.
const SCRATCH_PINGS = new PingColumns(320);
const SCRATCH_WIFI = new WifiColumns(320);

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
  /** false: never read day rollups (the slot-level path alone; tests compare both). Default true. */
  useDayRollups?: boolean;
}

const SLOT_MS_DEFAULT = 5 * 60_000;
/** Columns are sized up front for at most this many slots (a year and a half of 24/7 open time); more grow. */
const MAX_PRESIZED_SLOTS = 160_000;
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
export async function readSchools(opts: SourceOptions): Promise<ReportSchool[]> {
  const rp = ident(opts.retention.raw.name);
  const [series] = await opts.influx.queryAll([
    // The newest point of each series, whole and with its own time (last() with several selectors
    // answers with time 0 and mixes points: a school whose ISP changed kept its old series).
    `SELECT "name", "contracted_down_bps" AS "down", "contracted_up_bps" AS "up", "hours" FROM ${rp}."school" GROUP BY * ORDER BY time DESC LIMIT 1`,
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

/** `"uai" =~ /^(A|B)$/`: UAIs are checked (isUai: 7 digits and a letter) before they get here. */
const uaiMatch = (uais: readonly string[]) => `"uai" =~ /^(${uais.filter(isUai).join('|')})$/`;

/**
 * Outages touching [startMs, endMs): every outage point that began before the end and ended after the
 * start, whatever its length. In the long policy the point's time is its 5-minute bucket, so the
 * start is end_ms − duration_s (both exact).
 */
async function readOutages(opts: SourceOptions, out: Map<string, SchoolData>): Promise<void> {
  // By start time: before the raw policy's edge from the long policy, after it from the raw one.
  const edge = rawPolicyStartMs(opts.retention, opts.nowMs);
  const where = `"end_ms" > ${Math.floor(opts.startMs)} AND ${uaiMatch([...out.keys()])} GROUP BY "uai", "cause"`;
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
        `SELECT last("state") AS "state" FROM ${ident(p.policy)}."presence" WHERE "scope" = 'school' AND ${uaiMatch([...out.keys()])} AND time < ${at(opts.endMs)} GROUP BY "uai"`,
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

/** Some schools' days to read slot by slot: [startMs, endMs) for each of `uais`. */
interface SlotRange {
  uais: string[];
  startMs: number;
  endMs: number;
}

/**
 * The day rollups of the chunk's schools: each whole local day of [startMs, endMs) that has a
 * `school_day` point gives its measured time and ping slots; the other days come back as ranges to
 * read slot by slot (consecutive days merged, schools with the same ranges grouped), and so do the
 * days whose point does not decode (counted in stats.unreadable).
 */
async function readDayRollups(
  opts: SourceOptions,
  out: Map<string, ChunkData>,
  openOf: (uai: string) => Interval[] | undefined,
  stats: ReadStats,
): Promise<{ ranges: SlotRange[]; wifiRanges: SlotRange[] }> {
  const days = daysOf(opts.startMs, opts.endMs, opts.timeZone);
  const covered = new Map<string, Set<number>>([...out.keys()].map((u) => [u, new Set<number>()]));
  // Days whose point is of format 1 (before `wifi`): measured time and pings from it, Wi-Fi slot by slot.
  const withoutWifi = new Map<string, Set<number>>([...out.keys()].map((u) => [u, new Set<number>()]));
  if (opts.useDayRollups !== false && days.length) {
    const byStart = new Map(days.map((d, i) => [d.startMs, i]));
    const [series] = await opts.influx.queryAll([
      `SELECT "measured", "pings", "wifi", "slots", "format" FROM ${ident(opts.retention.rollup.name)}.${ident(COLLECTOR_MEASUREMENTS.school_day.measurement)} WHERE ${uaiMatch([...out.keys()])} AND time >= ${at(days[0]!.startMs)} AND time < ${at(opts.endMs)} GROUP BY "uai"`,
    ]);
    for (const s of series ?? []) {
      const uai = s.tags?.['uai'] ?? '';
      const d = out.get(uai);
      const done = covered.get(uai);
      if (!d || !done) continue;
      const keep = openOf(uai);
      const col = (name: string) => s.columns.indexOf(name);
      const [ct, cm, cp, cw, cs, cf] = ['time', 'measured', 'pings', 'wifi', 'slots', 'format'].map(
        col,
      ) as number[];
      for (const v of s.values ?? []) {
        const i = byStart.get(Number(v[ct!]));
        if (i === undefined || (v[cf!] !== DAY_ROLLUP_FORMAT && v[cf!] !== 1)) continue;
        const day = days[i]!;
        const slots = daySlots(day.startMs, day.endMs);
        // A day clipped by the period's end has fewer slots than the rollup: read slot by slot.
        if (v[cs!] !== slots.count || typeof v[cm!] !== 'string') continue;
        // Decoded whole before anything is kept: a point that does not decode (corrupt, truncated)
        // leaves its day to the slot-by-slot read, is counted and named, and stops nothing else.
        try {
          const measured = decodeMeasured(v[cm!] as string, slots, day.startMs, day.endMs);
          SCRATCH_PINGS.length = 0;
          SCRATCH_WIFI.length = 0;
          if (typeof v[cp!] === 'string' && v[cp!])
            decodePings(v[cp!] as string, slots, keep, (t, l, p) => SCRATCH_PINGS.push(t, l, p));
          if (typeof v[cw!] === 'string' && v[cw!])
            decodeWifi(v[cw!] as string, slots, keep, (t, polls, up) => SCRATCH_WIFI.push(t, polls, up));
          d.measured.push(...measured);
          d.pingSlots.append(SCRATCH_PINGS);
          d.wifiSlots.append(SCRATCH_WIFI);
          done.add(i);
          if (v[cf!] === 1) withoutWifi.get(uai)!.add(i);
        } catch (err) {
          if (!(err instanceof DayRollupError)) throw err;
          stats.unreadable.count++;
          if (stats.unreadable.first.length < UNREADABLE_NAMED)
            stats.unreadable.first.push({ uai, day: day.startMs, problem: err.message });
        }
      }
    }
  }
  for (const done of covered.values()) {
    stats.rollupDays += done.size;
    stats.slotDays += days.length - done.size;
  }
  const wifiCovered = new Map(
    [...covered].map(([uai, done]) => [uai, new Set([...done].filter((i) => !withoutWifi.get(uai)!.has(i)))]),
  );
  return { ranges: slotRanges(days, covered), wifiRanges: slotRanges(days, wifiCovered) };
}

/** The days each school has no rollup for, as ranges of consecutive days, schools with the same ranges grouped. */
function slotRanges(days: readonly Period[], covered: Map<string, Set<number>>): SlotRange[] {
  const groups = new Map<string, SlotRange>();
  for (const [uai, done] of covered) {
    let runStart = -1;
    for (let i = 0; i <= days.length; i++) {
      const missing = i < days.length && !done.has(i);
      if (missing && runStart < 0) runStart = i;
      if (!missing && runStart >= 0) {
        const key = `${runStart}/${i}`;
        const g = groups.get(key) ?? {
          uais: [],
          startMs: days[runStart]!.startMs,
          endMs: days[i - 1]!.endMs,
        };
        g.uais.push(uai);
        groups.set(key, g);
        runStart = -1;
      }
    }
  }
  return [...groups.values()];
}

/**
 * Measured time of the ranges not covered by day rollups: 5-minute slots with at least one batch.
 * First the count of such slots per local day (one row per school and day); a day with all its slots
 * is measured whole, a day with none not at all, and only the days in between are read slot by slot.
 */
async function readMeasured(
  opts: SourceOptions,
  ranges: SlotRange[],
  out: Map<string, SchoolData>,
): Promise<void> {
  const slotMs = SLOT_MS_DEFAULT;
  const tz = literal(opts.timeZone);
  const partial: { uai: string; policy: string; long: boolean; startMs: number; endMs: number }[] = [];
  for (const r of ranges)
    for (const p of policyParts({ ...opts, startMs: r.startMs, endMs: r.endMs })) {
      const rp = ident(p.policy);
      const range = `${uaiMatch(r.uais)} AND time >= ${at(p.startMs)} AND time < ${at(p.endMs)}`;
      // The long policy holds one point per 5-minute slot with batches (its rollup writes none for an
      // empty slot): a plain count. The raw policy holds batches, counted per slot in a subquery.
      const statement = p.long
        ? `SELECT count("batches") AS "slots" FROM ${rp}."batch" WHERE ${range} GROUP BY time(1d), "uai" fill(none) tz(${tz})`
        : `SELECT count("n") AS "slots" FROM (SELECT count("seq") AS "n" FROM ${rp}."batch" WHERE ${range} GROUP BY time(5m), "uai" fill(none)) WHERE time >= ${at(p.startMs)} AND time < ${at(p.endMs)} GROUP BY time(1d), "uai" fill(none) tz(${tz})`;
      const [series] = await opts.influx.queryAll([statement]);
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
  }
}

/** The midnight after a local day's start: the day holding its start + 36 h (23 h and 25 h days too). */
const nextLocalMidnight = (dayStartMs: number, timeZone: string): number =>
  localDayStartOf(dayStartMs + 36 * 3_600_000, timeZone);

/** Successful speed tests in the period (the long policy keeps their 5-minute means). */
async function readSpeedTests(opts: SourceOptions, out: Map<string, SchoolData>): Promise<void> {
  const statements = policyParts(opts).map(
    (p) =>
      `SELECT "down_bps", "up_bps" FROM ${ident(p.policy)}."speedtest" WHERE ${uaiMatch([...out.keys()])} AND time >= ${at(p.startMs)} AND time < ${at(p.endMs)}${p.long ? '' : ' AND "ok" = true'} GROUP BY "uai"`,
  );
  for (const series of await opts.influx.queryAll(statements))
    for (const row of rowsOf(series)) {
      const d = out.get(String(row['uai']));
      const t = num(row['time']);
      if (!d || t === null) continue;
      d.speedTests.push({ t, downBps: num(row['down_bps']), upBps: num(row['up_bps']) });
    }
}

/**
 * Runs per-slot statements over the ranges not covered by day rollups, each range split at the raw
 * policy's edge (`statements(policy part, its WHERE clause)`), STATEMENTS_PER_REQUEST a request, and
 * calls `visit` with each row of a chunk school whose slot starts in the kept time (openOf).
 */
async function forEachSlotRow(
  opts: SourceOptions,
  ranges: SlotRange[],
  out: Map<string, ChunkData>,
  openOf: (uai: string) => Interval[] | undefined,
  statements: (part: { policy: string; long: boolean }, where: string) => string[],
  visit: (d: ChunkData, uai: string, t: number, row: Record<string, unknown>) => void,
): Promise<void> {
  const all = ranges.flatMap((r) =>
    policyParts({ ...opts, startMs: r.startMs, endMs: r.endMs }).flatMap((p) =>
      statements(p, `${uaiMatch(r.uais)} AND time >= ${at(p.startMs)} AND time < ${at(p.endMs)}`),
    ),
  );
  for (let i = 0; i < all.length; i += STATEMENTS_PER_REQUEST)
    for (const series of await opts.influx.queryAll(all.slice(i, i + STATEMENTS_PER_REQUEST)))
      for (const row of rowsOf(series)) {
        const uai = String(row['uai']);
        const d = out.get(uai);
        const t = num(row['time']);
        const keep = openOf(uai);
        if (!d || t === null || (keep && !inIntervals(keep, t))) continue;
        visit(d, uai, t, row);
      }
}

/**
 * Anchor pings per 5-minute slot for the ranges not covered by day rollups: mean of the targets'
 * median RTT and loss (the long policy keeps means).
 */
function readPingSlots(
  opts: SourceOptions,
  ranges: SlotRange[],
  out: Map<string, ChunkData>,
  openOf: (uai: string) => Interval[] | undefined,
): Promise<void> {
  return forEachSlotRow(
    opts,
    ranges,
    out,
    openOf,
    (p, where) => [
      `SELECT mean("median_ms") AS "latency", mean("loss_pct") AS "loss" FROM ${ident(p.policy)}."ping" WHERE "role" != 'gateway' AND ${where} GROUP BY time(5m), "uai" fill(none)`,
    ],
    (d, _uai, t, row) => d.pingSlots.push(t, num(row['latency']), num(row['loss'])),
  );
}

/**
 * Wi-Fi access points per 5-minute slot for the ranges not covered by day rollups: per AP, its polls
 * and up polls (the raw policy counts the `up` field; the long policy holds `up_n` and `up_true` per
 * AP and slot, collector/retention.ts), then per slot the APs polled and the AP-slots up.
 */
async function readWifiSlots(
  opts: SourceOptions,
  ranges: SlotRange[],
  out: Map<string, ChunkData>,
  openOf: (uai: string) => Interval[] | undefined,
): Promise<void> {
  const perAp = new Map<string, { uai: string; t: number; polls: number; up: number }>();
  await forEachSlotRow(
    opts,
    ranges,
    out,
    openOf,
    (p, where) => {
      const from = `FROM ${ident(p.policy)}."wifi" WHERE ${WIFI_APS} AND ${where}`;
      const by = 'GROUP BY time(5m), "uai", "ap" fill(none)';
      return p.long
        ? [`SELECT sum("up_n") AS "polls", sum("up_true") AS "up" ${from} ${by}`]
        : [
            `SELECT count("up") AS "polls" ${from} ${by}`,
            `SELECT count("up") AS "up" ${from} AND "up" = true ${by}`,
          ];
    },
    (_d, uai, t, row) => {
      // The raw policy answers polls and up polls in two statements: merged per AP and slot.
      const id = `${uai}/${t}/${String(row['ap'])}`;
      const e = perAp.get(id) ?? perAp.set(id, { uai, t, polls: 0, up: 0 }).get(id)!;
      if ('polls' in row) e.polls += num(row['polls']) ?? 0;
      if ('up' in row) e.up += num(row['up']) ?? 0;
    },
  );
  const slots = new Map<string, { uai: string; t: number; aps: number; upAps: number }>();
  for (const e of perAp.values()) {
    if (!(e.polls > 0)) continue;
    const id = `${e.uai}/${e.t}`;
    const s = slots.get(id) ?? slots.set(id, { uai: e.uai, t: e.t, aps: 0, upAps: 0 }).get(id)!;
    s.aps++;
    s.upAps += apUpShare(e.up, e.polls);
  }
  for (const s of slots.values()) out.get(s.uai)!.wifiSlots.push(s.t, s.aps, s.upAps);
}

/**
 * What the engine needs for some schools (a chunk of readSchools()'s list) over [startMs, endMs):
 * one entry per UAI, measured intervals normalized, ping and Wi-Fi slots sorted by time.
 * @param openOf per UAI, the sorted intervals whose ping slots to keep (by slot start): the report
 *   passes the school's open time, since quality figures look at no other slot (a year holds
 *   105,000 per school); undefined keeps every slot
 * @throws ReportQueryError (report/influx.ts) when InfluxDB cannot answer (a `school_day` point
 *   that does not decode is counted in stats.unreadable and its day read slot by slot)
 */
export async function readSchoolsData(
  opts: SourceOptions,
  uais: readonly string[],
  openOf: (uai: string) => Interval[] | undefined = () => undefined,
): Promise<{ bySchool: Map<string, ChunkData>; stats: ReadStats }> {
  const bySchool = new Map<string, ChunkData>(
    uais.map((u) => {
      // Sized once for the slots kept (those starting in open time): growing by doubling allocated
      // and copied typed arrays a dozen times a school (measured: 4 % of a report's CPU) and left
      // up to half of them unused.
      const keep = openOf(u);
      const capacity = keep
        ? Math.min(
            MAX_PRESIZED_SLOTS,
            16 + keep.reduce((n, [a, b]) => n + Math.ceil((b - a) / SLOT_MS_DEFAULT), 0),
          )
        : 256;
      return [
        u,
        {
          outages: [],
          measured: [],
          speedTests: [],
          pingSlots: new PingColumns(capacity),
          wifiSlots: new WifiColumns(capacity),
        },
      ];
    }),
  );
  const stats = noReadStats();
  if (!uais.length) return { bySchool, stats };
  await readOutages(opts, bySchool);
  await readOpenOutages(opts, bySchool);
  const { ranges, wifiRanges } = await readDayRollups(opts, bySchool, openOf, stats);
  await readMeasured(opts, ranges, bySchool);
  await readSpeedTests(opts, bySchool);
  await readPingSlots(opts, ranges, bySchool, openOf);
  await readWifiSlots(opts, wifiRanges, bySchool, openOf);
  for (const d of bySchool.values()) {
    d.measured = normalize(d.measured);
    d.pingSlots.sort();
    d.wifiSlots.sort();
  }
  return { bySchool, stats };
}

/** Which policy each part of the period is read from (the report prints it). */
export const sourceParts = (opts: SourceOptions): ReportData['parts'] =>
  policyParts(opts).map(({ policy, startMs, endMs }) => ({ policy, startMs, endMs }));

/**
 * Everything the report needs for [startMs, endMs), every school at once (small fleets and tests;
 * `vigie report` and the API go a chunk at a time: report/compute.ts).
 * @throws ReportQueryError (report/influx.ts) when InfluxDB cannot answer; RangeError for a bad
 *   retention duration in the config
 */
export async function readReportData(opts: SourceOptions): Promise<ReportData> {
  const schools = await readSchools(opts);
  opts.onProgress?.('schools', 1, 1);
  const { bySchool } = await readSchoolsData(
    opts,
    schools.map((s) => s.uai),
  );
  return { schools, bySchool, parts: sourceParts(opts) };
}
