// The registry as InfluxDB points, so Grafana can draw schools on a map, name them in the school
// picker and compare the WAN with the contract. InfluxQL cannot read the registry file, so the
// collector writes one `school` point per school (at start, on registry reload, and daily so the
// latest point stays inside the raw retention policy). The dashboards read it without a time filter.
import type { Point } from '../collector/point.ts';
import type { School } from '../shared/registry.ts';

export const SCHOOL_INFO = {
  measurement: 'school',
  description: 'the registry entry of one school; time = when the collector wrote it',
  // label = "UAI name": one tag the school picker splits into value (UAI) and text (both).
  tags: ['uai', 'commune', 'isp', 'label'],
  fields: {
    name: 'string',
    lat: 'float',
    lon: 'float',
    contracted_down_bps: 'float',
    contracted_up_bps: 'float',
    hours: 'string',
  },
} as const;

/** Grafana variable regex: the value is the UAI, the text the whole label. */
export const SCHOOL_LABEL_REGEX = '/^(?<text>(?<value>[0-9]{7}[A-Z]) .*)$/';

export const schoolLabel = (school: Pick<School, 'uai' | 'name'>): string =>
  `${school.uai} ${school.name.replace(/\s+/g, ' ').trim()}`;

export function schoolInfoPoints(schools: Iterable<School>, now: number): Point[] {
  return [...schools].map((s) => ({
    measurement: SCHOOL_INFO.measurement,
    tags: { uai: s.uai, commune: s.commune, isp: s.isp, label: schoolLabel(s) },
    fields: {
      name: s.name,
      lat: s.lat,
      lon: s.lon,
      contracted_down_bps: s.contractedDownMbps * 1e6,
      contracted_up_bps: s.contractedUpMbps * 1e6,
      hours: s.hours,
    },
    time: now,
  }));
}
