// `vigie dashboards build`: every dashboard and the provisioning files, as a map of relative path →
// content, so writing is one loop and two builds can be compared byte for byte.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../collector/thresholds.ts';
import { agentsDashboard } from './agents.ts';
import { continuityDashboard } from './continuity.ts';
import { fleetDashboard } from './fleet.ts';
import type { BuildContext, Lang } from './kit.ts';
import {
  DASHBOARDS_DIR,
  DATASOURCE_FILE,
  type DatasourceOptions,
  datasourceYaml,
  PROVIDER_FILE,
  providerYaml,
} from './provisioning.ts';
import { schoolDashboard } from './school.ts';

export interface BuildOptions extends DatasourceOptions {
  lang: Lang;
  thresholds: Thresholds;
}

export const DEFAULT_BUILD: BuildOptions = {
  lang: 'fr',
  thresholds: DEFAULT_THRESHOLDS,
  influxUrl: 'http://influxdb:8086',
  database: 'vigie',
  minInterval: '30s',
};

/** Dashboards by file name (without .json). */
export function buildDashboards(ctx: BuildContext): Record<string, Dashboard> {
  return {
    fleet: fleetDashboard(ctx),
    school: schoolDashboard(ctx),
    continuity: continuityDashboard(ctx),
    agents: agentsDashboard(ctx),
  };
}

export function buildFiles(o: BuildOptions): Map<string, string> {
  const files = new Map<string, string>();
  files.set(DATASOURCE_FILE, datasourceYaml(o));
  files.set(PROVIDER_FILE, providerYaml());
  const dashboards = buildDashboards({ lang: o.lang, thresholds: o.thresholds });
  for (const [name, dashboard] of Object.entries(dashboards)) {
    files.set(`${DASHBOARDS_DIR}/${name}.json`, `${JSON.stringify(dashboard, null, 2)}\n`);
  }
  return files;
}

export function writeFiles(out: string, files: Map<string, string>): void {
  for (const [path, content] of files) {
    const file = join(out, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}
