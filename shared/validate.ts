// Decode and validate wire messages with the shared schemas, giving one readable reason.
// Nothing here may throw on any payload: every walk is bounded (depth and width checked on the bytes
// before parsing) or iterative.
import { isUtf8 } from 'node:buffer';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type JsonBounds, jsonShapeProblem } from './json-bounds.ts';
import {
  DnsSample,
  EventMessage,
  type EventMessage as EventMessageT,
  HttpSample,
  MAX_PAYLOAD_BYTES,
  MetricsBatch,
  type MetricsBatch as MetricsBatchT,
  PingSample,
  PROBE_KINDS,
  PROTOCOL_VERSION,
  type ProbeKind,
  SelfSample,
  SpeedtestSample,
  StatusMessage,
  type StatusMessage as StatusMessageT,
  WanSample,
  WifiSample,
} from './schemas.ts';
import { isUai, uaiProblem } from './uai.ts';

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
export function addVigieFormats<A extends Ajv>(instance: A): A {
  instance.addFormat('uai', { type: 'string', validate: (v: string) => isUai(v) });
  return instance;
}

export const ajv = addVigieFormats(new Ajv({ allErrors: false, strict: false, verbose: true }));

const sampleValidators: Record<ProbeKind, ValidateFunction> = {
  ping: ajv.compile(PingSample),
  dns: ajv.compile(DnsSample),
  http: ajv.compile(HttpSample),
  wan: ajv.compile(WanSample),
  wifi: ajv.compile(WifiSample),
  speedtest: ajv.compile(SpeedtestSample),
  self: ajv.compile(SelfSample),
};

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

/** A lone UTF-16 surrogate (JSON's "\ud800"): UTF-8 cannot carry it, InfluxDB would store U+FFFD. */
const LONE_SURROGATE = /\p{Cs}/u;

interface Frame {
  keys: string[] | null;
  values: unknown[];
  i: number;
}

const frameOf = (v: object): Frame =>
  Array.isArray(v)
    ? { keys: null, values: v, i: 0 }
    : { keys: Object.keys(v), values: Object.values(v), i: 0 };

/**
 * The first value that cannot be stored as sent, as a JSON pointer: a number JSON.parse made Infinity
 * from an overflowing literal (1e999), or a string (value or key) with a lone surrogate. Iterative,
 * whatever the depth. The path is built only once something is found: building it for every value
 * cost ~9 % of the collector's time per message (bench/ingest profile).
 */
function findUnstorable(root: object): { reason: 'non_finite' | 'invalid_text'; error: string } | null {
  const stack: Frame[] = [frameOf(root)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i === top.values.length) {
      stack.pop();
      if (stack.length > 0) stack[stack.length - 1]!.i++;
      continue;
    }
    const key = top.keys?.[top.i];
    const v = top.values[top.i];
    const problem =
      key !== undefined && LONE_SURROGATE.test(key)
        ? 'invalid_text'
        : typeof v === 'number'
          ? Number.isFinite(v)
            ? null
            : 'non_finite'
          : typeof v === 'string' && LONE_SURROGATE.test(v)
            ? 'invalid_text'
            : null;
    if (problem) {
      const where = `/${stack.map((f) => (f.keys ? f.keys[f.i] : f.i)).join('/')}`;
      return problem === 'non_finite'
        ? { reason: problem, error: `${where}: number is not finite` }
        : { reason: problem, error: `${where}: text has a lone UTF-16 surrogate, which UTF-8 cannot carry` };
    }
    if (v !== null && typeof v === 'object') stack.push(frameOf(v));
    else top.i++;
  }
  return null;
}

function parseJson(payload: Buffer | string, maxBytes: number): Decoded<unknown> {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (bytes.length > maxBytes)
    return { ok: false, reason: 'oversize', error: `payload is ${bytes.length} bytes, limit ${maxBytes}` };
  if (!isUtf8(bytes)) return { ok: false, reason: 'invalid_text', error: 'payload is not valid UTF-8' };
  const shape = jsonShapeProblem(bytes, MESSAGE_JSON_BOUNDS);
  if (shape) return { ok: false, ...shape };
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
      error: `protocol version ${brief(version)} is not supported (expected ${PROTOCOL_VERSION})`,
    };
  }
  const unstorable = findUnstorable(value);
  if (unstorable) return { ok: false, ...unstorable };
  return { ok: true, value };
}

/** A value quoted in an error message, cut short: it comes from the sender and may be huge. */
function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
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
    const kind = sample.probe;
    if (typeof kind !== 'string' || !(PROBE_KINDS as readonly string[]).includes(kind)) {
      return {
        ok: false,
        reason: 'schema',
        error: `/samples/${i}/probe: must be one of ${PROBE_KINDS.join(', ')}, got ${brief(kind)}`,
      };
    }
    const validate = sampleValidators[kind as ProbeKind];
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
