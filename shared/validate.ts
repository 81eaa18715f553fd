// Decode and validate wire messages with the shared schemas, giving one readable reason.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
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
import { isUai, uaiProblem } from './uai.ts';

/** Why a message was refused; the collector counts rejections by this code. */
export type RejectReason =
  | 'oversize'
  | 'malformed_json'
  | 'unknown_version'
  | 'schema'
  | 'non_finite'
  | 'topic_mismatch'
  | 'clock_future'
  | 'clock_past'
  | 'unknown_school';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; error: string };

/** Formats the shared schemas use; call on every Ajv instance that compiles them (fastify's too). */
export function addVigieFormats<A extends Ajv>(instance: A): A {
  instance.addFormat('uai', { type: 'string', validate: (v: string) => isUai(v) });
  return instance;
}

export const ajv = addVigieFormats(new Ajv({ allErrors: false, strict: false, verbose: true }));

const sampleValidators = new Map<unknown, ValidateFunction>(
  PROBE_KINDS.map((kind) => [kind, ajv.compile(SAMPLE_SCHEMAS[kind])]),
);

/**
 * The compiled schema of the kind a sample's `probe` names, or undefined when it names none. The one
 * sample validator: the collector's decodeMetrics and the agent's check before batching use it.
 */
export function sampleValidator(kind: unknown): ValidateFunction | undefined {
  return sampleValidators.get(kind);
}

/** Why a sample is refused when its `probe` names no kind. */
export const unknownKindProblem = (kind: unknown) =>
  `probe: must be one of ${PROBE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`;

// The envelope is checked first with loose sample items, then each sample against its own
// schema: an anyOf over seven kinds would report seven errors instead of the one that matters.
const envelopeValidator = ajv.compile({
  ...MetricsBatch,
  properties: {
    ...MetricsBatch.properties,
    samples: { ...MetricsBatch.properties.samples, items: { type: 'object' } },
  },
});
const statusValidator = ajv.compile(StatusMessage);
const eventValidator = ajv.compile(EventMessage);

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

/** JSON has no NaN or Infinity, but 1e999 parses to Infinity: refuse it by name. */
/**
 * JSON.parse turns an overflowing literal (1e999) into Infinity: the path of the first one, or null.
 * The path is built only on the way back from a find: building it for every value cost ~9 % of the
 * collector's time per message (bench/ingest profile).
 */
function findNonFinite(value: unknown): string | null {
  const path: (string | number)[] = [];
  const walk = (v: unknown): boolean => {
    if (typeof v === 'number') return !Number.isFinite(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++)
        if (walk(v[i])) {
          path.push(i);
          return true;
        }
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v))
        if (walk((v as Record<string, unknown>)[k])) {
          path.push(k);
          return true;
        }
    }
    return false;
  };
  return walk(value) ? `/${path.reverse().join('/')}` : null;
}

function parseJson(payload: Buffer | string, maxBytes: number): Decoded<unknown> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes)
    return { ok: false, reason: 'oversize', error: `payload is ${size} bytes, limit ${maxBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'malformed_json', error: `not JSON: ${(err as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'schema', error: '/: must be a JSON object' };
  }
  const version = (value as { v?: unknown }).v;
  if (version !== PROTOCOL_VERSION) {
    return {
      ok: false,
      reason: 'unknown_version',
      error: `protocol version ${JSON.stringify(version)} is not supported (expected ${PROTOCOL_VERSION})`,
    };
  }
  const nonFinite = findNonFinite(value);
  if (nonFinite) return { ok: false, reason: 'non_finite', error: `${nonFinite}: number is not finite` };
  return { ok: true, value };
}

export function decodeMetrics(
  payload: Buffer | string,
  maxBytes = MAX_PAYLOAD_BYTES,
): Decoded<MetricsBatchT> {
  const parsed = parseJson(payload, maxBytes);
  if (!parsed.ok) return parsed;
  if (!envelopeValidator(parsed.value)) {
    return { ok: false, reason: 'schema', error: describeAjvError(envelopeValidator.errors?.[0]) };
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
  if (!statusValidator(parsed.value)) {
    return { ok: false, reason: 'schema', error: describeAjvError(statusValidator.errors?.[0]) };
  }
  const badUai = uaiProblem((parsed.value as StatusMessageT).uai);
  if (badUai) return { ok: false, reason: 'schema', error: `/uai: ${badUai}` };
  return { ok: true, value: parsed.value as StatusMessageT };
}

export function decodeEvent(payload: Buffer | string): Decoded<EventMessageT> {
  const parsed = parseJson(payload, 16 * 1024);
  if (!parsed.ok) return parsed;
  if (!eventValidator(parsed.value)) {
    return { ok: false, reason: 'schema', error: describeAjvError(eventValidator.errors?.[0]) };
  }
  const badUai = uaiProblem((parsed.value as EventMessageT).uai);
  if (badUai) return { ok: false, reason: 'schema', error: `/uai: ${badUai}` };
  return { ok: true, value: parsed.value as EventMessageT };
}
