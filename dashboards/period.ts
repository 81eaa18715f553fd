// A school's state and outages as they touch the displayed period, in InfluxQL 1.6.
//
// `presence` holds one point per change of a school's state: a stable school has none in the period,
// and an outage still going on is only a school whose latest change is to offline. So every figure of
// the period is taken from the school's state as a step function clipped to [$__from, $__to]: the state
// at $__from, the changes inside, the state at $__to. InfluxQL sums only within one measurement (the
// measurement name is part of every series), so offline time, outage counts and uptime all come from
// `presence`; `outage` points (finished outages, stamped at their start) give causes and school hours.
import {
  AnnotationEventFieldMappingBuilder,
  AnnotationEventFieldSource,
  AnnotationQueryBuilder,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { resolveCollectorConfig } from '../collector/config.ts';
import { PRESENCE_STATE_CODES } from '../collector/schema.ts';
import { INFLUX_DATASOURCE, influxql } from './influxql.ts';
import { type BuildContext, f, fleetFilter, m, mLong, schoolFilter, t, tr } from './kit.ts';

/** The period's edges as Grafana substitutes them (`${__from}`, `${__to}`): epoch milliseconds. */
export const FROM_MS = ['$', '{__from}'].join('');
export const TO_MS = ['$', '{__to}'].join('');
export const PERIOD_MS = `(${TO_MS} - ${FROM_MS})`;

// InfluxQL has no least/greatest: min(a, b) = (a + b − |a − b|) / 2. InfluxDB 1.6's abs() returns an
// integer argument unchanged (abs(-4) = -4), hence the float product.
const abs = (x: string) => `abs(1.0 * (${x}))`;
export const least = (a: string, b: string) => `((${a}) + (${b}) - ${abs(`(${a}) - (${b})`)}) / 2`;
export const greatest = (a: string, b: string) => `((${a}) + (${b}) + ${abs(`(${a}) - (${b})`)}) / 2`;
/** No panel may show a percentage outside [0, 100]. */
export const clampPct = (x: string) => least(greatest(x, '0'), '100');

/**
 * Which schools a presence query reads: 'fleet', the schools whose current commune and ISP match the
 * `$commune` and `$isp` variables (regexes, as kit.ts fleetFilter); 'school', the `$uai` variable's one.
 */
export type PresenceScope = 'fleet' | 'school';

/**
 * A school's state stream is computed per UAI only: the collector tags presence points with the
 * registry's commune and ISP of their time (collector/presence/points.ts), so a school whose commune or
 * ISP changed has a series per tag set, and grouping by them left the old series in its last state
 * forever (an endless outage under the commune it left). One school, one stream, whatever its tags.
 */
const SCHOOL = t('presence', 'uai');

/**
 * A school's current commune and ISP as fields. Not "commune" and "isp": where a subquery reads
 * `presence` too, InfluxDB takes those names for its tags and finds them empty on aggregated rows.
 */
export const COMMUNE = '"school_commune"';
export const ISP = '"school_isp"';

const OFFLINE = PRESENCE_STATE_CODES.offline;
const RETENTION = resolveCollectorConfig({}).retention;

/** The condition on presence points of a scope: the fleet's are filtered on current tags, not here. */
const pointsOf = (scope: PresenceScope): string =>
  scope === 'school' ? ` AND ${schoolFilter('presence')}` : '';

/**
 * School state changes as `"c"` (the state code) with the point's commune and ISP as fields
 * (`"now_commune"`, `"now_isp"`): the raw policy for the time it keeps, the rollup before, so a school
 * whose last change is older than the raw retention still has a state.
 */
export function stateChanges(scope: PresenceScope): string {
  const code = f('presence', 'state_code');
  const tags = `${t('presence', 'commune')} AS "now_commune", ${t('presence', 'isp')} AS "now_isp"`;
  const school = `${t('presence', 'scope')} = 'school'${pointsOf(scope)}`;
  const edge = `now() - ${RETENTION.raw.duration}`;
  return `(SELECT ${code} AS "c", ${tags} FROM ${mLong('presence')} WHERE ${school} AND time < ${edge}),
    (SELECT ${code} AS "c", ${tags} FROM ${m('presence')} WHERE ${school} AND time >= ${edge})`;
}

/**
 * The latest state of each school of the scope, one row per UAI stamped at the change (no time filter:
 * "now"): `"c"` the state code, `"school_commune"` and `"school_isp"` the tags of that change, the
 * school's current ones (the collector tags every change with the registry of its time). The fleet filter applies to
 * these, not to every point: a school is not found under a commune or ISP it has left.
 */
export function latestState(scope: PresenceScope): string {
  const latest = `SELECT last("c") AS "c", "now_commune" AS ${COMMUNE}, "now_isp" AS ${ISP}
    FROM ${stateChanges(scope)} GROUP BY ${SCHOOL}`;
  if (scope === 'school') return latest;
  return `SELECT "c", ${COMMUNE}, ${ISP} FROM (${latest})
    WHERE ${COMMUNE} =~ /^$commune$/ AND ${ISP} =~ /^$isp$/ GROUP BY ${SCHOOL}`;
}

/**
 * The state of each school just before an instant, stamped at that instant. `fill(previous)` does not
 * reach before a query's range, so the range starts at the epoch and one bucket boundary falls on the
 * instant: the bucket starting there, empty, is filled with the last change before it. A time filter
 * around this would narrow the inner range too, so the epoch bucket is dropped by moving_average(2),
 * which has no row for it and, both buckets holding the same state, keeps the value.
 */
function stateBefore(scope: PresenceScope, ms: string): string {
  return `SELECT moving_average("c", 2) AS "c" FROM
    (SELECT last("c") AS "c" FROM (SELECT "c" FROM ${stateChanges(scope)} WHERE time < ${ms}ms)
     WHERE time >= 0 AND time <= ${ms}ms GROUP BY time(${ms}ms), ${SCHOOL} fill(previous))
    GROUP BY ${SCHOOL}`;
}

/**
 * Each school's state over the period as a step function, `"c"` in time order: its state at $__from, its
 * changes inside, and its state again at $__to, where the last stretch ends. Not filtered on the fleet
 * variables (see schoolPeriods).
 */
export function stateSteps(scope: PresenceScope): string {
  return `SELECT "c" FROM (${stateBefore(scope, FROM_MS)}),
    (SELECT 1.0 * "c" AS "c" FROM ${stateChanges(scope)} WHERE time >= ${FROM_MS}ms AND time < ${TO_MS}ms),
    (${stateBefore(scope, TO_MS)}) GROUP BY ${SCHOOL}`;
}

/**
 * Each stretch of a school's state inside the period: `"ms"` its length, `"was"` its state code, stamped
 * at its end. At a step, elapsed() is the stretch's length and difference() and moving_average() give
 * the state before it: (c₋ + c) / 2 − (c − c₋) / 2 = c₋.
 */
export function stateStretches(scope: PresenceScope): string {
  return `SELECT "ms", "m" - "d" / 2 AS "was" FROM
    (SELECT elapsed("c", 1ms) AS "ms", difference("c") AS "d", moving_average("c", 2) AS "m"
     FROM (${stateSteps(scope)}) GROUP BY ${SCHOOL})`;
}

/**
 * The period per school of the scope, one row per UAI: `down_ms` (offline time), `outages` (offline
 * stretches), `observed_ms` (time in a known state: unknown time is not measured, never up),
 * `longest_ms` (longest offline stretch), and the school's current commune and ISP (COMMUNE, ISP).
 * InfluxQL cannot join, so the fleet filter is a row of latestState's per school (`"member"`) summed
 * with its stretches: a school without one is left out. That row comes first and has every field:
 * InfluxDB 1.6 types a subquery's fields from its first source only (a field the first lacks reads
 * null). A school with no state before $__to has `observed_ms` 0.
 */
export function schoolPeriods(scope: PresenceScope): string {
  const stretches = stateStretches(scope);
  return `SELECT "down_ms", "outages", "observed_ms", "longest_ms", ${COMMUNE}, ${ISP} FROM
    (SELECT sum("down_ms") AS "down_ms", sum("outages") AS "outages", sum("observed_ms") AS "observed_ms",
      max("down_ms") AS "longest_ms", count("member") AS "member", last(${COMMUNE}) AS ${COMMUNE}, last(${ISP}) AS ${ISP}
     FROM (SELECT 0 * "c" + 1 AS "member", ${COMMUNE}, ${ISP}, 0 * "c" AS "down_ms", 0 * "c" AS "outages",
        0 * "c" AS "observed_ms" FROM (${latestState(scope)})),
      (SELECT "ms" AS "down_ms", 0 * "ms" + 1 AS "outages", "ms" AS "observed_ms" FROM (${stretches}) WHERE "was" = ${OFFLINE}),
      (SELECT 0 * "ms" AS "down_ms", 0 * "ms" AS "outages", "ms" AS "observed_ms" FROM (${stretches}) WHERE "was" > ${OFFLINE})
     GROUP BY ${SCHOOL})
    WHERE "member" > 0 GROUP BY ${SCHOOL}`;
}

/**
 * Offline stretches per school and ISP of the points (what an outage is, clipped to the period), for
 * the one panel that sums by ISP: InfluxQL groups only by tags, and a school's current ISP is a field
 * (latestState). The ISP is the one of the points, so downtime counts for the ISP the school had; but
 * a school that left an ISP while offline still counts for it until the end (see the report).
 */
export function offlineRowsByPointIsp(): string {
  const tags = `${SCHOOL}, ${t('presence', 'isp')}`;
  const code = f('presence', 'state_code');
  const where = `${t('presence', 'scope')} = 'school' AND ${fleetFilter('presence')}`;
  const edge = `now() - ${RETENTION.raw.duration}`;
  const changes = `(SELECT ${code} AS "c" FROM ${mLong('presence')} WHERE ${where} AND time < ${edge}),
    (SELECT ${code} AS "c" FROM ${m('presence')} WHERE ${where} AND time >= ${edge})`;
  const before = (ms: string) => `SELECT moving_average("c", 2) AS "c" FROM
    (SELECT last("c") AS "c" FROM (SELECT "c" FROM ${changes} WHERE time < ${ms}ms)
     WHERE time >= 0 AND time <= ${ms}ms GROUP BY time(${ms}ms), ${tags} fill(previous))
    GROUP BY ${tags}`;
  const steps = `SELECT "c" FROM (${before(FROM_MS)}),
    (SELECT 1.0 * "c" AS "c" FROM ${changes} WHERE time >= ${FROM_MS}ms AND time < ${TO_MS}ms),
    (${before(TO_MS)}) GROUP BY ${tags}`;
  const stretches = `SELECT "ms", "m" - "d" / 2 AS "was" FROM
    (SELECT elapsed("c", 1ms) AS "ms", difference("c") AS "d", moving_average("c", 2) AS "m"
     FROM (${steps}) GROUP BY ${tags})`;
  return `(SELECT "ms" AS "down_ms" FROM (${stretches}) WHERE "was" = ${OFFLINE})`;
}

/**
 * Outages still going on that began before $__to: schools of the scope whose latest state is offline,
 * one row each stamped at the change, `start_ms` its time, tagged with the UAI only (the current commune
 * is a field of latestState and InfluxQL cannot carry it onto this row). InfluxQL cannot read a point's
 * time as a value: it is the time elapsed since a row stamped at the epoch (an aggregate over
 * time >= 0), in one time-ordered stream. $__to bounds the value, not the time: a time condition would
 * reach into last() and pick an older offline change of a school that has since come back (that outage
 * is a finished one).
 */
export function openOutages(scope: PresenceScope): string {
  return `SELECT "start_ms" FROM (SELECT elapsed("c", 1ms) AS "start_ms" FROM (SELECT "c" FROM
    (SELECT count("c") AS "c" FROM ${stateChanges(scope)} WHERE time >= 0 GROUP BY ${SCHOOL}),
    (SELECT "c" FROM (${latestState(scope)}) WHERE "c" = ${OFFLINE})
    GROUP BY ${SCHOOL}) GROUP BY ${SCHOOL}) WHERE "start_ms" <= ${TO_MS} GROUP BY ${SCHOOL}`;
}

const END = f('outage', 'end_ms');
const DURATION = f('outage', 'duration_s');
const START = `(${END} - ${DURATION} * 1000)`;
const CLIPPED = `${least(END, TO_MS)} - ${greatest(START, FROM_MS)}`;

/**
 * Finished outages that overlap the period, whenever they started, with every tag of the point:
 * `duration_s`, `school_hours_s` and `end_ms` of the whole outage; `down_ms` its part inside the period
 * and `period_school_hours_s` the school hours prorated to that part (opening hours are not in InfluxDB);
 * COMMUNE the point's commune as a field (an outer query may group by a raw subquery's tags, not read them).
 */
export function finishedOutages(source: string, where: string): string {
  const schoolHours = f('outage', 'school_hours_s');
  return `SELECT ${DURATION} AS "duration_s", ${schoolHours} AS "school_hours_s", ${END} AS "end_ms",
    ${CLIPPED} AS "down_ms", ${schoolHours} * (${CLIPPED}) / (${DURATION} * 1000) AS "period_school_hours_s",
    ${t('outage', 'commune')} AS ${COMMUNE} FROM ${source} WHERE ${where} AND time <= ${TO_MS}ms AND ${END} > ${FROM_MS} AND ${START} < ${TO_MS}`;
}

/**
 * The outages of the period one per row, stamped at their start: finished ones (`end_ms` set, COMMUNE
 * the commune of the outage point) and those still going on (no `end_ms`, `duration_s` up to $__to,
 * school hours not known before the end, no commune: see openOutages).
 */
export function outageList(outageWhere: string, scope: PresenceScope): string {
  return `(SELECT "duration_s", "school_hours_s", "end_ms", ${COMMUNE} FROM (${finishedOutages(m('outage'), outageWhere)})),
    (SELECT (${TO_MS} - "start_ms") / 1000 AS "duration_s" FROM (${openOutages(scope)}))`;
}

/** Outages drawn over every graph, start to end (to $__to while still going on), the cause as text. */
export function outageAnnotations(
  ctx: BuildContext,
  outageWhere: string,
  scope: PresenceScope,
  source = m('outage'),
) {
  return new AnnotationQueryBuilder()
    .name(tr(ctx, { fr: 'Coupures', en: 'Outages' }))
    .datasource(INFLUX_DATASOURCE)
    .enable(true)
    .iconColor('red')
    .target(
      influxql(
        `SELECT "end_ms", "duration_s" FROM
         (SELECT "end_ms", "duration_s" FROM (${finishedOutages(source, outageWhere)})),
         (SELECT ${TO_MS} + 0 * "start_ms" AS "end_ms", (${TO_MS} - "start_ms") / 1000 AS "duration_s"
          FROM (${openOutages(scope)}))
         GROUP BY "uai", "cause"`,
        'Anno',
      ).table(),
    )
    .mappings({
      timeEnd: new AnnotationEventFieldMappingBuilder()
        .source(AnnotationEventFieldSource.Field)
        .value('end_ms'),
      text: new AnnotationEventFieldMappingBuilder().source(AnnotationEventFieldSource.Field).value('cause'),
      tags: new AnnotationEventFieldMappingBuilder().source(AnnotationEventFieldSource.Field).value('uai'),
    });
}
