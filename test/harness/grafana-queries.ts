// Every InfluxQL statement a dashboard sends, with its template variables substituted the way
// Grafana's InfluxDB datasource does: $timeFilter, $__interval, $__range_s, and multi-valued
// variables as escaped regex alternatives (`/^(a|b)$/`), "All" as the variable's allValue. The tests'
// reproduction of Grafana, so they can run every panel query against a real InfluxDB.
import type { Dashboard, Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import type { InfluxQuery } from '../../dashboards/influxql.ts';

export interface PanelQuery {
  panelId: number;
  panelTitle: string;
  panelType: string;
  /** The variable this panel repeats over, if any. */
  repeat?: string;
  refId: string;
  query: string;
  resultFormat: string;
  datasourceUid: string | undefined;
}

/** Every query the dashboard sends: its panels' (rows included) and its annotations' (panelId 0). */
export function dashboardQueries(dashboard: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const a of dashboard.annotations?.list ?? []) {
    const target = a.target as unknown as InfluxQuery | undefined;
    if (!target?.query) continue;
    out.push({
      panelId: 0,
      panelTitle: `annotation: ${a.name}`,
      panelType: 'annotation',
      refId: target.refId,
      query: target.query,
      resultFormat: target.resultFormat,
      datasourceUid: a.datasource?.uid,
    });
  }
  const visit = (panels: (Panel | RowPanel)[] | undefined) => {
    for (const panel of panels ?? []) {
      if (panel.type === 'row') {
        visit((panel as RowPanel).panels);
        continue;
      }
      const p = panel as Panel;
      for (const target of (p.targets ?? []) as unknown as InfluxQuery[]) {
        out.push({
          panelId: p.id ?? -1,
          panelTitle: p.title ?? '',
          panelType: p.type,
          ...(p.repeat ? { repeat: p.repeat } : {}),
          refId: target.refId,
          query: target.query,
          resultFormat: target.resultFormat,
          datasourceUid: target.datasource?.uid,
        });
      }
    }
  };
  visit(dashboard.panels);
  return out;
}

export interface VariableDef {
  name: string;
  query: string;
  regex?: string;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
}

export function variableDefs(dashboard: Dashboard): VariableDef[] {
  return (dashboard.templating?.list ?? []).map((v: VariableModel) => ({
    name: v.name,
    query: typeof v.query === 'string' ? v.query : JSON.stringify(v.query),
    ...(v.regex ? { regex: v.regex } : {}),
    multi: v.multi ?? false,
    includeAll: v.includeAll ?? false,
    ...(v.allValue ? { allValue: v.allValue } : {}),
  }));
}

/**
 * A variable's options as Grafana lists them: the regex keeps matches; named groups give text and value;
 * of several options with one value, the first is kept.
 */
export function variableOptions(def: VariableDef, raw: string[]): { text: string; value: string }[] {
  const options: { text: string; value: string }[] = [];
  const seen = new Set<string>();
  const m = def.regex ? /^\/(.*)\/([gimsuy]*)$/.exec(def.regex) : null;
  const regex = m ? new RegExp(m[1]!, m[2]) : null;
  for (const value of raw) {
    if (!regex) {
      options.push({ text: value, value });
      continue;
    }
    const match = regex.exec(value);
    if (!match) continue;
    const groups = match.groups ?? {};
    const v = groups['value'] ?? groups['text'] ?? match[1] ?? match[0];
    if (seen.has(v)) continue;
    seen.add(v);
    options.push({ text: groups['text'] ?? v, value: v });
  }
  return options;
}

/** What the user picked: some values, or "All". */
export type Selection = { all: true } | { values: string[] };

export interface ResolvedVariable {
  def: VariableDef;
  options: string[];
  selection: Selection;
}

export interface TimeRange {
  from: number;
  to: number;
}

/** @grafana/data escapeRegex. */
export const escapeRegex = (value: string): string => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

/** What Grafana puts in place of a variable in an InfluxQL query. */
export function formatVariable(v: ResolvedVariable): string {
  if ('all' in v.selection && v.def.allValue !== undefined) return v.def.allValue;
  const values = 'all' in v.selection ? v.options : v.selection.values;
  if (!v.def.multi && !v.def.includeAll) return values[0] ?? '';
  const escaped = values.map(escapeRegex);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

/** Grafana's kbn.roundInterval: the nearest "nice" interval, in ms. */
export function roundInterval(ms: number): number {
  const steps: [below: number, value: number][] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, value] of steps) if (ms < below) return value;
  return 31536000000;
}

/** Grafana's secondsToHms-style interval text: 30s, 5m, 1h, 1d, 100ms. */
export function formatInterval(ms: number): string {
  for (const [unit, size] of [
    ['y', 31536000000],
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export interface InterpolationContext {
  range: TimeRange;
  variables: ResolvedVariable[];
  /** Panel width in points (Grafana's maxDataPoints). */
  maxDataPoints?: number;
  /** The datasource's timeInterval: $__interval never goes below it. */
  minIntervalMs?: number;
}

const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

/** The query as Grafana sends it; an unknown variable is an error, as it would be a broken panel. */
export function interpolate(query: string, ctx: InterpolationContext): string {
  const { from, to } = ctx.range;
  const intervalMs = Math.max(
    roundInterval((to - from) / (ctx.maxDataPoints ?? 1000)),
    ctx.minIntervalMs ?? 0,
  );
  const builtins: Record<string, string> = {
    timeFilter: `time >= ${from}ms and time <= ${to}ms`,
    __interval: formatInterval(intervalMs),
    __interval_ms: String(intervalMs),
    __range: formatInterval(Math.round((to - from) / 1000) * 1000),
    __range_s: String(Math.round((to - from) / 1000)),
    __range_ms: String(to - from),
    __from: String(from),
    __to: String(to),
  };
  return query.replace(
    VARIABLE,
    (whole, a?: string, b?: string, _bf?: string, c?: string, format?: string) => {
      const name = (a ?? b ?? c)!;
      if (name in builtins) return builtins[name]!;
      const v = ctx.variables.find((x) => x.def.name === name);
      if (!v) throw new Error(`unknown variable ${whole} in: ${query}`);
      if (format === 'raw') return ('all' in v.selection ? v.options : v.selection.values).join(',');
      return formatVariable(v);
    },
  );
}

/**
 * Resolves a dashboard's variables in order, as Grafana does on load: each variable's query is
 * interpolated with the ones before it, run, filtered by its regex, then `pick` chooses.
 */
export async function resolveVariables(
  defs: VariableDef[],
  range: TimeRange,
  run: (showQuery: string) => Promise<string[]>,
  pick: (def: VariableDef, options: string[]) => Selection,
): Promise<ResolvedVariable[]> {
  const resolved: ResolvedVariable[] = [];
  for (const def of defs) {
    const raw = await run(interpolate(def.query, { range, variables: resolved }));
    const options = variableOptions(def, raw).map((o) => o.value);
    resolved.push({ def, options, selection: pick(def, options) });
  }
  return resolved;
}
