// InfluxDB line protocol, escaped exactly as InfluxDB 1.x parses it (checked against influxd 1.6.7):
// measurements escape `,` and space; tag keys/values and field keys escape `,`, `=` and space;
// backslashes are kept as they are in tags (InfluxDB never unescapes them there); string fields
// escape `"` and `\`. Some strings cannot be written at all: they are refused before they reach a batch.
import type { FieldValue, Point } from './point.ts';

export class LineProtocolError extends Error {}

export const escapeMeasurement = (s: string) => (/[, ]/.test(s) ? s.replace(/[, ]/g, (c) => `\\${c}`) : s);
export const escapeKey = (s: string) => (/[,= ]/.test(s) ? s.replace(/[,= ]/g, (c) => `\\${c}`) : s);
export const escapeString = (s: string) => (/["\\]/.test(s) ? s.replace(/["\\]/g, (c) => `\\${c}`) : s);

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why InfluxDB 1.x could not store this tag value exactly, or null when it can. */
export function tagValueProblem(value: string): string | null {
  if (value === '') return 'is empty';
  if (CONTROL.test(value)) return 'contains a control character (newline, tab...)';
  // A backslash escapes the next character while InfluxDB scans a tag, and is never removed.
  if (value.endsWith('\\')) return 'ends with a backslash';
  if (/\\[,= ]/.test(value)) return "has a backslash before ',', '=' or a space";
  return null;
}

const TAG_CACHE_LIMIT = 50_000;
const tagCache = new Map<string, string>();

/**
 * A tag value escaped for a line, or a LineProtocolError. Tag values repeat (schools, agents, targets):
 * the answer is cached, and the cache is emptied when it reaches its bound.
 */
export function escapeTagValue(key: string, value: string): string {
  const cached = tagCache.get(value);
  if (cached !== undefined) return cached;
  const problem = tagValueProblem(value);
  if (problem) throw new LineProtocolError(`tag ${key}=${JSON.stringify(value)} ${problem}`);
  const escaped = escapeKey(value);
  if (tagCache.size >= TAG_CACHE_LIMIT) tagCache.clear();
  tagCache.set(value, escaped);
  return escaped;
}

/** Why a string field cannot be written (a newline would split the line), or null. */
export function stringFieldProblem(value: string): string | null {
  return /[\r\n]/.test(value) ? 'contains a line break' : null;
}

export function formatField(key: string, value: FieldValue): string {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new LineProtocolError(`field ${key}: ${value} is not finite`);
      return `${escapeKey(key)}=${value}`;
    case 'boolean':
      return `${escapeKey(key)}=${value}`;
    case 'string': {
      const problem = stringFieldProblem(value);
      if (problem) throw new LineProtocolError(`field ${key} ${problem}`);
      return `${escapeKey(key)}="${escapeString(value)}"`;
    }
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
