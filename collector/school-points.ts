// The registry as InfluxDB points, so Grafana can draw schools on a map, name them in the school
// picker and compare the WAN with the contract: InfluxQL cannot read the registry file. Written at
// start and daily, so the latest point of every school stays inside the raw retention policy.
import type { School } from '../shared/registry.ts';
import type { Point, PointSink } from './point.ts';
import { COLLECTOR_MEASUREMENTS } from './schema.ts';

export const schoolLabel = (school: Pick<School, 'uai' | 'name'>): string =>
  `${school.uai} ${school.name.replace(/\s+/g, ' ').trim()}`;

export function schoolInfoPoints(schools: Iterable<School>, now: number): Point[] {
  return [...schools].map((s) => ({
    measurement: COLLECTOR_MEASUREMENTS.school.measurement,
    tags: { uai: s.uai, commune: s.commune, isp: s.isp, label: schoolLabel(s) },
    fields: {
      name: s.name,
      // A school without coordinates has no lat/lon fields: the map leaves it off.
      ...(s.lat !== undefined && s.lon !== undefined ? { lat: s.lat, lon: s.lon } : {}),
      contracted_down_bps: s.contractedDownMbps * 1e6,
      contracted_up_bps: s.contractedUpMbps * 1e6,
      hours: s.hours,
    },
    time: now,
  }));
}

/** The registry as `school` points, daily: the latest one per school stays inside the raw retention. */
const SCHOOLS_EVERY_MS = 24 * 3600_000;

/** Writes the school points now and daily; returns what stops the timer. */
export function writeSchoolPointsDaily(
  schools: ReadonlyMap<string, School> | null,
  points: PointSink,
  now: () => number,
): () => void {
  const write = () => {
    if (schools?.size) points.write(schoolInfoPoints(schools.values(), now()));
  };
  write();
  const daily = setInterval(write, SCHOOLS_EVERY_MS);
  daily.unref();
  return () => clearInterval(daily);
}
