// Database, retention policies and continuous queries: raw points for a few months, a 5-minute rollup
// for multi-year reports. The statements are derived from the schema table, so a new field is rolled
// up without anyone remembering to.
import type { RetentionConfig } from './config.ts';
import type { InfluxHttp } from './influx-http.ts';
import { COLLECTOR_MEASUREMENTS, type FieldType, SAMPLE_MEASUREMENTS } from './schema.ts';

export interface Rollup {
  name: string;
  measurement: string;
  select: string;
  where?: string;
  /** Recompute this far back at each run: for points written long after their time. */
  resample?: { every: string; for: string };
}

/**
 * An outage point is stamped with its start but written when it ends: a plain CQ, which only looks
 * at the last interval, would never roll up an outage longer than that, and the yearly figures
 * would lose exactly the outages that matter. So the outage rollup looks back as far as the raw
 * policy keeps points (`for: 'raw'`: its duration, 90 days by default), every 30 minutes: every
 * outage InfluxDB accepted reaches the long policy (issue 15; 35 days lost the longer ones).
 * Measured: 2 s of InfluxDB per run with 1,000 schools × 30 outages in 35 days; outage points are
 * few, so 90 days costs about as much. A raw policy kept for ever (INF) needs no long copy: 35 days.
 */
const OUTAGE_RESAMPLE = { every: '30m', for: 'raw' };

const q = (name: string) => `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/**
 * Per measurement: numbers → mean (same name); booleans → `<f>_n` (how many) and `<f>_true` (how many
 * true) so availability ratios survive; strings are not rolled up. Presence and outages are events:
 * the first of each field per 5 minutes keeps them findable after the raw data has expired.
 */
export function rollups(): Rollup[] {
  const out: Rollup[] = [];
  const add = (measurement: string, fields: Record<string, FieldType>) => {
    const numeric = Object.entries(fields).filter(([, t]) => t === 'float' || t === 'integer');
    const selects = numeric.map(([f]) => `mean(${q(f)}) AS ${q(f)}`);
    for (const [f, t] of Object.entries(fields))
      if (t === 'boolean') selects.push(`count(${q(f)}) AS ${q(`${f}_n`)}`);
    if (selects.length) out.push({ name: `vigie_${measurement}`, measurement, select: selects.join(', ') });
    for (const [f, t] of Object.entries(fields)) {
      if (t !== 'boolean') continue;
      out.push({
        name: `vigie_${measurement}_${f}_true`,
        measurement,
        select: `count(${q(f)}) AS ${q(`${f}_true`)}`,
        where: `${q(f)} = true`,
      });
    }
  };
  for (const spec of Object.values(SAMPLE_MEASUREMENTS)) {
    add(spec.measurement, Object.fromEntries(Object.entries(spec.fields).map(([f, [, t]]) => [f, t])));
  }
  const batch = COLLECTOR_MEASUREMENTS.batch.measurement;
  out.push({
    name: `vigie_${batch}`,
    measurement: batch,
    select: `count("seq") AS "batches", sum("samples") AS "samples", mean("clock_offset_ms") AS "clock_offset_ms"`,
  });
  for (const m of [COLLECTOR_MEASUREMENTS.presence, COLLECTOR_MEASUREMENTS.outage]) {
    out.push({
      name: `vigie_${m.measurement}`,
      measurement: m.measurement,
      select: Object.keys(m.fields)
        .map((f) => `first(${q(f)}) AS ${q(f)}`)
        .join(', '),
      ...(m === COLLECTOR_MEASUREMENTS.outage ? { resample: OUTAGE_RESAMPLE } : {}),
    });
  }
  return out;
}

/** The rollup as one InfluxQL statement over a time range: what the CQ runs, and what a backfill runs. */
export function rollupStatement(db: string, cfg: RetentionConfig, r: Rollup, timeRange?: string): string {
  const conditions = [r.where, timeRange].filter(Boolean);
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return (
    `SELECT ${r.select} ` +
    `INTO ${q(db)}.${q(cfg.rollup.name)}.${q(r.measurement)} FROM ${q(db)}.${q(cfg.raw.name)}.${q(r.measurement)}` +
    `${where} GROUP BY time(${cfg.rollup.interval}), *`
  );
}

export function continuousQuery(db: string, cfg: RetentionConfig, r: Rollup): string {
  const lookBack =
    r.resample?.for === 'raw' ? (cfg.raw.duration === 'INF' ? '35d' : cfg.raw.duration) : r.resample?.for;
  const resample = r.resample ? ` RESAMPLE EVERY ${r.resample.every} FOR ${lookBack}` : '';
  return `CREATE CONTINUOUS QUERY ${q(r.name)} ON ${q(db)}${resample} BEGIN ${rollupStatement(db, cfg, r)} END`;
}

const durationSql = (d: string) => (d === 'INF' ? 'INF' : d);

function policyStatement(
  verb: 'CREATE' | 'ALTER',
  db: string,
  name: string,
  duration: string,
  shard: string,
  isDefault: boolean,
) {
  return `${verb} RETENTION POLICY ${q(name)} ON ${q(db)} DURATION ${durationSql(duration)} ${
    verb === 'CREATE' ? 'REPLICATION 1 ' : ''
  }SHARD DURATION ${shard}${isDefault ? ' DEFAULT' : ''}`;
}

/** Loose comparison of a stored CQ with ours: InfluxDB re-quotes and re-spaces what it stores. */
const normalise = (s: string) => s.replace(/["\s]/g, '').toLowerCase();

/** Idempotent: run at every start; alters policies and replaces continuous queries that changed. */
export async function applyRetention(http: InfluxHttp, db: string, cfg: RetentionConfig): Promise<void> {
  await http.query(`CREATE DATABASE ${q(db)}`);
  const policies = await http.query(`SHOW RETENTION POLICIES ON ${q(db)}`);
  const existing = new Set((policies.results[0]?.series?.[0]?.values ?? []).map((v) => String(v[0])));
  for (const [p, isDefault] of [
    [cfg.raw, true],
    [cfg.rollup, false],
  ] as const) {
    const verb = existing.has(p.name) ? 'ALTER' : 'CREATE';
    await http.query(policyStatement(verb, db, p.name, p.duration, p.shardDuration, isDefault));
  }
  const shown = await http.query('SHOW CONTINUOUS QUERIES');
  const stored = new Map<string, string>();
  for (const series of shown.results[0]?.series ?? []) {
    if (series.name !== db) continue;
    // InfluxDB leaves `values` out of a series with no rows.
    for (const [name, query] of (series.values as unknown[][] | undefined) ?? [])
      stored.set(String(name), String(query));
  }
  for (const r of rollups()) {
    const statement = continuousQuery(db, cfg, r);
    const current = stored.get(r.name);
    if (current !== undefined && normalise(current) === normalise(statement)) continue;
    if (current !== undefined) await http.query(`DROP CONTINUOUS QUERY ${q(r.name)} ON ${q(db)}`);
    await http.query(statement);
  }
}

/**
 * With `retention.manage: false` the operator creates the database and both policies; the collector
 * still writes raw points to the database's default policy and long-policy points (monthly
 * availability, day rollups, old outages) to `retention.rollup.name`, where the dashboards and the
 * report read them. Returns the problems found (empty: both policies are there, the raw one the
 * default), each in English and French, naming the policy and the database.
 * @throws InfluxQueryError when InfluxDB cannot answer (no such database yet, unreachable)
 */
export async function unmanagedPolicyProblems(
  http: InfluxHttp,
  db: string,
  cfg: RetentionConfig,
): Promise<{ raw: string | null; rollup: string | null }> {
  const shown = await http.query(`SHOW RETENTION POLICIES ON ${q(db)}`);
  const series = shown.results[0]?.series?.[0];
  const at = (column: string) => series?.columns.indexOf(column) ?? -1;
  const policies = new Map(
    ((series?.values as unknown[][] | undefined) ?? []).map((v) => [
      String(v[at('name')]),
      v[at('default')] === true,
    ]),
  );
  const missing = (name: string, what: string) =>
    `retention policy "${name}" (${what}) not found on database "${db}": with retention.manage false, create it (docs/influx-schema.md) / politique de rétention « ${name} » absente de la base « ${db} » : avec retention.manage à false, créez-la`;
  const raw = !policies.has(cfg.raw.name)
    ? missing(cfg.raw.name, 'retention.raw.name')
    : policies.get(cfg.raw.name)
      ? null
      : `retention policy "${cfg.raw.name}" (retention.raw.name) is not the default of database "${db}": raw points go to the default policy, the report reads "${cfg.raw.name}" / la politique « ${cfg.raw.name} » n'est pas celle par défaut de la base « ${db} » : les points bruts vont dans celle par défaut, le rapport lit « ${cfg.raw.name} »`;
  const rollup = policies.has(cfg.rollup.name) ? null : missing(cfg.rollup.name, 'retention.rollup.name');
  return { raw, rollup };
}

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

/**
 * An InfluxQL duration (`90d`, `5m`, `1h30m`, `INF`) in ms; INF and 0 are Infinity (kept for ever).
 * @throws RangeError naming the text when it is not a duration
 */
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
 * Where the raw policy can be trusted (ms): a shard after its retention edge (shards are dropped a
 * shard at a time, so the oldest day may be half gone); −Infinity for a raw policy kept for ever.
 */
export function rawPolicyStartMs(retention: RetentionConfig, nowMs: number): number {
  const keep = durationMs(retention.raw.duration);
  if (!Number.isFinite(keep)) return Number.NEGATIVE_INFINITY;
  return nowMs - keep + durationMs(retention.raw.shardDuration);
}
