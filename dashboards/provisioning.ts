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
