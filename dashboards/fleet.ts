// Fleet: which schools are up now, where they are, which suffer, what broke in the period.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  FieldColorBuilder,
  FieldColorModeId,
  RowBuilder,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as geomap from '@grafana/grafana-foundation-sdk/geomap';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { PRESENCE_STATE_CODES } from '../collector/schema.ts';
import { influxql } from './influxql.ts';
import {
  type BuildContext,
  dashboardHeader,
  f,
  finish,
  fleetFilter,
  fleetVariables,
  m,
  ROW_UAI,
  SERIES_UAI,
  schoolLink,
  t,
  thresholdSteps,
  tr,
} from './kit.ts';
import {
  joinBy,
  ongoingEnd,
  renameColumns,
  STATE_TEXT,
  setup,
  stateMappings,
  statPanel,
  timeSeriesPanel,
} from './panels.ts';
import { COMMUNE, ISP, latestState, outageAnnotations, outageList, schoolPeriods } from './period.ts';
import { latestSchoolPoints } from './school-info.ts';

export const FLEET_UID = 'vigie-fleet';

/**
 * The latest state of each school as "code", whenever it changed (no time filter: a school offline for a
 * week counts), with its current "commune" and "isp", one row per UAI; schools outside the registry too
 * (their presence is tagged commune and isp "unknown").
 */
const lastSchoolState = () =>
  `SELECT "c" AS "code", ${COMMUNE} AS "commune", ${ISP} AS "isp" FROM (${latestState('fleet')}) GROUP BY "uai"`;

function stateCount(
  ctx: BuildContext,
  state: keyof typeof PRESENCE_STATE_CODES,
  title: { fr: string; en: string },
) {
  const [words, colour] = STATE_TEXT[state];
  return statPanel(ctx, {
    title,
    description: {
      fr: `Écoles dont le dernier état connu est « ${words.fr} ».`,
      en: `Schools whose latest known state is "${words.en}".`,
    },
    w: 4,
    h: 4,
    queries: [
      influxql(
        `SELECT count("code") AS "schools" FROM (${lastSchoolState()}) WHERE "code" = ${PRESENCE_STATE_CODES[state]}`,
      ),
    ],
  })
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .noValue('0')
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor(colour));
}

export function fleetDashboard(ctx: BuildContext): Dashboard {
  const th = ctx.thresholds;
  const internet = `${t('ping', 'role')} != 'gateway'`;
  const builder = dashboardHeader(ctx, {
    title: { fr: 'Vigie — Parc des écoles', en: 'Vigie — School fleet' },
    uid: FLEET_UID,
    description: {
      fr: "État de l'accès internet de toutes les écoles : en ligne maintenant, où, qui souffre, quelles coupures.",
      en: 'Internet access of every school: online now, where, which suffer, which outages.',
    },
    tag: 'fleet',
    from: 'now-24h',
    refresh: '1m',
    variables: fleetVariables(ctx),
  })
    .annotation(outageAnnotations(ctx, fleetFilter('outage'), 'fleet'))
    .withRow(new RowBuilder(tr(ctx, { fr: 'Maintenant', en: 'Now' })))
    .withPanel(stateCount(ctx, 'online', { fr: 'En ligne', en: 'Online' }))
    .withPanel(stateCount(ctx, 'degraded', { fr: 'Dégradées', en: 'Degraded' }))
    .withPanel(stateCount(ctx, 'offline', { fr: 'Hors ligne', en: 'Offline' }))
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: 'Écoles hors ligne ou dégradées, depuis', en: 'Offline or degraded schools, since' },
        description: {
          fr: "Écoles dont le dernier état n'est pas « en ligne » ; l'heure est celle du changement d'état.",
          en: 'Schools whose latest state is not online; the time is when the state changed.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT "commune", "isp", "code" FROM (${lastSchoolState()}) WHERE "code" < ${PRESENCE_STATE_CODES.online} GROUP BY "uai"`,
          ).table(),
        ],
      })
        .mappings(stateMappings(ctx))
        .dataLinks([schoolLink(ctx, ROW_UAI)])
        .withTransformation(
          renameColumns(ctx, {
            Time: { fr: 'Depuis', en: 'Since' },
            uai: { fr: 'UAI', en: 'UAI' },
            commune: { fr: 'Commune', en: 'Municipality' },
            isp: { fr: 'Opérateur', en: 'ISP' },
            code: { fr: 'État', en: 'State' },
          }),
        )
        .sortBy([
          new common.TableSortByFieldStateBuilder().displayName(tr(ctx, { fr: 'Depuis', en: 'Since' })),
        ])
        .cellOptions({ type: common.TableCellDisplayMode.ColorText }),
    )
    .withPanel(
      setup(new geomap.PanelBuilder(), ctx, {
        title: { fr: 'Carte des écoles', en: 'Map of schools' },
        description: {
          fr: 'Chaque école à ses coordonnées du référentiel, colorée par son dernier état.',
          en: 'Each school at its registry coordinates, coloured by its latest state.',
        },
        w: 12,
        h: 12,
        queries: [
          influxql(latestSchoolPoints({ lat: 'lat', lon: 'lon', name: 'name' }, 'fleet'), 'A').table(),
          influxql(`SELECT "code" FROM (${lastSchoolState()}) GROUP BY "uai"`, 'B').table(),
        ],
      })
        .withTransformation(joinBy('uai'))
        .mappings(stateMappings(ctx))
        .dataLinks([schoolLink(ctx, ROW_UAI)])
        .thresholds(thresholdSteps({ warn: 1.5, crit: 0.5 }, true))
        .view(new geomap.MapViewConfigBuilder().id('fit').padding(10).allLayers(true))
        .basemap(new common.MapLayerOptionsBuilder().type('osm-standard').name('OpenStreetMap'))
        .layers([
          new common.MapLayerOptionsBuilder()
            .type('markers')
            .name(tr(ctx, { fr: 'Écoles', en: 'Schools' }))
            .tooltip(true)
            .location(
              new common.FrameGeometrySourceBuilder()
                .mode(common.FrameGeometrySourceMode.Coords)
                .latitude('lat')
                .longitude('lon'),
            )
            .config({
              showLegend: true,
              style: {
                color: { field: 'code', fixed: 'text' },
                size: { fixed: 8 },
                symbol: { mode: 'fixed', fixed: 'img/icons/marker/circle.svg' },
                text: { field: 'name', mode: 'field' },
                textConfig: { fontSize: 10, offsetY: -12 },
              },
            }),
        ])
        .tooltip(new geomap.TooltipOptionsBuilder().mode(geomap.TooltipMode.Details)),
    )
    .withRow(new RowBuilder(tr(ctx, { fr: 'Qualité sur la période', en: 'Quality over the period' })))
    .withPanel(
      timeSeriesPanel(ctx, {
        title: {
          fr: 'Latence vers internet : pire école et médiane',
          en: 'Latency to the internet: worst school and median',
        },
        description: {
          fr: 'Médiane des allers-retours ICMP vers les cibles internet (hors passerelle) : la pire école et la médiane du parc.',
          en: 'Median ICMP round trip to internet targets (gateway excluded): the worst school and the fleet median.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('ping', 'median_ms')}) AS "${tr(ctx, { fr: 'pire', en: 'worst' })}",
             percentile(${f('ping', 'median_ms')}, 50) AS "${tr(ctx, { fr: 'médiane', en: 'median' })}"
             FROM ${m('ping')} WHERE ${internet} AND ${fleetFilter('ping')} AND $timeFilter
             GROUP BY time($__interval) fill(null)`,
          ).alias('$col'),
        ],
      })
        .unit('ms')
        .thresholds(thresholdSteps(th.latencyMs))
        .thresholdsStyle(
          new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
        ),
    )
    .withPanel(
      setup(new bargauge.PanelBuilder(), ctx, {
        title: {
          fr: 'Écoles les plus lentes (p95 de la médiane)',
          en: 'Slowest schools (p95 of the median)',
        },
        description: {
          fr: 'Par école, 95e centile de la latence médiane vers internet sur la période.',
          en: 'Per school, 95th percentile of the median latency to the internet over the period.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT percentile(${f('ping', 'median_ms')}, 95) AS "p95" FROM ${m('ping')}
             WHERE ${internet} AND ${fleetFilter('ping')} AND $timeFilter GROUP BY "uai"`,
          ).alias('$tag_uai'),
        ],
      })
        .unit('ms')
        .thresholds(thresholdSteps(th.latencyMs))
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .dataLinks([schoolLink(ctx, SERIES_UAI)])
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Perte de paquets : pire école', en: 'Packet loss: worst school' },
        description: {
          fr: 'Perte ICMP maximale vers les cibles internet, toutes écoles confondues.',
          en: 'Highest ICMP loss to internet targets, across schools.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('ping', 'loss_pct')}) AS "${tr(ctx, { fr: 'perte max', en: 'max loss' })}" FROM ${m('ping')}
             WHERE ${internet} AND ${fleetFilter('ping')} AND $timeFilter GROUP BY time($__interval) fill(null)`,
          ).alias('$col'),
        ],
      })
        .unit('percent')
        .min(0)
        .max(100)
        .thresholds(thresholdSteps(th.lossPct))
        .thresholdsStyle(
          new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
        ),
    )
    .withPanel(
      setup(new bargauge.PanelBuilder(), ctx, {
        title: { fr: 'Écoles avec le plus de perte', en: 'Schools with the most loss' },
        description: {
          fr: 'Par école, perte moyenne vers internet sur la période.',
          en: 'Per school, mean loss to the internet over the period.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT mean(${f('ping', 'loss_pct')}) AS "loss" FROM ${m('ping')}
             WHERE ${internet} AND ${fleetFilter('ping')} AND $timeFilter GROUP BY "uai"`,
          ).alias('$tag_uai'),
        ],
      })
        .unit('percent')
        .min(0)
        .max(100)
        .thresholds(thresholdSteps(th.lossPct))
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .dataLinks([schoolLink(ctx, SERIES_UAI)])
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    )
    .withPanel(
      setup(new bargauge.PanelBuilder(), ctx, {
        title: {
          fr: 'Saturation du lien (pic, % du débit contractuel)',
          en: 'WAN saturation (peak, % of contract)',
        },
        description: {
          fr: 'Par école, pic de débit entrant et sortant en pourcentage du débit souscrit.',
          en: 'Per school, peak inbound and outbound throughput as a share of the contracted bandwidth.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('wan', 'in_pct')}) AS "in", max(${f('wan', 'out_pct')}) AS "out" FROM ${m('wan')}
             WHERE ${fleetFilter('wan')} AND $timeFilter GROUP BY "uai"`,
          ).alias('$tag_uai $col'),
        ],
      })
        .unit('percent')
        .min(0)
        .max(100)
        .thresholds(thresholdSteps(th.wanSaturationPct))
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .dataLinks([schoolLink(ctx, SERIES_UAI)])
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    )
    .withPanel(
      statPanel(ctx, {
        title: { fr: 'Coupures sur la période', en: 'Outages in the period' },
        description: {
          fr: 'Coupures qui touchent la période, terminées ou en cours, et leur durée dans la période (une coupure commencée avant ou encore en cours compte pour sa part dans la période).',
          en: 'Outages touching the period, finished or still going on, and their time within the period (one that began before or is still going on counts for its part inside).',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT sum("outages") AS "${tr(ctx, { fr: 'coupures', en: 'outages' })}" FROM (${schoolPeriods('fleet')})`,
            'A',
          ),
          influxql(
            `SELECT sum("down_ms") / 1000 AS "${tr(ctx, { fr: 'durée', en: 'duration' })}" FROM (${schoolPeriods('fleet')})`,
            'B',
          ),
        ],
      })
        .graphMode(common.BigValueGraphMode.None)
        .noValue('0')
        .overrideByQuery('B', [{ id: 'unit', value: 's' }]),
    )
    .withRow(new RowBuilder(tr(ctx, { fr: 'Coupures', en: 'Outages' })))
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: {
          fr: 'Coupures de la période, avec leur cause',
          en: 'Outages in the period, with their cause',
        },
        description: {
          fr: "Toute coupure qui touche la période, même commencée avant : début, école, cause (coupure du lien, boîtier ou courant, inconnue ; connue à la fin), durée, part en heures de classe, fin (« en cours » : durée jusqu'à la fin de la période).",
          en: 'Every outage touching the period, even one that began before: start, school, cause (WAN cut, box or power, unknown; known at its end), duration, part in school hours, end ("ongoing": duration up to the end of the period).',
        },
        w: 24,
        h: 9,
        queries: [
          influxql(
            // Not GROUP BY "commune": InfluxDB pushes an outer GROUP BY down into the subqueries, and
            // the state stream of a school that changed commune would split again (period.ts).
            `SELECT ${COMMUNE} AS "commune", "duration_s", "school_hours_s", "end_ms" FROM ${outageList(fleetFilter('outage'), 'fleet')}
             GROUP BY "uai", "cause"`,
          ).table(),
        ],
      })
        .unit('s')
        .dataLinks([schoolLink(ctx, ROW_UAI)])
        .withTransformation(
          renameColumns(ctx, {
            Time: { fr: 'Début', en: 'Start' },
            uai: { fr: 'UAI', en: 'UAI' },
            commune: { fr: 'Commune', en: 'Municipality' },
            cause: { fr: 'Cause', en: 'Cause' },
            duration_s: { fr: 'Durée', en: 'Duration' },
            school_hours_s: { fr: 'Dont heures de classe', en: 'Of which school hours' },
            end_ms: { fr: 'Fin', en: 'End' },
          }),
        )
        .overrideByName('end_ms', ongoingEnd(ctx)),
    );
  return finish(builder);
}
