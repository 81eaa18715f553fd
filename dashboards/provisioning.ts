// Grafana provisioning files: the InfluxDB (InfluxQL) datasource and the dashboard provider.
// The build output is meant to be mounted as Grafana's provisioning folder, so the provider's path
// points inside it and the whole tree travels as one directory.
import { stringify } from 'yaml';
import { INFLUX_DATASOURCE } from './influxql.ts';

export const GRAFANA_PROVISIONING_ROOT = '/etc/grafana/provisioning';
/** Relative to the build output (= the provisioning root). */
export const DATASOURCE_FILE = 'datasources/vigie.yaml';
export const PROVIDER_FILE = 'dashboards/vigie.yaml';
export const DASHBOARDS_DIR = 'dashboards/vigie';

export interface DatasourceOptions {
  influxUrl: string;
  database: string;
  /** Smallest $__interval Grafana will use: about the agents' measuring period. */
  minInterval: string;
}

/** `30s`, `1m`, `500ms`… in ms, as Grafana reads an interval; throws on anything else. */
export function parseInterval(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(text);
  if (!m) throw new Error(`not an interval: "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, y: 31536000000 }[m[2]!]!;
  return Number(m[1]) * unit;
}

export function datasourceYaml(o: DatasourceOptions): string {
  return stringify({
    apiVersion: 1,
    datasources: [
      {
        name: 'Vigie InfluxDB',
        uid: INFLUX_DATASOURCE.uid,
        type: INFLUX_DATASOURCE.type,
        access: 'proxy',
        url: o.influxUrl,
        isDefault: true,
        editable: false,
        // Grafana expands environment variables here; empty when InfluxDB has no authentication.
        user: '$VIGIE_INFLUX_USER',
        jsonData: { version: 'InfluxQL', dbName: o.database, httpMode: 'POST', timeInterval: o.minInterval },
        secureJsonData: { password: '$VIGIE_INFLUX_PASSWORD' },
      },
    ],
  });
}

export function providerYaml(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: 'vigie',
        orgId: 1,
        folder: 'Vigie',
        folderUid: 'vigie',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: `${GRAFANA_PROVISIONING_ROOT}/${DASHBOARDS_DIR}`, foldersFromFilesStructure: false },
      },
    ],
  });
}
