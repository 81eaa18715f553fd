// The one InfluxQL query every panel uses. The SDK has no InfluxDB query builder, so this implements
// its `cog.Dataquery` itself: a raw InfluxQL statement, its refId, its result format and the datasource.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';

/** The datasource the provisioning file declares; every panel and variable points at this uid. */
export const INFLUX_DATASOURCE: DataSourceRef = { type: 'influxdb', uid: 'vigie-influxdb' };

/** Grafana's InfluxQL frames: one per series (time_series) or one table with tag columns (table). */
export type ResultFormat = 'time_series' | 'table';

export class InfluxQuery implements cog.Dataquery {
  datasource: DataSourceRef = INFLUX_DATASOURCE;
  /** Grafana's InfluxQL editor runs `query` as written only when rawQuery is true. */
  rawQuery = true as const;
  hide?: boolean;
  alias?: string;

  constructor(
    public refId: string,
    public query: string,
    public resultFormat: ResultFormat,
  ) {}

  _implementsDataqueryVariant(): void {}
}

export class InfluxQueryBuilder implements cog.Builder<InfluxQuery> {
  private readonly internal: InfluxQuery;

  constructor(query: string, refId = 'A') {
    this.internal = new InfluxQuery(refId, query.replace(/\s+/g, ' ').trim(), 'time_series');
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  /** Series names in time_series format: `$tag_uai`, `$col`, `$measurement`. */
  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  table(): this {
    this.internal.resultFormat = 'table';
    return this;
  }

  build(): InfluxQuery {
    return this.internal;
  }
}

export const influxql = (query: string, refId = 'A'): InfluxQueryBuilder =>
  new InfluxQueryBuilder(query, refId);

/** A quoted InfluxQL identifier (measurement, tag or field name). */
export const id = (name: string): string => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
