// Continuity (SLA): the figures a yearly review of the digital plan needs — uptime per school, number
// and length of outages, how much of it fell in school hours, and the trend month by month.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import { type Dashboard, DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { influxql } from './influxql.ts';
import {
  type BuildContext,
  f,
  finish,
  fleetFilter,
  fleetVariables,
  mLong,
  outageAnnotations,
  ROW_UAI,
  schoolLink,
  type Text,
  tr,
  vigieLinks,
} from './kit.ts';
import { renameColumns, setup, statPanel, timeSeriesPanel } from './panels.ts';

export const CONTINUITY_UID = 'vigie-continuity';

// From the long policy: a school year is longer than the raw policy keeps (collector/retention.ts
// rolls every outage up within 30 minutes of its end).
const outages = (where = '') => `${mLong('outage')} WHERE ${fleetFilter('outage')}${where} AND $timeFilter`;
const duration = f('outage', 'duration_s');
const schoolHours = f('outage', 'school_hours_s');

function figure(ctx: BuildContext, title: Text, description: Text, select: string, unit: string) {
  return statPanel(ctx, {
    title,
    description,
    w: 6,
    h: 4,
    queries: [influxql(`SELECT ${select} FROM ${outages()}`)],
  })
    .unit(unit)
    .noValue('0')
    .graphMode(common.BigValueGraphMode.None);
}

export function continuityDashboard(ctx: BuildContext): Dashboard {
  const builder = new DashboardBuilder(
    tr(ctx, { fr: 'Vigie — Continuité de service', en: 'Vigie — Service continuity (SLA)' }),
  )
    .uid(CONTINUITY_UID)
    .description(
      tr(ctx, {
        fr: "Disponibilité de l'accès internet des écoles sur la période : pour le bilan annuel du plan numérique.",
        en: 'Availability of the schools’ internet access over the period: for the yearly review of the digital plan.',
      }),
    )
    .tags(['vigie', 'sla'])
    .time({ from: 'now-1y', to: 'now' })
    .timezone('browser')
    .readonly()
    .variables(fleetVariables(ctx))
    .link(vigieLinks(ctx))
    .annotation(outageAnnotations(ctx, fleetFilter('outage'), mLong('outage')))
    .withPanel(
      figure(
        ctx,
        { fr: 'Coupures', en: 'Outages' },
        {
          fr: 'Nombre de coupures terminées dans la période.',
          en: 'Number of finished outages in the period.',
        },
        `count(${duration})`,
        'short',
      ),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Durée cumulée', en: 'Total downtime' },
        { fr: 'Somme des durées de coupure, toutes écoles.', en: 'Sum of outage durations, all schools.' },
        `sum(${duration})`,
        's',
      ),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Dont heures de classe', en: 'Of which in school hours' },
        {
          fr: "Part des coupures tombée pendant les heures d'ouverture de chaque école (profil horaire du référentiel).",
          en: "Outage time that fell within each school's opening hours (its registry hours profile).",
        },
        `sum(${schoolHours})`,
        's',
      ),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Plus longue coupure', en: 'Longest outage' },
        { fr: 'Durée de la plus longue coupure.', en: 'Duration of the longest outage.' },
        `max(${duration})`,
        's',
      ),
    )
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: 'Disponibilité par école', en: 'Uptime per school' },
        description: {
          fr: "Disponibilité = 100 % − durée des coupures / durée de la période. « Heures de classe » : temps de coupure pendant les heures d'ouverture. Une école absente n'a eu aucune coupure (100 %).",
          en: 'Uptime = 100 % − outage time / length of the period. "School hours": outage time within opening hours. A school not listed had no outage (100 %).',
        },
        w: 24,
        h: 10,
        queries: [
          influxql(
            `SELECT 100 - 100 * sum(${duration}) / $__range_s AS "uptime_pct", count(${duration}) AS "outages",
             sum(${duration}) AS "downtime_s", sum(${schoolHours}) AS "school_hours_s", max(${duration}) AS "longest_s"
             FROM ${outages()} GROUP BY "uai", "commune", "isp"`,
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
        .overrideByName('outages', [{ id: 'unit', value: 'short' }])
        .sortBy([
          new common.TableSortByFieldStateBuilder().displayName(
            tr(ctx, { fr: 'Disponibilité', en: 'Uptime' }),
          ),
        ])
        .dataLinks([schoolLink(ctx, ROW_UAI)])
        .withTransformation(
          renameColumns(
            ctx,
            {
              uai: { fr: 'UAI', en: 'UAI' },
              commune: { fr: 'Commune', en: 'Municipality' },
              isp: { fr: 'Opérateur', en: 'ISP' },
              uptime_pct: { fr: 'Disponibilité', en: 'Uptime' },
              outages: { fr: 'Coupures', en: 'Outages' },
              downtime_s: { fr: 'Durée cumulée', en: 'Total downtime' },
              school_hours_s: { fr: 'Dont heures de classe', en: 'Of which school hours' },
              longest_s: { fr: 'Plus longue', en: 'Longest' },
            },
            ['Time'],
          ),
        ),
    )
    .withPanel(
      setup(new bargauge.PanelBuilder(), ctx, {
        title: { fr: 'Coupures par cause', en: 'Outages by cause' },
        description: {
          fr: 'wan_cut : lien coupé, boîtier joignable ; power_or_box : boîtier ou courant ; unknown : indéterminé.',
          en: 'wan_cut: link cut, box reachable; power_or_box: box or power; unknown: undetermined.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(`SELECT count(${duration}) FROM ${outages()} GROUP BY "cause"`).alias('$tag_cause'),
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
          fr: 'Durée cumulée des coupures, par opérateur : de quoi discuter des engagements de service.',
          en: 'Total outage time per ISP: material for the service-level discussion with each provider.',
        },
        w: 12,
        h: 8,
        queries: [influxql(`SELECT sum(${duration}) FROM ${outages()} GROUP BY "isp"`).alias('$tag_isp')],
      })
        .unit('s')
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Tendance mensuelle', en: 'Monthly trend' },
        description: {
          fr: "Par tranche de 30 jours (InfluxQL n'a pas de mois calendaires) : nombre de coupures et heures de coupure, dont en heures de classe.",
          en: 'Per 30-day bucket (InfluxQL has no calendar months): number of outages and hours down, of which in school hours.',
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
