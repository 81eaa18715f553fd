// Small shapes shared by the dashboards: a panel's common settings, state colours, table sorting, the
// per-school rate tables.
import * as common from '@grafana/grafana-foundation-sdk/common';
import { MappingType, SpecialValueMatch, type ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { PRESENCE_STATE_CODES } from '../collector/schema.ts';
import { INFLUX_DATASOURCE, type InfluxQueryBuilder } from './influxql.ts';
import { type BuildContext, ROW_UAI, schoolLink, type Text, tr } from './kit.ts';

export interface PanelSpec {
  title: Text;
  description: Text;
  w: number;
  h: number;
  queries: InfluxQueryBuilder[];
}

interface CommonPanelBuilder {
  title(title: string): unknown;
  description(description: string): unknown;
  datasource(ref: typeof INFLUX_DATASOURCE): unknown;
  span(w: number): unknown;
  height(h: number): unknown;
  withTarget(target: InfluxQueryBuilder): unknown;
}

/** Title, description, size, datasource and queries: what every panel sets the same way. */
export function setup<B extends CommonPanelBuilder>(builder: B, ctx: BuildContext, spec: PanelSpec): B {
  builder.title(tr(ctx, spec.title));
  builder.description(tr(ctx, spec.description));
  builder.datasource(INFLUX_DATASOURCE);
  builder.span(spec.w);
  builder.height(spec.h);
  for (const q of spec.queries) builder.withTarget(q);
  return builder;
}

/** A single-figure panel showing the latest non-null value (Grafana's stat default is no calculation). */
export const statPanel = (ctx: BuildContext, spec: PanelSpec): stat.PanelBuilder =>
  setup(new stat.PanelBuilder(), ctx, spec)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.None);

/**
 * A graph with a table legend (mean, max, last per series) and a tooltip listing every series:
 * the SDK's defaults hide the legend, which leaves per-target series unnamed.
 */
export const timeSeriesPanel = (ctx: BuildContext, spec: PanelSpec): timeseries.PanelBuilder =>
  setup(new timeseries.PanelBuilder(), ctx, spec)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );

/** A state timeline with its legend of states shown. */
export const timelinePanel = (ctx: BuildContext, spec: PanelSpec): statetimeline.PanelBuilder =>
  setup(new statetimeline.PanelBuilder(), ctx, spec).legend(
    new common.VizLegendOptionsBuilder()
      .showLegend(true)
      .displayMode(common.LegendDisplayMode.List)
      .placement(common.LegendPlacement.Bottom),
  );

export const STATE_TEXT: Record<keyof typeof PRESENCE_STATE_CODES, [Text, string]> = {
  online: [{ fr: 'en ligne', en: 'online' }, 'green'],
  degraded: [{ fr: 'dégradé', en: 'degraded' }, 'orange'],
  offline: [{ fr: 'hors ligne', en: 'offline' }, 'red'],
  unknown: [{ fr: 'inconnu', en: 'unknown' }, 'text'],
};

/** presence.state_code → coloured words, for stats, tables, maps and state timelines. */
export function stateMappings(ctx: BuildContext): ValueMapping[] {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  let index = 0;
  for (const [state, code] of Object.entries(PRESENCE_STATE_CODES)) {
    const [text, color] = STATE_TEXT[state as keyof typeof PRESENCE_STATE_CODES];
    options[String(code)] = { text: tr(ctx, text), color, index: index++ };
  }
  return [{ type: MappingType.ValueToText, options }];
}

/** Booleans (Wi-Fi up, probe ok) as words and colours. */
export function booleanMappings(ctx: BuildContext, yes: Text, no: Text): ValueMapping[] {
  return [
    {
      type: MappingType.ValueToText,
      options: {
        true: { text: tr(ctx, yes), color: 'green', index: 0 },
        false: { text: tr(ctx, no), color: 'red', index: 1 },
      },
    },
  ];
}

/** Joins the frames of several table queries on one column (e.g. schools and their state by UAI). */
export const joinBy = (field: string) => ({ id: 'joinByField', options: { byField: field, mode: 'outer' } });

/** Renames table columns for display; keys are query aliases, values the words shown. */
export const renameColumns = (ctx: BuildContext, names: Record<string, Text>, hide: string[] = []) => ({
  id: 'organize',
  options: {
    excludeByName: Object.fromEntries(hide.map((h) => [h, true])),
    renameByName: Object.fromEntries(Object.entries(names).map(([k, v]) => [k, tr(ctx, v)])),
  },
});

/** The end of an outage as a date, "ongoing" when it has none yet (table column overrides). */
export const ongoingEnd = (ctx: BuildContext) => [
  { id: 'unit', value: 'dateTimeAsIso' },
  {
    id: 'mappings',
    value: [
      {
        type: MappingType.SpecialValue,
        options: {
          match: SpecialValueMatch.Null,
          result: { text: tr(ctx, { fr: 'en cours', en: 'ongoing' }), color: 'red', index: 0 },
        },
      },
    ],
  },
];

/** A field override's properties, as Grafana's JSON has them. */
export type FieldProperty = { id: string; value: unknown };

export interface SchoolRateTableSpec extends PanelSpec {
  /** Unit of every column not overridden (e.g. 'h', 's'). */
  unit: string;
  /** Decimals of every column not overridden; Grafana's automatic choice when absent. */
  decimals?: number;
  /** The rate column, in percent, coloured red below `orange`, orange below `green`, green from it. */
  rate: {
    field: string;
    label: Text;
    /** Properties between its unit and its thresholds (e.g. min/max, decimals). */
    properties: FieldProperty[];
    orange: number;
    green: number;
  };
  /** Overrides of further columns, after `coverage_pct` (percent, 1 decimal). */
  overrides: [string, FieldProperty[]][];
  /** Column names as the queries alias them → the words shown. */
  columns: Record<string, Text>;
  /** Columns hidden (the frames' times). */
  hide: string[];
}

/**
 * A table with one row per school joined by UAI from several table queries: a rate column coloured
 * by thresholds and sorted on (worst first is Grafana's ascending order), a `coverage_pct` column,
 * each row linking to its school's board.
 */
export function schoolRateTable(ctx: BuildContext, spec: SchoolRateTableSpec): table.PanelBuilder {
  const builder = setup(new table.PanelBuilder(), ctx, spec).unit(spec.unit);
  if (spec.decimals !== undefined) builder.decimals(spec.decimals);
  builder
    .overrideByName(spec.rate.field, [
      { id: 'unit', value: 'percent' },
      ...spec.rate.properties,
      {
        id: 'thresholds',
        value: {
          mode: 'absolute',
          steps: [
            { value: null, color: 'red' },
            { value: spec.rate.orange, color: 'orange' },
            { value: spec.rate.green, color: 'green' },
          ],
        },
      },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .overrideByName('coverage_pct', [
      { id: 'unit', value: 'percent' },
      { id: 'decimals', value: 1 },
    ]);
  for (const [field, properties] of spec.overrides) builder.overrideByName(field, properties);
  return builder
    .sortBy([new common.TableSortByFieldStateBuilder().displayName(tr(ctx, spec.rate.label))])
    .dataLinks([schoolLink(ctx, ROW_UAI)])
    .withTransformation(joinBy('uai'))
    .withTransformation(renameColumns(ctx, spec.columns, spec.hide));
}
