// Recent history of a school and the outage list, read from InfluxDB with InfluxQL. Measurement,
// tag and field names come from collector/schema.ts. Times are integers we computed, so they are
// written into the statement; anything a caller typed travels as a bound parameter.

import type { Type } from 'typebox';
import { parseInstant } from '../../shared/time.ts';
import { COLLECTOR_MEASUREMENTS, SAMPLE_MEASUREMENTS } from '../schema.ts';
import type { InfluxQuery, InfluxRows, PresenceSource, RegistrySource } from './deps.ts';
import { rowsOf } from './influxql.ts';
import type { Outage, Series, Transition } from './schemas.ts';

type OutageRow = Type.Static<typeof Outage>;
type SeriesOut = Type.Static<typeof Series>;
type TransitionOut = Type.Static<typeof Transition>;

const DAY = 86_400_000;
/** The widest outage query: a school year and a bit. */
export const MAX_OUTAGE_WINDOW_MS = 400 * DAY;

/**
 * The window of an outage query from its `from` and `to` parameters (RFC 3339 text, read by
 * shared/time.ts parseInstant; absent: `to` now, `from` 7 days before `to`).
 * @param now ms since the epoch
 * @returns [from, to) in ms since the epoch, or why it is refused, naming the parameter
 *   (`querystring/from: "…T23:59:60Z": second 60 (a leap second) is not accepted…`).
 */
export function outageWindow(
  q: { from?: string; to?: string },
  now: number,
): { from: number; to: number } | string {
  const to = q.to === undefined ? { ok: true as const, ms: now } : parseInstant(q.to);
  if (!to.ok) return `querystring/to: ${to.problem}`;
  const from = q.from === undefined ? { ok: true as const, ms: to.ms - 7 * DAY } : parseInstant(q.from);
  if (!from.ok) return `querystring/from: ${from.problem}`;
  if (from.ms >= to.ms) return 'querystring: "from" must be before "to"';
  if (to.ms - from.ms > MAX_OUTAGE_WINDOW_MS)
    return `querystring: the window from "from" to "to" is at most ${MAX_OUTAGE_WINDOW_MS / DAY} days`;
  return { from: from.ms, to: to.ms };
}

/** Points per series stay in the hundreds whatever the window. */
export function bucketFor(windowMs: number): string {
  const h = windowMs / 3_600_000;
  if (h <= 6) return '1m';
  if (h <= 48) return '5m';
  if (h <= 7 * 24) return '30m';
  return '2h';
}

const timeRange = (from: number, to: number) =>
  `time >= ${Math.trunc(from)}ms AND time < ${Math.trunc(to)}ms`;

function seriesOf(series: InfluxRows[]): SeriesOut {
  const s = series[0];
  if (!s) return { columns: [], points: [] };
  return {
    columns: s.columns,
    points: s.values.map((row) => row.map((v) => (typeof v === 'number' ? v : null))),
  };
}

export async function schoolHistory(query: InfluxQuery, uai: string, from: number, to: number) {
  const bucket = bucketFor(to - from);
  const ping = SAMPLE_MEASUREMENTS.ping.measurement;
  const wan = SAMPLE_MEASUREMENTS.wan.measurement;
  const speedtest = SAMPLE_MEASUREMENTS.speedtest.measurement;
  const presence = COLLECTOR_MEASUREMENTS.presence.measurement;
  const range = timeRange(from, to);
  const [latency, wanRows, speed, transitions, outages] = await Promise.all([
    query(
      `SELECT median(median_ms) AS latency_ms, mean(loss_pct) AS loss_pct FROM ${ping} ` +
        `WHERE uai = $uai AND role != 'gateway' AND ${range} GROUP BY time(${bucket}) fill(none)`,
      { uai },
    ),
    query(
      `SELECT mean(in_bps) AS in_bps, mean(out_bps) AS out_bps FROM ${wan} ` +
        `WHERE uai = $uai AND ${range} GROUP BY time(${bucket}) fill(none)`,
      { uai },
    ),
    query(`SELECT down_bps, up_bps FROM ${speedtest} WHERE uai = $uai AND ok = true AND ${range} LIMIT 500`, {
      uai,
    }),
    query(
      `SELECT state, previous, reason FROM ${presence} WHERE uai = $uai AND scope = 'school' AND ${range} ` +
        'ORDER BY time DESC LIMIT 200',
      { uai },
    ),
    outagesBetween(query, from, to, uai),
  ]);
  return {
    bucket,
    latency: seriesOf(latency),
    wan: seriesOf(wanRows),
    speedtests: seriesOf(speed),
    transitions: rowsOf(transitions).map(
      (r): TransitionOut => ({
        at: Number(r['time']),
        state: String(r['state'] ?? ''),
        previous: typeof r['previous'] === 'string' ? r['previous'] : null,
        reason: typeof r['reason'] === 'string' ? r['reason'] : null,
      }),
    ),
    outages,
  };
}

/** How far back an outage may have started and still overlap the window. */
const LONGEST_OUTAGE_MS = 90 * 86_400_000;

export async function outagesBetween(query: InfluxQuery, from: number, to: number, uai?: string) {
  const m = COLLECTOR_MEASUREMENTS.outage.measurement;
  const series = await query(
    `SELECT duration_s, end_ms, school_hours_s, cause, uai, commune FROM ${m} ` +
      `WHERE ${uai ? 'uai = $uai AND ' : ''}${timeRange(from - LONGEST_OUTAGE_MS, to)} LIMIT 10000`,
    uai ? { uai } : {},
  );
  return rowsOf(series)
    .map(
      (r): OutageRow => ({
        uai: String(r['uai'] ?? ''),
        name: null,
        commune: typeof r['commune'] === 'string' && r['commune'] ? r['commune'] : null,
        start: Number(r['time']),
        end: typeof r['end_ms'] === 'number' ? r['end_ms'] : null,
        durationS: Number(r['duration_s'] ?? 0),
        schoolHoursS: typeof r['school_hours_s'] === 'number' ? r['school_hours_s'] : null,
        cause: String(r['cause'] || 'unknown'),
      }),
    )
    .filter((o) => (o.end ?? o.start) >= from);
}

/** Outages still going on: schools offline now, from presence. */
export function ongoingOutages(
  presence: PresenceSource,
  now: number,
  from: number,
  to: number,
  uai?: string,
) {
  const out: OutageRow[] = [];
  for (const p of presence.schools()) {
    if (p.state !== 'offline' || (uai && p.uai !== uai) || p.since >= to) continue;
    const lastSeen = Math.max(0, ...p.agents.map((a) => a.lastSeenAt));
    const start = lastSeen > 0 && lastSeen <= p.since ? lastSeen : p.since;
    if (now < from) continue;
    out.push({
      uai: p.uai,
      name: null,
      commune: null,
      start,
      end: null,
      durationS: Math.max(0, (now - start) / 1000),
      schoolHoursS: null,
      cause: 'ongoing',
    });
  }
  return out;
}

export function withNames(outages: OutageRow[], registry: RegistrySource): OutageRow[] {
  return outages
    .map((o) => {
      const s = registry.school(o.uai);
      return { ...o, name: s?.name ?? null, commune: o.commune ?? s?.commune ?? null };
    })
    .sort((a, b) => b.start - a.start);
}
