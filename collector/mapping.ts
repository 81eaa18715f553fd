// Samples → InfluxDB line protocol, by the table in collector/schema.ts. Every point carries the school's
// tags (uai, agent, and commune and isp from the registry when the school is known).
import type { School } from '../shared/registry.ts';
import type { MetricsBatch, ProbeKind } from '../shared/schemas.ts';
import {
  escapeKey,
  escapeMeasurement,
  escapeString,
  escapeTagValue,
  LineProtocolError,
  stringFieldProblem,
} from './line-protocol.ts';
import { COLLECTOR_MEASUREMENTS, COMMON_TAGS, type FieldType, SAMPLE_MEASUREMENTS } from './schema.ts';

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

export function schoolTags(batch: { uai: string; agent: string }, school?: School): Record<string, string> {
  const tags: Record<string, string> = { uai: batch.uai, agent: batch.agent };
  if (school) {
    tags['commune'] = school.commune;
    tags['isp'] = school.isp;
  }
  return tags;
}

interface LineSpec {
  prefix: string;
  /** Every tag in sorted order: common ones read from the batch's tags, the others from the sample. */
  tags: { tag: string; escapedTag: string; key: string; common: boolean }[];
  /** `first` opens the field set (` key=`), `next` continues it (`,key=`). */
  fields: { first: string; next: string; key: string; type: FieldType }[];
}

const LINE_SPECS = Object.fromEntries(
  Object.entries(COMPILED).map(([kind, spec]) => {
    const tags = [
      ...COMMON_TAGS.map((tag) => ({ tag, key: tag, common: true })),
      ...spec.tags.map(([tag, key]) => ({ tag, key, common: false })),
    ]
      .sort((a, b) => (a.tag < b.tag ? -1 : 1))
      .map((t) => ({ ...t, escapedTag: escapeKey(t.tag) }));
    const fields = spec.fields.map(([field, key, type]) => ({
      first: ` ${escapeKey(field)}=`,
      next: `,${escapeKey(field)}=`,
      key,
      type,
    }));
    return [kind, { prefix: escapeMeasurement(spec.measurement), tags, fields }];
  }),
) as Record<ProbeKind, LineSpec>;

/** A field's value as line protocol, null when the sample lacks it (or it has another type). */
function fieldText(key: string, value: unknown, type: FieldType): string | null {
  switch (type) {
    case 'float':
      if (typeof value !== 'number') return null;
      if (!Number.isFinite(value)) throw new LineProtocolError(`field ${key}: ${value} is not finite`);
      return String(value);
    case 'integer': {
      if (typeof value !== 'number') return null;
      const n = Math.trunc(value);
      if (!Number.isSafeInteger(n)) throw new LineProtocolError(`field ${key}: ${value} is not an integer`);
      return `${n}i`;
    }
    case 'boolean':
      return typeof value === 'boolean' ? (value ? 'true' : 'false') : null;
    case 'string': {
      if (typeof value !== 'string') return null;
      const problem = stringFieldProblem(value);
      if (problem) throw new LineProtocolError(`field ${key} ${problem}`);
      return `"${escapeString(value)}"`;
    }
  }
}

/**
 * The batch's points as line protocol, written straight from the samples: the hot path of ingest,
 * without building Point objects. A unit test holds it to test/harness/batch-points.ts.
 */
/**
 * `correctionMs` (collector/clock-offset.ts): how far ahead the agent's clock runs, when it is corrected;
 * every point is then written at its time minus it, with the field `clock_offset_s` (the correction, s)
 * flagging it. `clock_offset_ms` stays received − t on the agent's own clock, so the drift is visible.
 */
export function batchToLines(
  batch: MetricsBatch,
  school: School | undefined,
  receivedAt: number,
  correctionMs = 0,
): string {
  const flag = correctionMs === 0 ? '' : `,clock_offset_s=${correctionMs / 1000}`;
  const common: Record<string, string> = schoolTags(batch, school);
  const escapedCommon: Record<string, string> = {};
  for (const tag of COMMON_TAGS) {
    const value = common[tag];
    if (value !== undefined && value !== '') escapedCommon[tag] = escapeTagValue(tag, value);
  }
  let out = '';
  // Samples of one batch mostly share their time: its text is made once.
  let lastT = Number.NaN;
  let lastTText = '';
  for (const sample of batch.samples) {
    const spec = LINE_SPECS[sample.probe];
    const record = sample as unknown as Record<string, unknown>;
    out += spec.prefix;
    for (const t of spec.tags) {
      const v = t.common ? escapedCommon[t.tag] : record[t.key];
      if (v === undefined) continue;
      if (t.common) out += `,${t.escapedTag}=${v}`;
      else if (typeof v === 'string' && v !== '') out += `,${t.escapedTag}=${escapeTagValue(t.tag, v)}`;
    }
    let first = true;
    for (const f of spec.fields) {
      const text = fieldText(f.key, record[f.key], f.type);
      if (text === null) continue;
      out += (first ? f.first : f.next) + text;
      first = false;
    }
    if (first) throw new LineProtocolError(`point ${spec.prefix} has no field`);
    out += flag;
    if (sample.t !== lastT) {
      lastT = sample.t;
      lastTText = ` ${sample.t - correctionMs}\n`;
    }
    out += lastTText;
  }
  let tags = '';
  for (const t of SORTED_COMMON_TAGS) {
    const v = escapedCommon[t];
    if (v !== undefined) tags += `,${t}=${v}`;
  }
  return `${out}${COLLECTOR_MEASUREMENTS.batch.measurement}${tags} seq=${batch.seq}i,samples=${batch.samples.length}i,clock_offset_ms=${receivedAt - batch.t}${flag} ${batch.t - correctionMs}\n`;
}

const SORTED_COMMON_TAGS = [...COMMON_TAGS].sort();
