// Continuity (SLA): the figures a yearly review of the digital plan needs — uptime per school, number
// and length of outages, how much of it fell in school hours, and the trend month by month.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { influxql } from './influxql.ts';
import {
  type BuildContext,
  dashboardHeader,
  f,
  finish,
  fleetFilter,
  fleetVariables,
  mLong,
  ROW_UAI,
  schoolLink,
  type Text,
  tr,
} from './kit.ts';
import { joinBy, renameColumns, setup, statPanel, timeSeriesPanel } from './panels.ts';
import {
  clampPct,
  finishedOutages,
  offlineRows,
  openOutages,
  outageAnnotations,
  PERIOD_MS,
  periodRows,
} from './period.ts';

export const CONTINUITY_UID = 'vigie-continuity';

// Offline time, outage counts and uptime come from the schools' states (dashboards/period.ts), which
// see outages still going on and clip every outage to the period; causes and school hours exist only on
// finished outages, read from the long policy: a school year is longer than the raw policy keeps
// (collector/retention.ts rolls every outage up within 30 minutes of its end).
const presence = () => fleetFilter('presence');
const finished = () => `(${finishedOutages(mLong('outage'), fleetFilter('outage'))})`;
const outages = (where = '') => `${mLong('outage')} WHERE ${fleetFilter('outage')}${where} AND $timeFilter`;
const duration = f('outage', 'duration_s');
const schoolHours = f('outage', 'school_hours_s');

function figure(ctx: BuildContext, title: Text, description: Text, query: string, unit: string) {
  return statPanel(ctx, {
    title,
    description,
    w: 6,
    h: 4,
    queries: [influxql(query)],
  })
    .unit(unit)
    .noValue('0')
    .graphMode(common.BigValueGraphMode.None);
}

export function continuityDashboard(ctx: BuildContext): Dashboard {
  const builder = dashboardHeader(ctx, {
    title: { fr: 'Vigie — Continuité de service', en: 'Vigie — Service continuity (SLA)' },
    uid: CONTINUITY_UID,
    description: {
      fr: "Disponibilité de l'accès internet des écoles sur la période : pour le bilan annuel du plan numérique.",
      en: 'Availability of the schools’ internet access over the period: for the yearly review of the digital plan.',
    },
    tag: 'sla',
    from: 'now-1y',
    variables: fleetVariables(ctx),
  })
    .annotation(outageAnnotations(ctx, fleetFilter('outage'), presence(), mLong('outage')))
    .withPanel(
      figure(
        ctx,
        { fr: 'Coupures', en: 'Outages' },
        {
          fr: 'Nombre de coupures qui touchent la période, terminées ou en cours.',
          en: 'Number of outages touching the period, finished or still going on.',
        },
        `SELECT sum("outages") FROM ${offlineRows(presence())}`,
        'short',
      ),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Durée cumulée', en: 'Total downtime' },
        {
          fr: 'Temps hors ligne dans la période, toutes écoles : une coupure commencée avant ou encore en cours compte pour sa part dans la période.',
          en: 'Offline time within the period, all schools: an outage that began before or is still going on counts for its part inside.',
        },
        `SELECT sum("down_ms") / 1000 FROM ${offlineRows(presence())}`,
        's',
      ),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Dont heures de classe', en: 'Of which in school hours' },
        {
          fr: "Temps de coupure pendant les heures d'ouverture de chaque école (profil horaire du référentiel), calculé à la fin de chaque coupure : coupures terminées, au prorata de leur part dans la période.",
          en: "Outage time within each school's opening hours (its registry hours profile), computed when an outage ends: finished outages, prorated to their part inside the period.",
        },
        `SELECT sum("period_school_hours_s") FROM ${finished()}`,
        's',
      ),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Plus longue coupure', en: 'Longest outage' },
        {
          fr: 'Durée dans la période de la plus longue coupure (en cours comprises).',
          en: 'Time within the period of the longest outage (ongoing ones included).',
        },
        `SELECT max("down_ms") / 1000 FROM ${offlineRows(presence())}`,
        's',
      ),
    )
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: 'Disponibilité par école', en: 'Uptime per school' },
        description: {
          fr: "Disponibilité = 100 % × (1 − temps hors ligne / temps observé), entre 0 et 100 %. Temps observé : la part de la période où l'état de l'école était connu (« Couverture ») ; une coupure commencée avant la période ou encore en cours compte pour sa part dans la période. Une école sans donnée sur la période n'est pas listée. « Heures de classe » : coupures terminées, au prorata.",
          en: 'Uptime = 100 % × (1 − offline time / observed time), between 0 and 100 %. Observed time: the part of the period when the school\'s state was known ("Coverage"); an outage that began before the period or is still going on counts for its part inside. A school with no data in the period is not listed. "School hours": finished outages, prorated.',
        },
        w: 24,
        h: 10,
        queries: [
          influxql(
            `SELECT ${clampPct('100 - 100 * "down_ms" / "observed_ms"')} AS "uptime_pct",
             ${clampPct(`100 * "observed_ms" / ${PERIOD_MS}`)} AS "coverage_pct", "outages",
             "down_ms" / 1000 AS "downtime_s", "longest_ms" / 1000 AS "longest_s"
             FROM (SELECT sum("down_ms") AS "down_ms", sum("observed_ms") AS "observed_ms", sum("outages") AS "outages",
               max("down_ms") AS "longest_ms" FROM ${periodRows(presence())} GROUP BY "uai", "commune", "isp")
             WHERE "observed_ms" > 0 GROUP BY "uai", "commune", "isp"`,
            'A',
          ).table(),
          influxql(
            `SELECT sum("period_school_hours_s") AS "school_hours_s" FROM ${finished()} GROUP BY "uai"`,
            'B',
          ).table(),
        ],
      })
        .unit('s')
        .overrideByName('uptime_pct', [
          { id: 'unit', value: 'percent' },
          { id: 'decimals', value: 3 },
          {
            id: 'thresholds',
            value: {
              mode: 'absolute',
              steps: [
                { value: null, color: 'red' },
                { value: 99, color: 'orange' },
                { value: 99.9, color: 'green' },
              ],
            },
          },
          { id: 'custom.cellOptions', value: { type: 'color-background' } },
        ])
        .overrideByName('coverage_pct', [
          { id: 'unit', value: 'percent' },
          { id: 'decimals', value: 1 },
        ])
        .overrideByName('outages', [{ id: 'unit', value: 'short' }])
        .sortBy([
          new common.TableSortByFieldStateBuilder().displayName(
            tr(ctx, { fr: 'Disponibilité', en: 'Uptime' }),
          ),
        ])
        .dataLinks([schoolLink(ctx, ROW_UAI)])
        .withTransformation(joinBy('uai'))
        .withTransformation(
          renameColumns(
            ctx,
            {
              uai: { fr: 'UAI', en: 'UAI' },
              commune: { fr: 'Commune', en: 'Municipality' },
              isp: { fr: 'Opérateur', en: 'ISP' },
              uptime_pct: { fr: 'Disponibilité', en: 'Uptime' },
              coverage_pct: { fr: 'Couverture', en: 'Coverage' },
              outages: { fr: 'Coupures', en: 'Outages' },
              downtime_s: { fr: 'Durée cumulée', en: 'Total downtime' },
              school_hours_s: { fr: 'Dont heures de classe', en: 'Of which school hours' },
              longest_s: { fr: 'Plus longue', en: 'Longest' },
            },
            ['Time', 'Time 1', 'Time 2'],
          ),
        ),
    )
    .withPanel(
      setup(new bargauge.PanelBuilder(), ctx, {
        title: { fr: 'Coupures par cause', en: 'Outages by cause' },
        description: {
          fr: 'Coupures qui touchent la période. wan_cut : lien coupé, boîtier joignable ; power_or_box : boîtier ou courant ; unknown : indéterminé ; « en cours » : pas encore classées (la cause est établie à la fin).',
          en: 'Outages touching the period. wan_cut: link cut, box reachable; power_or_box: box or power; unknown: undetermined; "ongoing": not classified yet (the cause is found at the end).',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(`SELECT count("duration_s") FROM ${finished()} GROUP BY "cause"`, 'A').alias('$tag_cause'),
          influxql(`SELECT count("start_ms") FROM (${openOutages(presence())})`, 'B').alias(
            tr(ctx, { fr: 'en cours', en: 'ongoing' }),
          ),
        ],
      })
        .unit('short')
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    )
    .withPanel(
      setup(new bargauge.PanelBuilder(), ctx, {
        title: { fr: 'Durée de coupure par opérateur', en: 'Downtime per ISP' },
        description: {
          fr: 'Temps hors ligne dans la période, par opérateur (coupures en cours comprises) : de quoi discuter des engagements de service.',
          en: 'Offline time within the period per ISP (ongoing outages included): material for the service-level discussion with each provider.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(`SELECT sum("down_ms") / 1000 FROM ${offlineRows(presence())} GROUP BY "isp"`).alias(
            '$tag_isp',
          ),
        ],
      })
        .unit('s')
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Tendance mensuelle', en: 'Monthly trend' },
        description: {
          fr: "Coupures terminées, par tranche de 30 jours où elles ont commencé (InfluxQL n'a pas de mois calendaires) : nombre et heures de coupure, dont en heures de classe. Une coupure en cours y figure une fois terminée.",
          en: 'Finished outages, per 30-day bucket in which they started (InfluxQL has no calendar months): number and hours down, of which in school hours. An outage still going on appears once it has ended.',
        },
        w: 24,
        h: 9,
        queries: [
          influxql(
            `SELECT count(${duration}) AS "${tr(ctx, { fr: 'coupures', en: 'outages' })}",
             sum(${duration}) / 3600 AS "${tr(ctx, { fr: 'heures de coupure', en: 'hours down' })}",
             sum(${schoolHours}) / 3600 AS "${tr(ctx, { fr: 'dont heures de classe', en: 'of which school hours' })}"
             FROM ${outages()} GROUP BY time(30d) fill(0)`,
          ).alias('$col'),
        ],
      })
        .drawStyle(common.GraphDrawStyle.Bars)
        .fillOpacity(70)
        .min(0),
    );
  return finish(builder);
}
