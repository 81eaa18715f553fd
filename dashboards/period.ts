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
import { type BuildContext, f, m, mLong, t, tr } from './kit.ts';

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

/** The tags every presence-derived row keeps. */
export const SCHOOL_TAGS = '"uai", "commune", "isp"';

const OFFLINE = PRESENCE_STATE_CODES.offline;
const RETENTION = resolveCollectorConfig({}).retention;

/**
 * School state changes as `"c"` (the state code) with their tags: the raw policy for the time it keeps,
 * the rollup before, so a school whose last change is older than the raw retention still has a state.
 */
export function stateChanges(where: string): string {
  const code = f('presence', 'state_code');
  const school = `${t('presence', 'scope')} = 'school' AND ${where}`;
  const edge = `now() - ${RETENTION.raw.duration}`;
  return `(SELECT ${code} AS "c" FROM ${mLong('presence')} WHERE ${school} AND time < ${edge}),
    (SELECT ${code} AS "c" FROM ${m('presence')} WHERE ${school} AND time >= ${edge})`;
}

/** The latest state of each school, as `"c"` stamped at the change (no time filter: "now"). */
export const latestState = (where: string, groupBy = SCHOOL_TAGS): string =>
  `SELECT last("c") AS "c" FROM ${stateChanges(where)} GROUP BY ${groupBy}`;

/**
 * The state of each school just before an instant, stamped at that instant. `fill(previous)` does not
 * reach before a query's range, so the range starts at the epoch and one bucket boundary falls on the
 * instant: the bucket starting there, empty, is filled with the last change before it. A time filter
 * around this would narrow the inner range too, so the epoch bucket is dropped by moving_average(2),
 * which has no row for it and, both buckets holding the same state, keeps the value.
 */
function stateBefore(where: string, ms: string): string {
  return `SELECT moving_average("c", 2) AS "c" FROM
    (SELECT last("c") AS "c" FROM (SELECT "c" FROM ${stateChanges(where)} WHERE time < ${ms}ms)
     WHERE time >= 0 AND time <= ${ms}ms GROUP BY time(${ms}ms), ${SCHOOL_TAGS} fill(previous))
    GROUP BY ${SCHOOL_TAGS}`;
}

/**
 * Each school's state over the period as a step function, `"c"` in time order: its state at $__from, its
 * changes inside, and its state again at $__to, where the last stretch ends.
 */
export function stateSteps(where: string): string {
  return `SELECT "c" FROM (${stateBefore(where, FROM_MS)}),
    (SELECT 1.0 * "c" AS "c" FROM ${stateChanges(where)} WHERE time >= ${FROM_MS}ms AND time < ${TO_MS}ms),
    (${stateBefore(where, TO_MS)}) GROUP BY ${SCHOOL_TAGS}`;
}

/**
 * Each stretch of a school's state inside the period: `"ms"` its length, `"was"` its state code, stamped
 * at its end. At a step, elapsed() is the stretch's length and difference() and moving_average() give
 * the state before it: (c₋ + c) / 2 − (c − c₋) / 2 = c₋.
 */
export function stateStretches(where: string): string {
  return `SELECT "ms", "m" - "d" / 2 AS "was" FROM
    (SELECT elapsed("c", 1ms) AS "ms", difference("c") AS "d", moving_average("c", 2) AS "m"
     FROM (${stateSteps(where)}) GROUP BY ${SCHOOL_TAGS})`;
}

/**
 * The period per school as rows of one measurement: `down_ms` (offline time), `outages` (1 per offline
 * stretch), `observed_ms` (time in a known state: unknown time is not measured, never up).
 */
export function periodRows(where: string): string {
  const stretches = stateStretches(where);
  return `(SELECT "ms" AS "down_ms", 0 * "ms" + 1 AS "outages", "ms" AS "observed_ms" FROM (${stretches}) WHERE "was" = ${OFFLINE}),
    (SELECT 0 * "ms" AS "down_ms", 0 * "ms" AS "outages", "ms" AS "observed_ms" FROM (${stretches}) WHERE "was" > ${OFFLINE})`;
}

/** Offline stretches only (what an outage is, clipped to the period). */
export const offlineRows = (where: string): string =>
  `(SELECT "ms" AS "down_ms", 0 * "ms" + 1 AS "outages" FROM (${stateStretches(where)}) WHERE "was" = ${OFFLINE})`;

/**
 * Outages still going on that began before $__to: schools whose latest state is offline, one row each
 * stamped at the change, `start_ms` its time. InfluxQL cannot read a point's time as a value: it is the
 * time elapsed since a row stamped at the epoch (an aggregate over time >= 0), in one time-ordered
 * stream. $__to bounds the value, not the time: a time condition would reach into last() and pick an
 * older offline change of a school that has since come back (that outage is a finished one).
 */
export function openOutages(where: string): string {
  const changes = stateChanges(where);
  return `SELECT "start_ms" FROM (SELECT elapsed("c", 1ms) AS "start_ms" FROM (SELECT "c" FROM
    (SELECT count("c") AS "c" FROM ${changes} WHERE time >= 0 GROUP BY ${SCHOOL_TAGS}),
    (SELECT "c" FROM (${latestState(where)}) WHERE "c" = ${OFFLINE})
    GROUP BY ${SCHOOL_TAGS}) GROUP BY ${SCHOOL_TAGS}) WHERE "start_ms" <= ${TO_MS} GROUP BY ${SCHOOL_TAGS}`;
}

const END = f('outage', 'end_ms');
const DURATION = f('outage', 'duration_s');
const START = `(${END} - ${DURATION} * 1000)`;
const CLIPPED = `${least(END, TO_MS)} - ${greatest(START, FROM_MS)}`;

/**
 * Finished outages that overlap the period, whenever they started, with every tag of the point:
 * `duration_s`, `school_hours_s` and `end_ms` of the whole outage; `down_ms` its part inside the period
 * and `period_school_hours_s` the school hours prorated to that part (opening hours are not in InfluxDB).
 */
export function finishedOutages(source: string, where: string): string {
  const schoolHours = f('outage', 'school_hours_s');
  return `SELECT ${DURATION} AS "duration_s", ${schoolHours} AS "school_hours_s", ${END} AS "end_ms",
    ${CLIPPED} AS "down_ms", ${schoolHours} * (${CLIPPED}) / (${DURATION} * 1000) AS "period_school_hours_s"
    FROM ${source} WHERE ${where} AND time <= ${TO_MS}ms AND ${END} > ${FROM_MS} AND ${START} < ${TO_MS}`;
}

/**
 * The outages of the period one per row, stamped at their start: finished ones (`end_ms` set) and those
 * still going on (no `end_ms`, `duration_s` up to $__to, school hours not known before the end).
 */
export function outageList(outageWhere: string, presenceWhere: string): string {
  return `(SELECT "duration_s", "school_hours_s", "end_ms" FROM (${finishedOutages(m('outage'), outageWhere)})),
    (SELECT (${TO_MS} - "start_ms") / 1000 AS "duration_s" FROM (${openOutages(presenceWhere)}))`;
}

/** Outages drawn over every graph, start to end (to $__to while still going on), the cause as text. */
export function outageAnnotations(
  ctx: BuildContext,
  outageWhere: string,
  presenceWhere: string,
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
          FROM (${openOutages(presenceWhere)}))
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
