// Agents: the boxes themselves — which version runs where, whether their spool fills or drops,
// whether their clock drifts, and when each was last heard from.
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
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
  schoolLink,
  tr,
} from './kit.ts';
import { renameColumns, setup, statPanel, timeSeriesPanel } from './panels.ts';

export const AGENTS_UID = 'vigie-agents';

/** A clock may drift either way: red and orange on both sides of zero. */
function driftThresholds(levels: { warn: number; crit: number }) {
  const steps: Threshold[] = [
    { value: null, color: 'red' },
    { value: -levels.crit, color: 'orange' },
    { value: -levels.warn, color: 'green' },
    { value: levels.warn, color: 'orange' },
    { value: levels.crit, color: 'red' },
  ];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

export function agentsDashboard(ctx: BuildContext): Dashboard {
  const self = (extra = '') => `${m('agent')} WHERE ${fleetFilter('agent')}${extra}`;
  const perAgent = 'GROUP BY time($__interval), "uai", "agent" fill(null)';
  const builder = dashboardHeader(ctx, {
    title: { fr: 'Vigie — Agents', en: 'Vigie — Agents' },
    uid: AGENTS_UID,
    description: {
      fr: 'Les boîtiers de mesure : versions, file d’attente disque, horloge, dernier contact.',
      en: 'The measuring boxes: versions, disk spool, clock, last contact.',
    },
    tag: 'agents',
    from: 'now-24h',
    refresh: '1m',
    variables: fleetVariables(ctx),
  })
    .withPanel(
      statPanel(ctx, {
        title: { fr: 'Versions en service', en: 'Versions running' },
        description: {
          fr: "Nombre de versions différentes de l'agent vues sur la période : plus d'une, c'est un déploiement en cours ou oublié.",
          en: 'Distinct agent versions seen in the period: more than one means a rollout in progress, or forgotten.',
        },
        w: 6,
        h: 4,
        queries: [
          influxql(`SELECT count(distinct(${f('agent', 'version')})) FROM ${self()} AND $timeFilter`),
        ],
      }).graphMode(common.BigValueGraphMode.None),
    )
    .withPanel(
      statPanel(ctx, {
        title: { fr: 'Mesures perdues (file pleine)', en: 'Measurements dropped (spool full)' },
        description: {
          fr: "Plus grand compteur de lots abandonnés faute de place dans la file disque d'un agent.",
          en: 'Highest count of batches an agent dropped because its disk spool was full.',
        },
        w: 6,
        h: 4,
        queries: [influxql(`SELECT max(${f('agent', 'spool_dropped')}) FROM ${self()} AND $timeFilter`)],
      })
        .graphMode(common.BigValueGraphMode.None)
        .thresholds(
          new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
            { value: null, color: 'green' },
            { value: 1, color: 'red' },
          ]),
        )
        .colorMode(common.BigValueColorMode.Background),
    )
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: 'Dernier contact', en: 'Last seen' },
        description: {
          fr: 'Heure du dernier lot reçu de chaque agent, quelle que soit la période choisie, et son numéro de séquence.',
          en: 'Time of the latest batch received from each agent, whatever the chosen period, and its sequence number.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT last(${f('batch', 'seq')}) AS "seq" FROM ${m('batch')} WHERE ${fleetFilter('batch')} GROUP BY "uai", "agent"`,
          ).table(),
        ],
      })
        .sortBy([
          new common.TableSortByFieldStateBuilder().displayName(
            tr(ctx, { fr: 'Dernier lot', en: 'Last batch' }),
          ),
        ])
        .dataLinks([schoolLink(ctx, ROW_UAI)])
        .withTransformation(
          renameColumns(ctx, {
            Time: { fr: 'Dernier lot', en: 'Last batch' },
            uai: { fr: 'UAI', en: 'UAI' },
            agent: { fr: 'Agent', en: 'Agent' },
            seq: { fr: 'Séquence', en: 'Sequence' },
          }),
        ),
    )
    .withPanel(
      setup(new table.PanelBuilder(), ctx, {
        title: { fr: 'Agents : version et état', en: 'Agents: version and health' },
        description: {
          fr: 'Dernier relevé de chaque agent sur la période : version, temps de fonctionnement, mémoire, CPU, file disque.',
          en: 'Latest self-report of each agent in the period: version, uptime, memory, CPU, disk spool.',
        },
        w: 24,
        h: 9,
        queries: [
          influxql(
            `SELECT last(${f('agent', 'version')}) AS "version", last(${f('agent', 'uptime_s')}) AS "uptime_s",
             last(${f('agent', 'rss_bytes')}) AS "rss_bytes", last(${f('agent', 'cpu_pct')}) AS "cpu_pct",
             last(${f('agent', 'spool_bytes')}) AS "spool_bytes", last(${f('agent', 'spool_batches')}) AS "spool_batches",
             last(${f('agent', 'spool_dropped')}) AS "spool_dropped"
             FROM ${self()} AND $timeFilter GROUP BY "uai", "agent"`,
          ).table(),
        ],
      })
        .overrideByName('uptime_s', [{ id: 'unit', value: 's' }])
        .overrideByName('rss_bytes', [{ id: 'unit', value: 'bytes' }])
        .overrideByName('spool_bytes', [{ id: 'unit', value: 'bytes' }])
        .overrideByName('cpu_pct', [{ id: 'unit', value: 'percent' }])
        .dataLinks([schoolLink(ctx, ROW_UAI)])
        .withTransformation(
          renameColumns(
            ctx,
            {
              uai: { fr: 'UAI', en: 'UAI' },
              agent: { fr: 'Agent', en: 'Agent' },
              version: { fr: 'Version', en: 'Version' },
              uptime_s: { fr: 'En service depuis', en: 'Uptime' },
              rss_bytes: { fr: 'Mémoire', en: 'Memory' },
              cpu_pct: { fr: 'CPU', en: 'CPU' },
              spool_bytes: { fr: 'File (octets)', en: 'Spool (bytes)' },
              spool_batches: { fr: 'File (lots)', en: 'Spool (batches)' },
              spool_dropped: { fr: 'Lots perdus', en: 'Batches dropped' },
            },
            ['Time'],
          ),
        ),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Taille de la file disque', en: 'Disk spool size' },
        description: {
          fr: 'Octets en attente de publication : une file qui grossit, c’est un agent qui ne joint plus le collecteur.',
          en: 'Bytes waiting to be published: a growing spool is an agent that cannot reach the collector.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('agent', 'spool_bytes')}) FROM ${self()} AND $timeFilter ${perAgent}`,
          ).alias('$tag_uai/$tag_agent'),
        ],
      })
        .unit('bytes')
        .min(0),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Lots perdus (cumul)', en: 'Batches dropped (cumulative)' },
        description: {
          fr: "Compteur de lots abandonnés par l'agent quand sa file disque était pleine, depuis son démarrage.",
          en: 'Batches the agent dropped because its disk spool was full, counted since it started.',
        },
        w: 12,
        h: 8,
        queries: [
          influxql(
            `SELECT max(${f('agent', 'spool_dropped')}) FROM ${self()} AND $timeFilter ${perAgent}`,
          ).alias('$tag_uai/$tag_agent'),
        ],
      })
        .unit('short')
        .min(0),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: "Dérive d'horloge", en: 'Clock drift' },
        description: {
          fr: "Écart entre l'horloge du collecteur et celle de l'agent (minimum sur l'intervalle, qui retire le délai de transmission) ; seuils de l'alerte.",
          en: "Offset between the collector's clock and the agent's (minimum over the interval, which removes transit delay); alert thresholds.",
        },
        w: 24,
        h: 8,
        queries: [
          influxql(
            `SELECT min(${f('batch', 'clock_offset_ms')}) FROM ${m('batch')} WHERE ${fleetFilter('batch')} AND $timeFilter ${perAgent}`,
          ).alias('$tag_uai/$tag_agent'),
        ],
      })
        .unit('ms')
        .thresholds(driftThresholds(ctx.thresholds.clockDriftMs))
        .thresholdsStyle(
          new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
        ),
    )
    .withPanel(
      timeSeriesPanel(ctx, {
        title: { fr: 'Horloge corrigée par le collecteur', en: 'Clock corrected by the collector' },
        description: {
          fr: "Quand l'horloge d'un agent est décalée de plus de 2 s, le collecteur enregistre ses mesures à l'heure corrigée et les marque (champ clock_offset_s) : de combien de secondes l'agent avance (négatif : retarde). Vide tant que toutes les horloges sont justes.",
          en: "When an agent's clock is more than 2 s off, the collector stores its measurements at the corrected time and flags them (field clock_offset_s): how many seconds the agent runs ahead (negative: behind). Empty while every clock is right.",
        },
        w: 24,
        h: 8,
        queries: [
          influxql(
            `SELECT last(${f('batch', 'clock_offset_s')}) FROM ${m('batch')} WHERE ${fleetFilter('batch')} AND $timeFilter ${perAgent}`,
          ).alias('$tag_uai/$tag_agent'),
        ],
      }).unit('s'),
    );
  return finish(builder);
}
