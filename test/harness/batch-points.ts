// The Point objects a batch maps to, built the plain way from collector/schema.ts: the reference the
// ingest's straight-to-text batchToLines (collector/mapping.ts) is held to, and what bench/ingest.ts
// writes through the `influx` client.
import { schoolTags } from '../../collector/mapping.ts';
import { type FieldValue, int, type Point } from '../../collector/point.ts';
import { COLLECTOR_MEASUREMENTS, type FieldType, SAMPLE_MEASUREMENTS } from '../../collector/schema.ts';
import type { School } from '../../shared/registry.ts';
import type { MetricsBatch, Sample } from '../../shared/schemas.ts';

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

function sampleToPoint(sample: Sample, common: Record<string, string>): Point {
  const spec = SAMPLE_MEASUREMENTS[sample.probe];
  const record = sample as unknown as Record<string, unknown>;
  const tags = { ...common };
  for (const [tag, key] of Object.entries(spec.tags)) {
    const value = record[key];
    if (typeof value === 'string') tags[tag] = value;
  }
  const fields: Record<string, FieldValue> = {};
  for (const [field, [key, type]] of Object.entries(spec.fields)) {
    const value = fieldValue(record[key], type);
    if (value !== undefined) fields[field] = value;
  }
  return { measurement: spec.measurement, tags, fields, time: sample.t };
}

/** One point per sample, plus the `batch` point whose seq lets anyone count what arrived. */
export function batchToPoints(
  batch: MetricsBatch,
  school: School | undefined,
  receivedAt: number,
  correctionMs = 0,
): Point[] {
  const common = schoolTags(batch, school);
  const flag: Record<string, FieldValue> = correctionMs === 0 ? {} : { clock_offset_s: correctionMs / 1000 };
  const points: Point[] = batch.samples.map((s) => {
    const p = sampleToPoint(s, common);
    return { ...p, fields: { ...p.fields, ...flag }, time: s.t - correctionMs };
  });
  points.push({
    measurement: COLLECTOR_MEASUREMENTS.batch.measurement,
    tags: common,
    fields: {
      seq: int(batch.seq),
      samples: int(batch.samples.length),
      clock_offset_ms: receivedAt - batch.t,
      ...flag,
    },
    time: batch.t - correctionMs,
  });
  return points;
}
