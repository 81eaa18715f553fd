// Decode and validate wire messages with the shared schemas, giving one readable reason.
// Nothing here may throw on any payload: depth and width are bounded (on the bytes before parsing a
// large payload, while walking a small one) before any recursive walk, ajv's included.
import { isUtf8 } from 'node:buffer';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { addVigieFormats, validatorFor } from './compiled-schemas.ts';
import { type JsonBounds, jsonShapeProblem } from './json-bounds.ts';
import {
  EventMessage,
  type EventMessage as EventMessageT,
  MAX_PAYLOAD_BYTES,
  MetricsBatch,
  type MetricsBatch as MetricsBatchT,
  PROBE_KINDS,
  PROTOCOL_VERSION,
  SAMPLE_SCHEMAS,
  StatusMessage,
  type StatusMessage as StatusMessageT,
} from './schemas.ts';
import { uaiProblem } from './uai.ts';

/** Why a message was refused; the collector counts rejections by this code. */
export type RejectReason =
  | 'oversize'
  | 'malformed_json'
  | 'invalid_text'
  | 'too_deep'
  | 'too_many_entries'
  | 'unknown_version'
  | 'schema'
  | 'non_finite'
  | 'topic_mismatch'
  | 'clock_future'
  | 'clock_past'
  | 'unknown_school';

/**
 * Shape of any message this protocol accepts: the deepest is 3 levels (batch, samples, sample) and the
 * widest 2000 samples. The bounds leave room for later versions, far below what a walk could not take.
 */
export const MESSAGE_JSON_BOUNDS: JsonBounds = { maxDepth: 16, maxEntries: 4096 };

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; error: string };

/** Formats the shared schemas use; call on every Ajv instance that compiles them (fastify's too). */
export { addVigieFormats };

/**
 * The compiled schema of the kind a sample's `probe` names, or undefined when it names none. The one
 * sample validator: the collector's decodeMetrics and the agent's check before batching use it.
 */
export function sampleValidator(kind: unknown): ValidateFunction | undefined {
  return (PROBE_KINDS as readonly unknown[]).includes(kind)
    ? validatorFor('wire', SAMPLE_SCHEMAS[kind as (typeof PROBE_KINDS)[number]])
    : undefined;
}

/** Why a sample is refused when its `probe` names no kind. */
/** A value the sender chose, quoted short: a dead letter never carries a megabyte of it. */
function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

export const unknownKindProblem = (kind: unknown) =>
  `probe: must be one of ${PROBE_KINDS.join(', ')}, got ${brief(kind)}`;

// The envelope is checked first with loose sample items, then each sample against its own
// schema: an anyOf over seven kinds would report seven errors instead of the one that matters.
// Validators are compiled (or loaded precompiled) at first use, not at import.
export const MetricsEnvelope = {
  ...MetricsBatch,
  properties: {
    ...MetricsBatch.properties,
    samples: { ...MetricsBatch.properties.samples, items: { type: 'object' } },
  },
};
const envelopeValidator = () => validatorFor('wire', MetricsEnvelope);
const statusValidator = () => validatorFor('wire', StatusMessage);
const eventValidator = () => validatorFor('wire', EventMessage);

export function describeAjvError(e: ErrorObject | undefined, prefix = ''): string {
  if (!e) return 'invalid';
  const where = `${prefix}${e.instancePath}` || '/';
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties')
    return `${where}: unexpected property "${params['additionalProperty']}"`;
  if (e.keyword === 'required') return `${where}: missing property "${params['missingProperty']}"`;
  if (e.keyword === 'const') return `${where}: must be ${JSON.stringify(params['allowedValue'])}`;
  if (e.keyword === 'format' && params['format'] === 'uai') return `${where}: ${uaiProblem(e.data)}`;
  return `${where}: ${e.message}`;
}

/** A lone UTF-16 surrogate (JSON's "\ud800"): UTF-8 cannot carry it, InfluxDB would store U+FFFD. */
const LONE_SURROGATE = /\p{Cs}/u;

type ShapeOrValueProblem = {
  reason: 'non_finite' | 'invalid_text' | 'too_deep' | 'too_many_entries';
  error: string;
};

/**
 * Above this size the byte scan runs before JSON.parse: a deep payload costs JSON.parse far more per
 * byte than a normal one (100,000 nested arrays: ~150 ms). Up to it, JSON.parse is quick whatever the
 * shape, and the walk below applies the same bounds for free.
 */
const SCAN_ABOVE_BYTES = 16 * 1024;

/**
 * The first value that breaks the message bounds or cannot be stored as sent, with its JSON pointer:
 * nesting or width past MESSAGE_JSON_BOUNDS, a number JSON.parse made Infinity from an overflowing
 * literal (1e999), or, when `text` is set, a string or key with a lone surrogate. The recursion stops
 * at the depth bound. The path is built only on the way back from a find: building it for every value
 * cost ~9 % of the collector's time per message (bench/ingest profile).
 */
function findProblem(root: object, text: boolean): ShapeOrValueProblem | null {
  const { maxDepth, maxEntries } = MESSAGE_JSON_BOUNDS;
  const path: (string | number)[] = [];
  let reason: ShapeOrValueProblem['reason'] = 'non_finite';
  const found = (r: ShapeOrValueProblem['reason']) => {
    reason = r;
    return true;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (typeof v === 'number') return !Number.isFinite(v);
    if (typeof v === 'string') return text && LONE_SURROGATE.test(v) && found('invalid_text');
    if (v === null || typeof v !== 'object') return false;
    if (depth === maxDepth) return found('too_deep');
    if (Array.isArray(v)) {
      if (v.length > maxEntries) return found('too_many_entries');
      for (let i = 0; i < v.length; i++)
        if (walk(v[i], depth + 1)) {
          path.push(i);
          return true;
        }
      return false;
    }
    const keys = Object.keys(v);
    if (keys.length > maxEntries) return found('too_many_entries');
    for (const k of keys) {
      const bad =
        (text && LONE_SURROGATE.test(k) && found('invalid_text')) || walk(v[k as keyof typeof v], depth + 1);
      if (!bad) continue;
      path.push(k);
      return true;
    }
    return false;
  };
  if (!walk(root, 0)) return null;
  const where = `/${path.reverse().join('/')}`;
  const what = {
    non_finite: 'number is not finite',
    invalid_text: 'text has a lone UTF-16 surrogate, which UTF-8 cannot carry',
    too_deep: `arrays and objects nested deeper than ${maxDepth} levels`,
    too_many_entries: `more than ${maxEntries} entries in one array or object`,
  }[reason];
  return { reason, error: `${where}: ${what}` };
}

/** A string payload is judged as the UTF-8 bytes MQTT would carry. */
function parseJson(payload: Buffer | string, maxBytes: number): Decoded<unknown> {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (bytes.length > maxBytes)
    return { ok: false, reason: 'oversize', error: `payload is ${bytes.length} bytes, limit ${maxBytes}` };
  if (!isUtf8(bytes)) return { ok: false, reason: 'invalid_text', error: 'payload is not valid UTF-8' };
  if (bytes.length > SCAN_ABOVE_BYTES) {
    const shape = jsonShapeProblem(bytes, MESSAGE_JSON_BOUNDS);
    if (shape) return { ok: false, ...shape };
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'malformed_json', error: `not JSON: ${(err as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'schema', error: '/: must be a JSON object' };
  }
  // Before anything else reads the value. Valid UTF-8 cannot hold a lone surrogate: only a \u escape can.
  const problem = findProblem(value, bytes.includes('\\u'));
  if (problem) return { ok: false, ...problem };
  const version = (value as { v?: unknown }).v;
  if (version !== PROTOCOL_VERSION) {
    return {
      ok: false,
      reason: 'unknown_version',
      error: `protocol version ${brief(version)} is not supported (expected ${PROTOCOL_VERSION})`,
    };
  }
  return { ok: true, value };
}

/** A value quoted in an error message, cut short: it comes from the sender and may be huge. */
export function decodeMetrics(
  payload: Buffer | string,
  maxBytes = MAX_PAYLOAD_BYTES,
): Decoded<MetricsBatchT> {
  const parsed = parseJson(payload, maxBytes);
  if (!parsed.ok) return parsed;
  const envelope = envelopeValidator();
  if (!envelope(parsed.value)) {
    return { ok: false, reason: 'schema', error: describeAjvError(envelope.errors?.[0]) };
  }
  const batch = parsed.value as MetricsBatchT;
  const badUai = uaiProblem(batch.uai);
  if (badUai) return { ok: false, reason: 'schema', error: `/uai: ${badUai}` };
  for (let i = 0; i < batch.samples.length; i++) {
    const sample = batch.samples[i] as { probe?: unknown };
    const validate = sampleValidator(sample.probe);
    if (!validate)
      return { ok: false, reason: 'schema', error: `/samples/${i}/${unknownKindProblem(sample.probe)}` };
    if (!validate(sample)) {
      return { ok: false, reason: 'schema', error: describeAjvError(validate.errors?.[0], `/samples/${i}`) };
    }
  }
  return { ok: true, value: batch };
}

export function decodeStatus(payload: Buffer | string): Decoded<StatusMessageT> {
  const parsed = parseJson(payload, 4096);
  if (!parsed.ok) return parsed;
  const validate = statusValidator();
  if (!validate(parsed.value)) {
    return { ok: false, reason: 'schema', error: describeAjvError(validate.errors?.[0]) };
  }
  const badUai = uaiProblem((parsed.value as StatusMessageT).uai);
  if (badUai) return { ok: false, reason: 'schema', error: `/uai: ${badUai}` };
  return { ok: true, value: parsed.value as StatusMessageT };
}

export function decodeEvent(payload: Buffer | string): Decoded<EventMessageT> {
  const parsed = parseJson(payload, 16 * 1024);
  if (!parsed.ok) return parsed;
  const validate = eventValidator();
  if (!validate(parsed.value)) {
    return { ok: false, reason: 'schema', error: describeAjvError(validate.errors?.[0]) };
  }
  const badUai = uaiProblem((parsed.value as EventMessageT).uai);
  if (badUai) return { ok: false, reason: 'schema', error: `/uai: ${badUai}` };
  return { ok: true, value: parsed.value as EventMessageT };
}
