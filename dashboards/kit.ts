// What every dashboard module shares: language, thresholds, schema-checked names, panel ids.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  type Dashboard,
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  type Panel,
  QueryVariableBuilder,
  type RowPanel,
  type Threshold,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { resolveCollectorConfig } from '../collector/config.ts';
import { COLLECTOR_MEASUREMENTS, SAMPLE_MEASUREMENTS } from '../collector/schema.ts';
import type { Thresholds } from '../collector/thresholds.ts';
import { INFLUX_DATASOURCE, id } from './influxql.ts';

export type Lang = 'fr' | 'en';
export const LANGS: readonly Lang[] = ['fr', 'en'];
export interface Text {
  fr: string;
  en: string;
}

export interface BuildContext {
  lang: Lang;
  thresholds: Thresholds;
}

export const tr = (ctx: BuildContext, text: Text): string => text[ctx.lang];

/** Every measurement the dashboards may read, with its tags and fields, from the one schema table. */
const KNOWN: Record<string, { tags: Set<string>; fields: Set<string> }> = {};
for (const spec of Object.values(SAMPLE_MEASUREMENTS)) {
  KNOWN[spec.measurement] = {
    tags: new Set(['uai', 'agent', 'commune', 'isp', ...Object.keys(spec.tags)]),
    fields: new Set(Object.keys(spec.fields)),
  };
}
for (const spec of Object.values(COLLECTOR_MEASUREMENTS)) {
  KNOWN[spec.measurement] = { tags: new Set(spec.tags), fields: new Set(Object.keys(spec.fields)) };
}

function known(measurement: string) {
  const spec = KNOWN[measurement];
  if (!spec) throw new Error(`dashboards: measurement "${measurement}" is not in collector/schema.ts`);
  return spec;
}

/** A measurement name, quoted; throws at build time if the schema has no such measurement. */
export function m(measurement: string): string {
  known(measurement);
  return id(measurement);
}

const ROLLUP_POLICY = resolveCollectorConfig({}).retention.rollup.name;

/**
 * The rollup policy's copy of a measurement, for figures over a school year: the raw policy keeps
 * only months. Named as the collector's default config names it.
 */
export function mLong(measurement: string): string {
  known(measurement);
  return `${id(ROLLUP_POLICY)}.${id(measurement)}`;
}

/** A field of a measurement, quoted; throws at build time if the schema has no such field. */
export function f(measurement: string, field: string): string {
  if (!known(measurement).fields.has(field)) {
    throw new Error(`dashboards: field "${field}" is not in measurement "${measurement}"`);
  }
  return id(field);
}

/** A tag of a measurement, quoted; throws at build time if the schema has no such tag. */
export function t(measurement: string, tag: string): string {
  if (!known(measurement).tags.has(tag)) {
    throw new Error(`dashboards: tag "${tag}" is not in measurement "${measurement}"`);
  }
  return id(tag);
}

/** The fleet filter: commune and ISP variables are multi-valued, so Grafana turns them into regexes. */
export const fleetFilter = (measurement: string): string =>
  `${t(measurement, 'commune')} =~ /^$commune$/ AND ${t(measurement, 'isp')} =~ /^$isp$/`;

/** One school: the UAI variable holds a single value of 7 digits and a letter, safe inside quotes. */
export const schoolFilter = (measurement: string): string => `${t(measurement, 'uai')} = '$uai'`;

/** Green below warn, orange from warn, red from crit (or the reverse when lower is worse). */
export function thresholdSteps(
  levels: { warn: number; crit: number },
  lowerIsWorse = false,
): cog.Builder<import('@grafana/grafana-foundation-sdk/dashboard').ThresholdsConfig> {
  const steps: Threshold[] = lowerIsWorse
    ? [
        { value: null, color: 'red' },
        { value: levels.crit, color: 'orange' },
        { value: levels.warn, color: 'green' },
      ]
    : [
        { value: null, color: 'green' },
        { value: levels.warn, color: 'orange' },
        { value: levels.crit, color: 'red' },
      ];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

/** Fleet variables: commune, then ISP within the chosen communes. Multi-select, "All" as a regex. */
export function fleetVariables(ctx: BuildContext): QueryVariableBuilder[] {
  const source = m(COLLECTOR_MEASUREMENTS.batch.measurement);
  const commune = new QueryVariableBuilder('commune')
    .label(tr(ctx, { fr: 'Commune', en: 'Municipality' }))
    .datasource(INFLUX_DATASOURCE)
    .query(`SHOW TAG VALUES FROM ${source} WITH KEY = "commune"`)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalCaseInsensitiveAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
  const isp = new QueryVariableBuilder('isp')
    .label(tr(ctx, { fr: 'Opérateur', en: 'ISP' }))
    .datasource(INFLUX_DATASOURCE)
    .query(`SHOW TAG VALUES FROM ${source} WITH KEY = "isp" WHERE "commune" =~ /^$commune$/`)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalCaseInsensitiveAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
  return [commune, isp];
}

/** What sets one Vigie dashboard apart in its header; the rest is the same for all of them. */
export interface DashboardHeader {
  title: Text;
  uid: string;
  description: Text;
  /** The second tag, after `vigie` (which the dashboards menu lists). */
  tag: string;
  /** Grafana relative time, e.g. `now-24h`. */
  from: string;
  /** Auto-refresh interval, e.g. `1m`; none for dashboards of long periods. */
  refresh?: string;
  variables: QueryVariableBuilder[];
}

/** A read-only dashboard with its title, description, tags, default range, variables and the Vigie menu. */
export function dashboardHeader(ctx: BuildContext, h: DashboardHeader): DashboardBuilder {
  const builder = new DashboardBuilder(tr(ctx, h.title))
    .uid(h.uid)
    .description(tr(ctx, h.description))
    .tags(['vigie', h.tag])
    .time({ from: h.from, to: 'now' });
  if (h.refresh) builder.refresh(h.refresh);
  return builder.timezone('browser').readonly().variables(h.variables).link(vigieLinks(ctx));
}

/** A menu of the other Vigie dashboards, keeping the time range. */
export const vigieLinks = (ctx: BuildContext) =>
  new DashboardLinkBuilder(tr(ctx, { fr: 'Tableaux Vigie', en: 'Vigie dashboards' }))
    .type(DashboardLinkType.Dashboards)
    .tags(['vigie'])
    .asDropdown(true)
    .keepTime(true)
    .includeVars(false);

/** Grafana data-link placeholders: the UAI of a table row, or in a series' labels. */
export const ROW_UAI = ['$', '{__data.fields.uai}'].join('');
export const SERIES_UAI = ['$', '{__field.labels.uai}'].join('');

/** The school dashboard for the UAI in a table row (`${__data.fields.uai}`) or a series label. */
export const SCHOOL_URL = (uai: string) => `/d/vigie-school/vigie-school?var-uai=${uai}&\${__url_time_range}`;

export function schoolLink(ctx: BuildContext, uai: string) {
  return new DashboardLinkBuilder(tr(ctx, { fr: "Voir l'école", en: 'Open the school' })).url(
    SCHOOL_URL(uai),
  );
}

/**
 * Builds the dashboard and numbers its panels 1..n in layout order (rows and their panels included):
 * stable ids keep links and Grafana's saved panel state valid across builds.
 */
export function finish(builder: DashboardBuilder): Dashboard {
  const dashboard = builder.build();
  let next = 1;
  const number = (panels: (Panel | RowPanel)[] | undefined) => {
    for (const panel of panels ?? []) {
      panel.id = next++;
      if (panel.type === 'row') number((panel as RowPanel).panels);
    }
  };
  number(dashboard.panels);
  return dashboard;
}
