// One school: SmokePing-style latency per target, loss, jitter, DNS, HTTP, WAN against the contract,
// speed tests, Wi-Fi access points and outages with their cause.
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  FieldColorBuilder,
  FieldColorModeId,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { INFLUX_DATASOURCE, influxql } from './influxql.ts';
import {
  type BuildContext,
  dashboardHeader,
  f,
  finish,
  m,
  schoolFilter,
  t,
  thresholdSteps,
  tr,
} from './kit.ts';
import {
  booleanMappings,
  ongoingEnd,
  renameColumns,
  setup,
  stateMappings,
  statPanel,
  timelinePanel,
  timeSeriesPanel,
} from './panels.ts';
import { latestState, outageAnnotations, outageList, stateSteps } from './period.ts';
import { latestSchoolPoints, SCHOOL_LABEL_REGEX } from './school-info.ts';

export const SCHOOL_UID = 'vigie-school';

const dashed = () =>
  new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed);
const fixed = (colour: string) => new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor(colour);

function schoolVariables(ctx: BuildContext) {
  const school = new QueryVariableBuilder('uai')
    .label(tr(ctx, { fr: 'École', en: 'School' }))
    .description(
      tr(ctx, { fr: 'UAI et nom, du référentiel des écoles', en: 'UAI and name, from the school registry' }),
    )
    .datasource(INFLUX_DATASOURCE)
    // Registry schools by their label; schools outside it (samples without a commune) by their UAI.
    // Grafana keeps the first option of each value: `batch` (only unregistered UAIs here) comes before
    // `school`, whose labels come before its bare UAIs.
    .query(
      `SHOW TAG VALUES FROM ${m('batch')}, ${m('school')} WITH KEY IN ("label", "uai") WHERE ${t('batch', 'commune')} = '' OR ${t('school', 'label')} =~ /./`,
    )
    .regex(SCHOOL_LABEL_REGEX)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalCaseInsensitiveAsc);
  const target = new QueryVariableBuilder('target')
    .label(tr(ctx, { fr: 'Cible', en: 'Target' }))
    .datasource(INFLUX_DATASOURCE)
    .query(`SHOW TAG VALUES FROM ${m('ping')} WITH KEY = "target" WHERE "uai" = '$uai'`)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalCaseInsensitiveAsc)
    .multi(true)
    .includeAll(true)
    .hide(VariableHide.DontHide);
  return [school, target];
}

export function schoolDashboard(ctx: BuildContext): Dashboard {
  const th = ctx.thresholds;
  const ping = `${m('ping')} WHERE ${schoolFilter('ping')}`;
  const builder = dashboardHeader(ctx, {
    title: { fr: 'Vigie — École', en: 'Vigie — School' },
    uid: SCHOOL_UID,
    description: {
      fr: "Qualité de l'accès internet d'une école : latence, perte, DNS, web, débit, Wi-Fi, coupures.",
      en: "One school's internet access: latency, loss, DNS, web, throughput, Wi-Fi, outages.",
    },
    tag: 'school',
    from: 'now-24h',
    refresh: '1m',
    variables: schoolVariables(ctx),
  })
    .annotation(outageAnnotations(ctx, schoolFilter('outage'), 'school'))
    .withPanel(
      statPanel(ctx, {
        title: { fr: 'État', en: 'State' },
        description: { fr: "Dernier état connu de l'école.", en: 'Latest known state of the school.' },
        w: 6,
        h: 4,
        queries: [influxql(`SELECT "c" FROM (${latestState('school')})`)],
      })
        .mappings(stateMappings(ctx))
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None),
    )
    .withPanel(
      statPanel(ctx, {
        title: { fr: 'Débit contractuel', en: 'Contracted bandwidth' },
        description: {
          fr: 'Débits descendant et montant souscrits, du référentiel des écoles.',
          en: 'Contracted download and upload bandwidth, from the school registry.',
        },
        w: 6,
        h: 4,
        queries: [
          influxql(
            latestSchoolPoints(
              {
                contracted_down_bps: tr(ctx, { fr: 'descendant', en: 'down' }),
                contracted_up_bps: tr(ctx, { fr: 'montant', en: 'up' }),
              },
              'school',
            ),
          ),
        ],
      })
        .unit('bps')
        .noValue(tr(ctx, { fr: 'hors référentiel', en: 'not in the registry' }))
        .graphMode(common.BigValueGraphMode.None),
    )
    .withPanel(
      timelinePanel(ctx, {
        title: { fr: 'Présence sur la période', en: 'Presence over the period' },
        description: {
          fr: "État de l'école (en ligne, dégradé, hors ligne) sur toute la période : celui qu'elle avait au début, puis ses changements.",
          en: 'State of the school (online, degraded, offline) over the whole period: the one it had at the start, then its changes.',
        },
        w: 12,
        h: 4,
        queries: [
          influxql(
            `SELECT "c" AS "${tr(ctx, { fr: 'école', en: 'school' })}" FROM (${stateSteps('school')})`,
          ).alias('$col'),
        ],
      })
        .mappings(stateMappings(ctx))
        .showValue(common.VisibilityMode.Never),
    )
    .withRow(new RowBuilder(tr(ctx, { fr: 'Latence et perte par cible', en: 'Latency and loss per target' })))
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Latence vers $target', en: 'Latency to $target' },
        description: {
          fr: 'Façon SmokePing : la ligne est la médiane des allers-retours, la bande va du minimum au 95e centile ; les barres rouges sont la perte (axe de droite).',
          en: 'SmokePing-style: the line is the median round trip, the band spans minimum to 95th percentile; red bars are loss (right axis).',
        },
        w: 24,
        h: 8,
        queries: [
          influxql(
            `SELECT min(${f('ping', 'min_ms')}) AS "min", percentile(${f('ping', 'median_ms')}, 50) AS "median",
             max(${f('ping', 'p95_ms')}) AS "p95" FROM ${ping} AND "target" =~ /^$target$/ AND $timeFilter
             GROUP BY time($__interval) fill(null)`,
            'A',
          ).alias('$col'),
          influxql(
            `SELECT max(${f('ping', 'loss_pct')}) AS "loss" FROM ${ping} AND "target" =~ /^$target$/ AND $timeFilter
             GROUP BY time($__interval) fill(null)`,
            'B',
          ).alias('$col'),
        ],
      })
        .repeat('target')
        .repeatDirection('v')
        .unit('ms')
        .min(0)
        .thresholds(thresholdSteps(th.latencyMs))
        .thresholdsStyle(dashed())
        .overrideByName('min', [
          { id: 'custom.lineWidth', value: 0 },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } },
          { id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } },
        ])
        .overrideByName('p95', [
          { id: 'custom.lineWidth', value: 0 },
          { id: 'custom.fillBelowTo', value: 'min' },
          { id: 'custom.fillOpacity', value: 25 },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } },
        ])
        .overrideByName('median', [
          { id: 'custom.lineWidth', value: 2 },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'green' } },
        ])
        .overrideByName('loss', [
          { id: 'unit', value: 'percent' },
          { id: 'min', value: 0 },
          { id: 'max', value: 100 },
          { id: 'custom.axisPlacement', value: 'right' },
          { id: 'custom.drawStyle', value: 'bars' },
          { id: 'custom.fillOpacity', value: 80 },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
        ]),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Perte par cible', en: 'Loss per target' },
        description: {
          fr: 'Part des échos ICMP sans réponse, par cible (passerelle incluse).',
          en: 'Share of ICMP echoes without a reply, per target (gateway included).',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('ping', 'loss_pct')}) FROM ${ping} AND $timeFilter
             GROUP BY time($__interval), "target" fill(null)`,
          ).alias('$tag_target'),
        ],
      })
        .unit('percent')
        .min(0)
        .max(100)
        .drawStyle(common.GraphDrawStyle.Bars)
        .fillOpacity(60)
        .thresholds(thresholdSteps(th.lossPct))
        .thresholdsStyle(dashed()),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Gigue par cible', en: 'Jitter per target' },
        description: {
          fr: 'Variation des allers-retours successifs (gigue), par cible.',
          en: 'Variation between successive round trips (jitter), per target.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT mean(${f('ping', 'jitter_ms')}) FROM ${ping} AND $timeFilter
             GROUP BY time($__interval), "target" fill(null)`,
          ).alias('$tag_target'),
        ],
      })
        .unit('ms')
        .min(0)
        .thresholds(thresholdSteps(th.jitterMs))
        .thresholdsStyle(dashed()),
    )
    .withRow(new RowBuilder(tr(ctx, { fr: 'DNS et web', en: 'DNS and web' })))
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Temps de résolution DNS', en: 'DNS resolution time' },
        description: {
          fr: 'Durée moyenne des résolutions, par résolveur.',
          en: 'Mean resolution time, per resolver.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT mean(${f('dns', 'time_ms')}) FROM ${m('dns')} WHERE ${schoolFilter('dns')} AND $timeFilter
             GROUP BY time($__interval), "resolver" fill(null)`,
          ).alias('$tag_resolver'),
        ],
      }).unit('ms'),
    )
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: 'Échecs DNS', en: 'DNS failures' },
        description: {
          fr: 'Résolutions en échec sur la période, avec le code de réponse.',
          en: 'Failed resolutions in the period, with their response code.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT ${f('dns', 'rcode')} AS "rcode" FROM ${m('dns')}
             WHERE ${schoolFilter('dns')} AND ${f('dns', 'ok')} = false AND $timeFilter GROUP BY "resolver", "name"`,
          ).table(),
        ],
      }).withTransformation(
        renameColumns(ctx, {
          Time: { fr: 'Heure', en: 'Time' },
          resolver: { fr: 'Résolveur', en: 'Resolver' },
          name: { fr: 'Nom', en: 'Name' },
          rcode: { fr: 'Réponse', en: 'Response' },
        }),
      ),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Temps de réponse web', en: 'Web response time' },
        description: {
          fr: 'Premier octet et chargement complet, par service web utilisé par les enseignants.',
          en: 'Time to first byte and full load, per web service teachers use.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT mean(${f('http', 'ttfb_ms')}) AS "ttfb", mean(${f('http', 'total_ms')}) AS "total"
             FROM ${m('http')} WHERE ${schoolFilter('http')} AND $timeFilter
             GROUP BY time($__interval), "target" fill(null)`,
          ).alias('$tag_target $col'),
        ],
      })
        .unit('ms')
        .min(0)
        .thresholds(thresholdSteps(th.httpMs))
        .thresholdsStyle(dashed()),
    )
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: 'Services web : dernier résultat', en: 'Web services: latest result' },
        description: {
          fr: 'Dernier code HTTP, erreur éventuelle et jours restants du certificat TLS, par service.',
          en: 'Latest HTTP status, error if any and TLS certificate days left, per service.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT last(${f('http', 'status')}) AS "status", last(${f('http', 'cert_days_left')}) AS "cert_days_left"
             FROM ${m('http')} WHERE ${schoolFilter('http')} AND $timeFilter GROUP BY "target"`,
          ).table(),
        ],
      })
        .overrideByName('cert_days_left', [
          { id: 'thresholds', value: thresholdSteps(th.certDaysLeft, true).build() },
          { id: 'custom.cellOptions', value: { type: 'color-text' } },
          { id: 'unit', value: 'd' },
        ])
        .withTransformation(
          renameColumns(
            ctx,
            {
              target: { fr: 'Service', en: 'Service' },
              status: { fr: 'Code HTTP', en: 'HTTP status' },
              cert_days_left: { fr: 'Certificat', en: 'Certificate' },
            },
            ['Time'],
          ),
        ),
    )
    .withRow(new RowBuilder(tr(ctx, { fr: 'Lien internet', en: 'Internet link' })))
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Débit du lien, entrant et sortant', en: 'WAN throughput, in and out' },
        description: {
          fr: 'Débit mesuré sur l’interface du boîtier ou du routeur (SNMP) ; en pointillés, le débit descendant souscrit.',
          en: 'Throughput measured on the box interface or the router (SNMP); dashed, the contracted download rate.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT mean(${f('wan', 'in_bps')}) AS "in", mean(${f('wan', 'out_bps')}) AS "out"
             FROM ${m('wan')} WHERE ${schoolFilter('wan')} AND $timeFilter
             GROUP BY time($__interval), "iface" fill(null)`,
          ).alias('$tag_iface $col'),
          influxql(latestSchoolPoints({ contracted_down_bps: 'contracted_down' }, 'school'), 'B').table(),
        ],
      })
        .unit('bps')
        .min(0)
        // The contracted download rate (query B, from the registry) drawn as a dashed threshold line.
        .withTransformation({
          id: 'configFromData',
          options: {
            configRefId: 'B',
            mappings: [{ fieldName: 'contracted_down', handlerKey: 'threshold1' }],
          },
        })
        .thresholds(
          new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
            { value: null, color: 'green' },
            { value: 1e12, color: 'red' },
          ]),
        )
        .thresholdsStyle(dashed()),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Usage du lien, % du débit contractuel', en: 'WAN use, % of the contracted bandwidth' },
        description: {
          fr: 'Débit entrant rapporté au débit descendant souscrit, sortant au montant ; seuils de saturation en pointillés.',
          en: 'Inbound against the contracted download, outbound against the upload; saturation thresholds dashed.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('wan', 'in_pct')}) AS "in", max(${f('wan', 'out_pct')}) AS "out"
             FROM ${m('wan')} WHERE ${schoolFilter('wan')} AND $timeFilter
             GROUP BY time($__interval), "iface" fill(null)`,
          ).alias('$tag_iface $col'),
        ],
      })
        .unit('percent')
        .min(0)
        .thresholds(thresholdSteps(th.wanSaturationPct))
        .thresholdsStyle(dashed()),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Tests de débit', en: 'Speed tests' },
        description: {
          fr: 'Débits descendant et montant mesurés par les tests actifs réussis.',
          en: 'Download and upload rates measured by the successful active tests.',
        },
        w: 24,
        h: 8,
        queries: [
          influxql(
            `SELECT ${f('speedtest', 'down_bps')} AS "${tr(ctx, { fr: 'descendant', en: 'down' })}",
             ${f('speedtest', 'up_bps')} AS "${tr(ctx, { fr: 'montant', en: 'up' })}"
             FROM ${m('speedtest')} WHERE ${schoolFilter('speedtest')} AND ${f('speedtest', 'ok')} = true AND $timeFilter`,
          ).alias('$col'),
        ],
      })
        .unit('bps')
        .min(0)
        .drawStyle(common.GraphDrawStyle.Points)
        .pointSize(8),
    )
    .withRow(new RowBuilder(tr(ctx, { fr: 'Wi-Fi', en: 'Wi-Fi' })))
    .withPanel(
      timelinePanel(ctx, {
        title: { fr: "Points d'accès Wi-Fi : disponibilité", en: 'Wi-Fi access points: availability' },
        description: {
          fr: "Chaque point d'accès, en service ou non, au fil du temps.",
          en: 'Each access point, up or down, over time.',
        },
        w: 24,
        h: 6,
        queries: [
          influxql(
            `SELECT last(${f('wifi', 'up')}) FROM ${m('wifi')} WHERE ${schoolFilter('wifi')} AND $timeFilter
             GROUP BY time($__interval), "ap" fill(null)`,
          ).alias('$tag_ap'),
        ],
      })
        .mappings(booleanMappings(ctx, { fr: 'en service', en: 'up' }, { fr: 'hors service', en: 'down' }))
        .showValue(common.VisibilityMode.Never)
        .mergeValues(true),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: {
          fr: "Points d'accès : temps depuis le redémarrage",
          en: 'Access points: time since restart',
        },
        description: {
          fr: 'Uptime SNMP de chaque point d’accès : une chute signale un redémarrage.',
          en: 'SNMP uptime of each access point: a drop means a restart.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT last(${f('wifi', 'uptime_s')}) FROM ${m('wifi')} WHERE ${schoolFilter('wifi')} AND $timeFilter
             GROUP BY time($__interval), "ap" fill(null)`,
          ).alias('$tag_ap'),
        ],
      }).unit('s'),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Clients Wi-Fi', en: 'Wi-Fi clients' },
        description: {
          fr: "Appareils associés, par point d'accès.",
          en: 'Associated devices, per access point.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('wifi', 'clients')}) FROM ${m('wifi')} WHERE ${schoolFilter('wifi')} AND $timeFilter
             GROUP BY time($__interval), "ap" fill(null)`,
          ).alias('$tag_ap'),
        ],
      })
        .unit('short')
        .min(0)
        .colorScheme(fixed('purple')),
    )
    .withRow(new RowBuilder(tr(ctx, { fr: 'Coupures', en: 'Outages' })))
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: "Coupures de l'école, avec leur cause", en: "The school's outages, with their cause" },
        description: {
          fr: "Toute coupure qui touche la période, même commencée avant ; « en cours » : durée jusqu'à la fin de la période, cause connue à la fin. wan_cut : le boîtier répondait, le lien était coupé ; power_or_box : le boîtier lui-même était éteint ; unknown : indéterminé.",
          en: 'Every outage touching the period, even one that began before; "ongoing": duration up to the end of the period, cause known at its end. wan_cut: the box kept running, the link was cut; power_or_box: the box itself was down; unknown: undetermined.',
        },
        w: 24,
        h: 8,
        queries: [
          influxql(
            `SELECT "duration_s", "school_hours_s", "end_ms" FROM ${outageList(schoolFilter('outage'), 'school')}
             GROUP BY "cause"`,
          ).table(),
        ],
      })
        .unit('s')
        .withTransformation(
          renameColumns(ctx, {
            Time: { fr: 'Début', en: 'Start' },
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
