// Presence transitions and finished outages as InfluxDB points, named by collector/schema.ts.
import { int, type Point } from '../point.ts';
import { COLLECTOR_MEASUREMENTS, PRESENCE_STATE_CODES } from '../schema.ts';
import type { OutageCause } from './outage.ts';
import type { Transition } from './state.ts';

export interface SchoolTags {
  commune: string;
  isp: string;
}

const UNKNOWN_TAGS: SchoolTags = { commune: 'unknown', isp: 'unknown' };

export function transitionPoint(t: Transition, school: SchoolTags | undefined): Point {
  const { commune, isp } = school ?? UNKNOWN_TAGS;
  return {
    measurement: COLLECTOR_MEASUREMENTS.presence.measurement,
    // A school-scope point has no agent tag (InfluxDB has no empty tag values).
    tags:
      t.scope === 'school'
        ? { uai: t.uai, commune, isp, scope: t.scope }
        : { uai: t.uai, agent: t.agent, commune, isp, scope: t.scope },
    fields: { state: t.to, previous: t.from, state_code: int(PRESENCE_STATE_CODES[t.to]), reason: t.reason },
    time: t.at,
  };
}

export function outagePoint(
  o: { uai: string; start: number; end: number; cause: OutageCause; schoolHoursS: number },
  school: SchoolTags | undefined,
): Point {
  const { commune, isp } = school ?? UNKNOWN_TAGS;
  return {
    measurement: COLLECTOR_MEASUREMENTS.outage.measurement,
    tags: { uai: o.uai, commune, isp, cause: o.cause },
    fields: { duration_s: (o.end - o.start) / 1000, end_ms: int(o.end), school_hours_s: o.schoolHoursS },
    time: o.start,
  };
}
