// Samples → InfluxDB points, by the table in collector/schema.ts. Every point carries the school's
// tags (uai, agent, and commune and isp from the registry when the school is known).
import type { School } from '../shared/registry.ts';
import type { MetricsBatch, ProbeKind, Sample } from '../shared/schemas.ts';
import { type FieldValue, int, type Point } from './point.ts';
import { COLLECTOR_MEASUREMENTS, type FieldType, SAMPLE_MEASUREMENTS } from './schema.ts';

interface CompiledSpec {
  measurement: string;
  tags: [tag: string, key: string][];
  fields: [field: string, key: string, type: FieldType][];
}

const COMPILED = Object.fromEntries(
  Object.entries(SAMPLE_MEASUREMENTS).map(([kind, spec]) => [
    kind,
    {
      measurement: spec.measurement,
      tags: Object.entries(spec.tags),
      fields: Object.entries(spec.fields).map(([field, [key, type]]) => [field, key, type]),
    },
  ]),
) as Record<ProbeKind, CompiledSpec>;

function fieldValue(value: unknown, type: FieldType): FieldValue | undefined {
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? int(value) : undefined;
    case 'float':
      return typeof value === 'number' ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'string':
      return typeof value === 'string' ? value : undefined;
  }
}

export function schoolTags(batch: { uai: string; agent: string }, school?: School): Record<string, string> {
  const tags: Record<string, string> = { uai: batch.uai, agent: batch.agent };
  if (school) {
    tags['commune'] = school.commune;
    tags['isp'] = school.isp;
  }
  return tags;
}

export function sampleToPoint(sample: Sample, common: Record<string, string>): Point {
  const spec = COMPILED[sample.probe];
  const record = sample as unknown as Record<string, unknown>;
  const tags = { ...common };
  for (const [tag, key] of spec.tags) {
    const value = record[key];
    if (typeof value === 'string') tags[tag] = value;
  }
  const fields: Record<string, FieldValue> = {};
  for (const [field, key, type] of spec.fields) {
    const value = fieldValue(record[key], type);
    if (value !== undefined) fields[field] = value;
  }
  return { measurement: spec.measurement, tags, fields, time: sample.t };
}

/** One point per sample, plus the `batch` point whose seq lets anyone count what arrived. */
export function batchToPoints(batch: MetricsBatch, school: School | undefined, receivedAt: number): Point[] {
  const common = schoolTags(batch, school);
  const points = batch.samples.map((s) => sampleToPoint(s, common));
  points.push({
    measurement: COLLECTOR_MEASUREMENTS.batch.measurement,
    tags: common,
    fields: {
      seq: int(batch.seq),
      samples: int(batch.samples.length),
      clock_offset_ms: receivedAt - batch.t,
    },
    time: batch.t,
  });
  return points;
}
