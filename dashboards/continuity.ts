// Continuity (SLA): the figures a yearly review of the digital plan needs. The first row is the
// availability engine's (shared/availability, docs/report.md): per school and calendar month in local
// time, in school hours, written by the collector as `availability_month` points
// (collector/availability-points.ts), the same figures as `vigie report`. InfluxQL has no calendar
// months, school hours or holidays, so nothing here recomputes them: it sums the stored hours and
// computes every rate from the sums (weighted by open time, never averaged percentages), within
// [0, 100] %. The second row is the displayed range day and night, from presence (dashboards/period.ts).
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import { type Dashboard, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { influxql } from './influxql.ts';
import {
  type BuildContext,
  dashboardHeader,
  f,
  finish,
  fleetFilter,
  fleetVariables,
  mLong,
  type Text,
  tr,
} from './kit.ts';
import { schoolRateTable, setup, statPanel, timeSeriesPanel } from './panels.ts';
import {
  COMMUNE,
  clampPct,
  FROM_MS,
  finishedOutages,
  ISP,
  offlineRowsByPointIsp,
  openOutages,
  outageAnnotations,
  PERIOD_MS,
  schoolPeriods,
  TO_MS,
} from './period.ts';

export const CONTINUITY_UID = 'vigie-continuity';

// The second row: offline time, outage counts and calendar uptime come from the schools' states
// (dashboards/period.ts), which see outages still going on and clip every outage to the range; causes
// exist only on finished outages, read from the long policy (collector/retention.ts).
const finished = () => `(${finishedOutages(mLong('outage'), fleetFilter('outage'))})`;

const AV = 'availability_month';
/**
 * The calendar months the range touches: each point is stamped at its month's local start and holds
 * its end, so a range of a few hours still shows its month. A month is at most 31 days and an hour.
 */
const months = () =>
  `${mLong(AV)} WHERE ${fleetFilter(AV)} AND time < ${TO_MS}ms AND time > ${FROM_MS}ms - 32d AND ${f(AV, 'end_ms')} > ${FROM_MS}`;
/** Sums over the months (and schools) of a group: `up`, `lost`, `open` hours, `outages`, `longest` s. */
const sums = (groupBy = '') =>
  `SELECT sum(${f(AV, 'up_h')}) AS "up", sum(${f(AV, 'lost_h')}) AS "lost", sum(${f(AV, 'open_h')}) AS "open",
   sum(${f(AV, 'outages')}) AS "outages", max(${f(AV, 'longest_outage_s')}) AS "longest"
   FROM ${months()}${groupBy ? ` GROUP BY ${groupBy}` : ''}`;
/** Availability in school hours: 100 × up / (up + lost); only where something was measured. */
const AVAILABILITY = clampPct('100 * "up" / ("up" + "lost")');
const MEASURED = '"up" + "lost" > 0';
/** Coverage: 100 × (up + lost) / open; only where the school was open. */
const COVERAGE = clampPct('100 * ("up" + "lost") / "open"');
/** One bucket per month: points are stamped at a local midnight, a multiple of 15 minutes in every zone. */
const PER_MONTH = 'GROUP BY time(15m) fill(none)';
const CAUSES = ['wan_cut', 'power_or_box', 'unknown'] as const;

function figure(ctx: BuildContext, title: Text, description: Text, query: string, unit: string, w = 6) {
  return statPanel(ctx, {
    title,
    description,
    w,
    h: 4,
    queries: [influxql(query)],
  })
    .unit(unit)
    .noValue('0')
    .graphMode(common.BigValueGraphMode.None);
}

const SCHOOL_HOURS_AVAILABILITY: [Text, Text] = [
  { fr: 'Disponibilité en heures de classe', en: 'Availability in school hours' },
  {
    fr: "100 % × temps d'ouverture en ligne / temps d'ouverture mesuré, toutes écoles, sur les mois calendaires (heure locale) que touche la période. Sommes d'heures, pas moyenne de pourcentages : une école pèse son temps d'ouverture. Sans mesure, ni en ligne ni en coupure : voir « Couverture ».",
    en: 'Share of measured open time the schools were online, all schools, over the calendar months (local time) the range touches. Sums of hours, not an average of percentages: each school weighs its open time. Time with no data counts neither as up nor as down: see "Coverage".',
  },
];
const COVERAGE_TEXT: [Text, Text] = [
  { fr: 'Couverture des mesures', en: 'Data coverage' },
  {
    fr: "Part du temps d'ouverture où l'état des écoles est connu (des mesures ou une coupure) : sous 100 %, une partie du temps n'est pas mesurée.",
    en: "Share of open time when the schools' state is known (data or an outage): below 100 %, part of the time was not measured.",
  },
];

/** The rate columns of the two per-school tables (their sort key). */
const AVAILABILITY_LABEL: Text = { fr: 'Disponibilité', en: 'Availability' };
const UPTIME_LABEL: Text = { fr: 'Disponibilité', en: 'Uptime' };

/** A percentage: 0–100, two decimals, "no data" rather than 0 when there is nothing to judge. */
function pctFigure(ctx: BuildContext, [title, description]: [Text, Text], query: string) {
  return figure(ctx, title, description, query, 'percent')
    .decimals(2)
    .min(0)
    .max(100)
    .noValue(tr(ctx, { fr: 'pas de mesure', en: 'no data' }));
}

/** Per school over the months the range touches: availability, coverage, hours lost, outages. */
function schoolTable(ctx: BuildContext) {
  const bySchool = '"uai", "commune", "isp"';
  return schoolRateTable(ctx, {
    title: { fr: 'Disponibilité par école', en: 'Availability per school' },
    description: {
      fr: 'Par école, sur les mois calendaires que touche la période, en heures de classe (profil horaire, vacances et jours fériés) : disponibilité = 100 % × en ligne / mesuré ; couverture = mesuré / ouvert ; heures perdues ; coupures (une coupure sur deux mois compte dans chacun) ; plus longue coupure dans un mois. Vide : rien de mesuré. Les écoles du référentiel seulement.',
      en: 'Per school, over the calendar months the range touches, in school hours (hours profile, holidays, public holidays): availability = 100 % × online / measured; coverage = measured / open; hours lost; outages (one over two months counts in each); longest outage within a month. Empty: nothing measured. Schools of the registry only.',
    },
    w: 24,
    h: 10,
    queries: [
      influxql(
        `SELECT ${AVAILABILITY} AS "availability_pct" FROM (${sums(bySchool)}) WHERE ${MEASURED} GROUP BY ${bySchool}`,
        'A',
      ).table(),
      influxql(
        `SELECT ${COVERAGE} AS "coverage_pct" FROM (${sums(bySchool)}) WHERE "open" > 0 GROUP BY "uai"`,
        'B',
      ).table(),
      influxql(
        `SELECT "lost" AS "lost_h", "open" AS "open_h", "outages", "longest" AS "longest_s" FROM (${sums(bySchool)}) GROUP BY "uai"`,
        'C',
      ).table(),
    ],
    unit: 'h',
    decimals: 2,
    rate: {
      field: 'availability_pct',
      label: AVAILABILITY_LABEL,
      properties: [
        { id: 'min', value: 0 },
        { id: 'max', value: 100 },
      ],
      orange: 95,
      green: 99,
    },
    overrides: [
      [
        'outages',
        [
          { id: 'unit', value: 'short' },
          { id: 'decimals', value: 0 },
        ],
      ],
      ['longest_s', [{ id: 'unit', value: 's' }]],
    ],
    columns: {
      uai: { fr: 'UAI', en: 'UAI' },
      commune: { fr: 'Commune', en: 'Municipality' },
      isp: { fr: 'Opérateur', en: 'ISP' },
      availability_pct: AVAILABILITY_LABEL,
      coverage_pct: { fr: 'Couverture', en: 'Coverage' },
      lost_h: { fr: 'Heures perdues', en: 'Hours lost' },
      open_h: { fr: "Heures d'ouverture", en: 'Open hours' },
      outages: { fr: 'Coupures', en: 'Outages' },
      longest_s: { fr: 'Plus longue', en: 'Longest' },
    },
    hide: ['Time', 'Time 1', 'Time 2', 'Time 3'],
  });
}

/** One bar per calendar month (local time): availability and coverage of the fleet (or the filter). */
function monthlyTrend(ctx: BuildContext) {
  const perMonth = `SELECT sum(${f(AV, 'up_h')}) AS "up", sum(${f(AV, 'lost_h')}) AS "lost", sum(${f(AV, 'open_h')}) AS "open" FROM ${months()} ${PER_MONTH}`;
  return timeSeriesPanel(ctx, {
    title: { fr: 'Tendance mensuelle', en: 'Monthly trend' },
    description: {
      fr: "Un point par mois calendaire en heure locale (du 1er à minuit au 1er suivant) : disponibilité en heures de classe et couverture des mesures, toutes écoles du filtre, pondérées par leur temps d'ouverture. Le mois en cours s'arrête à maintenant.",
      en: 'One point per calendar month in local time (the 1st at midnight to the next 1st): availability in school hours and data coverage, all schools of the filter, weighted by their open time. The current month stops at now.',
    },
    w: 24,
    h: 9,
    queries: [
      influxql(
        `SELECT ${AVAILABILITY} AS "${tr(ctx, { fr: 'disponibilité', en: 'availability' })}" FROM (${perMonth}) WHERE ${MEASURED}`,
        'A',
      ).alias('$col'),
      influxql(
        `SELECT ${COVERAGE} AS "${tr(ctx, { fr: 'couverture', en: 'coverage' })}" FROM (${perMonth}) WHERE "open" > 0`,
        'B',
      ).alias('$col'),
    ],
  })
    .unit('percent')
    .decimals(2)
    .min(0)
    .max(100)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(70);
}

/** Teaching hours lost per calendar month, stacked by cause. */
function lostByCause(ctx: BuildContext) {
  const columns = CAUSES.map((c) => `sum(${f(AV, `lost_min_${c}`)}) / 60 AS "${c}"`).join(', ');
  return timeSeriesPanel(ctx, {
    title: {
      fr: 'Heures de classe perdues par mois, par cause',
      en: 'Teaching hours lost per month, by cause',
    },
    description: {
      fr: "Temps d'ouverture en coupure, par mois calendaire et par cause (après reclassement) : wan_cut, lien coupé, boîtier joignable ; power_or_box, boîtier ou courant ; unknown, indéterminé ou coupure en cours.",
      en: 'Open time in an outage, per calendar month and cause (after reclassification): wan_cut, link cut, box reachable; power_or_box, box or power; unknown, undetermined or still going on.',
    },
    w: 24,
    h: 8,
    queries: [influxql(`SELECT ${columns} FROM ${months()} ${PER_MONTH}`).alias('$col')],
  })
    .unit('h')
    .min(0)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(70)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
}

/** A commune's or an ISP's availability: its schools' hours summed, the rate from the sums. */
function groupAvailability(ctx: BuildContext, by: 'commune' | 'isp', title: Text) {
  return setup(new bargauge.PanelBuilder(), ctx, {
    title,
    description: {
      fr: "Disponibilité en heures de classe du groupe = 100 % × Σ en ligne / Σ mesuré sur ses écoles et les mois que touche la période : une école pèse son temps d'ouverture, jamais une moyenne de pourcentages.",
      en: "The group's availability in school hours = 100 % × Σ online / Σ measured over its schools and the months the range touches: each school weighs its open time, never an average of percentages.",
    },
    w: 12,
    h: 8,
    queries: [
      influxql(
        `SELECT ${AVAILABILITY} AS "availability_pct" FROM (${sums(`"${by}"`)}) WHERE ${MEASURED} GROUP BY "${by}"`,
      ).alias(`$tag_${by}`),
    ],
  })
    .unit('percent')
    .decimals(2)
    .min(0)
    .max(100)
    .orientation(common.VizOrientation.Horizontal)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export function continuityDashboard(ctx: BuildContext): Dashboard {
  const builder = dashboardHeader(ctx, {
    title: { fr: 'Vigie — Continuité de service', en: 'Vigie — Service continuity (SLA)' },
    uid: CONTINUITY_UID,
    description: {
      fr: "Disponibilité de l'accès internet des écoles en heures de classe, par mois calendaire : les chiffres du rapport annuel (vigie report) pour le bilan du plan numérique.",
      en: 'Availability of the schools’ internet access in school hours, per calendar month: the figures of the yearly report (vigie report) for the review of the digital plan.',
    },
    tag: 'sla',
    from: 'now-1y',
    variables: fleetVariables(ctx),
  })
    .annotation(outageAnnotations(ctx, fleetFilter('outage'), 'fleet', mLong('outage')))
    .withRow(
      new RowBuilder(
        tr(ctx, {
          fr: 'Mois calendaires, en heures de classe (moteur de disponibilité)',
          en: 'Calendar months, in school hours (availability engine)',
        }),
      ),
    )
    .withPanel(
      pctFigure(ctx, SCHOOL_HOURS_AVAILABILITY, `SELECT ${AVAILABILITY} FROM (${sums()}) WHERE ${MEASURED}`),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Heures de classe perdues', en: 'Teaching hours lost' },
        {
          fr: "Temps d'ouverture des écoles passé en coupure, toutes écoles, sur les mois calendaires que touche la période (une coupure en cours compte jusqu'à maintenant).",
          en: 'Open time the schools spent in an outage, all schools, over the calendar months the range touches (an outage still going on counts up to now).',
        },
        `SELECT sum(${f(AV, 'lost_h')}) FROM ${months()}`,
        'h',
      ),
    )
    .withPanel(pctFigure(ctx, COVERAGE_TEXT, `SELECT ${COVERAGE} FROM (${sums()}) WHERE "open" > 0`))
    .withPanel(
      figure(
        ctx,
        { fr: 'Coupures en heures de classe', en: 'Outages in school hours' },
        {
          fr: "Coupures qui ont pris du temps d'ouverture, par mois : une coupure sur deux mois compte dans chacun.",
          en: 'Outages that took open time, per month: an outage over two months counts in each.',
        },
        `SELECT sum(${f(AV, 'outages')}) FROM ${months()}`,
        'short',
      ),
    )
    .withPanel(schoolTable(ctx))
    .withPanel(monthlyTrend(ctx))
    .withPanel(lostByCause(ctx))
    .withPanel(
      groupAvailability(ctx, 'commune', {
        fr: 'Disponibilité par commune',
        en: 'Availability per municipality',
      }),
    )
    .withPanel(
      groupAvailability(ctx, 'isp', { fr: 'Disponibilité par opérateur', en: 'Availability per ISP' }),
    )
    .withRow(
      new RowBuilder(
        tr(ctx, {
          fr: 'La période affichée, jour et nuit (présence)',
          en: 'The displayed range, day and night (presence)',
        }),
      ),
    )
    .withPanel(
      figure(
        ctx,
        { fr: 'Coupures', en: 'Outages' },
        {
          fr: 'Nombre de coupures qui touchent la période, terminées ou en cours.',
          en: 'Number of outages touching the period, finished or still going on.',
        },
        `SELECT sum("outages") FROM (${schoolPeriods('fleet')})`,
        'short',
        8,
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
        `SELECT sum("down_ms") / 1000 FROM (${schoolPeriods('fleet')})`,
        's',
        8,
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
        `SELECT max("longest_ms") / 1000 FROM (${schoolPeriods('fleet')})`,
        's',
        8,
      ),
    )
    .withPanel(
      schoolRateTable(ctx, {
        title: { fr: 'Disponibilité jour et nuit par école', en: 'Uptime per school' },
        description: {
          fr: "Disponibilité = 100 % × (1 − temps hors ligne / temps observé), entre 0 et 100 %. Temps observé : la part de la période où l'état de l'école était connu (« Couverture ») ; une coupure commencée avant la période ou encore en cours compte pour sa part dans la période. Une école sans donnée sur la période n'est pas listée. « Heures de classe » : coupures terminées, au prorata.",
          en: 'Uptime = 100 % × (1 − offline time / observed time), between 0 and 100 %. Observed time: the part of the period when the school\'s state was known ("Coverage"); an outage that began before the period or is still going on counts for its part inside. A school with no data in the period is not listed. "School hours": finished outages, prorated.',
        },
        w: 24,
        h: 10,
        queries: [
          influxql(
            `SELECT ${COMMUNE} AS "commune", ${ISP} AS "isp", ${clampPct('100 - 100 * "down_ms" / "observed_ms"')} AS "uptime_pct",
             ${clampPct(`100 * "observed_ms" / ${PERIOD_MS}`)} AS "coverage_pct", "outages",
             "down_ms" / 1000 AS "downtime_s", "longest_ms" / 1000 AS "longest_s"
             FROM (${schoolPeriods('fleet')}) WHERE "observed_ms" > 0 GROUP BY "uai"`,
            'A',
          ).table(),
          influxql(
            `SELECT sum("period_school_hours_s") AS "school_hours_s" FROM ${finished()} GROUP BY "uai"`,
            'B',
          ).table(),
        ],
        unit: 's',
        rate: {
          field: 'uptime_pct',
          label: UPTIME_LABEL,
          properties: [{ id: 'decimals', value: 3 }],
          orange: 99,
          green: 99.9,
        },
        overrides: [['outages', [{ id: 'unit', value: 'short' }]]],
        columns: {
          uai: { fr: 'UAI', en: 'UAI' },
          commune: { fr: 'Commune', en: 'Municipality' },
          isp: { fr: 'Opérateur', en: 'ISP' },
          uptime_pct: UPTIME_LABEL,
          coverage_pct: { fr: 'Couverture', en: 'Coverage' },
          outages: { fr: 'Coupures', en: 'Outages' },
          downtime_s: { fr: 'Durée cumulée', en: 'Total downtime' },
          school_hours_s: { fr: 'Dont heures de classe', en: 'Of which school hours' },
          longest_s: { fr: 'Plus longue', en: 'Longest' },
        },
        hide: ['Time', 'Time 1', 'Time 2'],
      }),
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
          influxql(`SELECT count("start_ms") FROM (${openOutages('fleet')})`, 'B').alias(
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
          influxql(`SELECT sum("down_ms") / 1000 FROM ${offlineRowsByPointIsp()} GROUP BY "isp"`).alias(
            '$tag_isp',
          ),
        ],
      })
        .unit('s')
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false)),
    );
  return finish(builder);
}
