// InfluxDB line protocol, escaped exactly as InfluxDB 1.x parses it (checked against influxd 1.6.7,
// test/integration/labels-influx.test.ts: every string written is read back): measurements escape `,`
// and space; tag keys/values and field keys escape `,`, `=` and space, and leave backslashes as they
// are (InfluxDB unescapes only a backslash before `,`, `=` or space, left to right, so `a\,b` written
// `a\\,b` reads back `a\,b`); string fields escape `"` and `\`.
// Three tag values cannot be stored at all: the empty one, one with a line break, one ending with a
// backslash (the parser takes the separator after it as escaped). Those, and a line break in a
// string field (the write-ahead log and the writer split on line breaks), are normalised by the rule
// of shared/labels.ts and counted (labelsNormalised): what was accepted is stored, never refused here.
import { normaliseLabel } from '../shared/labels.ts';
import type { FieldValue, Point } from './point.ts';

export class LineProtocolError extends Error {}

export const escapeMeasurement = (s: string) => (/[, ]/.test(s) ? s.replace(/[, ]/g, (c) => `\\${c}`) : s);
export const escapeKey = (s: string) => (/[,= ]/.test(s) ? s.replace(/[,= ]/g, (c) => `\\${c}`) : s);
export const escapeString = (s: string) => (/["\\]/.test(s) ? s.replace(/["\\]/g, (c) => `\\${c}`) : s);

/** Why InfluxDB 1.x could not store this tag value exactly, or null when it can. */
export function tagValueProblem(value: string): string | null {
  if (value === '') return 'is empty';
  if (value.includes('\n')) return 'contains a line break (a control character)';
  // However many there are, the parser reads the last one as escaping the separator after it.
  if (value.endsWith('\\')) return 'ends with a backslash';
  return null;
}

const normalised = { tag: 0, field: 0 };

/** Tag values and string fields this process normalised to write them (shared/labels.ts), since start. */
export const labelsNormalised = (): Readonly<typeof normalised> => ({ ...normalised });

const TAG_CACHE_LIMIT = 50_000;
const tagCache = new Map<string, { escaped: string; normalised: boolean }>();

/**
 * A tag value escaped for a line; one InfluxDB cannot store (tagValueProblem) is first normalised
 * by shared/labels.ts normaliseLabel and counted in labelsNormalised().tag. Never throws. Tag values
 * repeat (schools, agents, targets): the answer is cached, the cache emptied at its bound.
 * @param _key the tag's key (kept for callers that name it)
 */
export function escapeTagValue(_key: string, value: string): string {
  const cached = tagCache.get(value);
  if (cached !== undefined) {
    if (cached.normalised) normalised.tag++;
    return cached.escaped;
  }
  const problem = tagValueProblem(value);
  const storable = problem ? normaliseLabel(value) : value;
  const escaped = escapeKey(storable);
  if (problem) normalised.tag++;
  if (tagCache.size >= TAG_CACHE_LIMIT) tagCache.clear();
  tagCache.set(value, { escaped, normalised: problem !== null });
  return escaped;
}

/** Why a string field cannot be written as it is (a line break would split the line), or null. */
export function stringFieldProblem(value: string): string | null {
  return /[\r\n]/.test(value) ? 'contains a line break' : null;
}

/**
 * A string field's value between its quotes: line breaks (CR, LF, CRLF) become one space each,
 * counted in labelsNormalised().field, then `"` and `\` are escaped. Never throws.
 */
export function stringFieldText(value: string): string {
  if (stringFieldProblem(value)) {
    normalised.field++;
    return escapeString(value.replace(/\r\n|[\r\n]/g, ' '));
  }
  return escapeString(value);
}

export function formatField(key: string, value: FieldValue): string {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new LineProtocolError(`field ${key}: ${value} is not finite`);
      return `${escapeKey(key)}=${value}`;
    case 'boolean':
      return `${escapeKey(key)}=${value}`;
    case 'string':
      return `${escapeKey(key)}="${stringFieldText(value)}"`;
    default:
      if (!Number.isSafeInteger(value.int))
        throw new LineProtocolError(`field ${key}: ${value.int} is not an integer`);
      return `${escapeKey(key)}=${value.int}i`;
  }
}

/** One line, no trailing newline; time in ms (write with precision=ms). Tags are sorted, empty ones left out. */
export function toLine(point: Point): string {
  let line = escapeMeasurement(point.measurement);
  for (const key of Object.keys(point.tags).sort()) {
    const value = point.tags[key]!;
    if (value === '') continue;
    line += `,${escapeKey(key)}=${escapeTagValue(key, value)}`;
  }
  const fields: string[] = [];
  for (const [key, value] of Object.entries(point.fields)) {
    if (value !== undefined) fields.push(formatField(key, value));
  }
  if (fields.length === 0) throw new LineProtocolError(`point ${point.measurement} has no field`);
  if (!Number.isSafeInteger(point.time))
    throw new LineProtocolError(`point time ${point.time} is not an integer`);
  return `${line} ${fields.join(',')} ${point.time}`;
}

/** Lines joined and newline-terminated, ready to append to the write-ahead log. */
export const toLines = (points: Point[]): string => points.map((p) => `${toLine(p)}\n`).join('');
