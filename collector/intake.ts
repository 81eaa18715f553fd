// Decides what to do with one MQTT message: a pure function of (topic, payload, registry, now).
// Shared schemas first, then what only the collector knows: the topic, its clock, its registry,
// and whether InfluxDB can store every string exactly. It never throws: a message that makes any step
// fail is refused (internal_error), so it cannot stop the stream behind it.
import type { School } from '../shared/registry.ts';
import type { EventMessage, MetricsBatch, StatusMessage } from '../shared/schemas.ts';
import { parseTopic } from '../shared/topics.ts';
import type { Uai } from '../shared/uai.ts';
import { decodeEvent, decodeMetrics, decodeStatus, type RejectReason } from '../shared/validate.ts';
import type { IngestConfig } from './config.ts';
import { LineProtocolError } from './line-protocol.ts';
import { batchToLines } from './mapping.ts';

/**
 * Shared reasons, plus: the topic is not ours, a string cannot be stored exactly in InfluxDB, or
 * deciding threw (a bug the message found: refused rather than retried forever).
 */
export type IntakeRejectReason = RejectReason | 'bad_topic' | 'unwritable' | 'internal_error';

export type IntakeResult =
  | { kind: 'metrics'; batch: MetricsBatch; lines: string; points: number; knownSchool: boolean }
  | { kind: 'status'; msg: StatusMessage; knownSchool: boolean }
  | { kind: 'event'; msg: EventMessage; knownSchool: boolean }
  | { kind: 'rejected'; reason: IntakeRejectReason; error: string; uai?: Uai };

export interface IntakeContext {
  schools: ReadonlyMap<string, School> | null;
  config: Pick<IngestConfig, 'maxPayloadBytes' | 'maxFutureMs' | 'maxPastMs' | 'rejectUnknownSchools'>;
  now: number;
}

const reject = (reason: IntakeRejectReason, error: string, uai?: Uai): IntakeResult => ({
  kind: 'rejected',
  reason,
  error,
  ...(uai ? { uai } : {}),
});

function clockProblem(t: number, where: string, ctx: IntakeContext, uai: Uai): IntakeResult | null {
  if (t > ctx.now + ctx.config.maxFutureMs) {
    return reject(
      'clock_future',
      `${where} is ${Math.round((t - ctx.now) / 1000)} s ahead of the collector's clock (limit ${ctx.config.maxFutureMs / 1000} s)`,
      uai,
    );
  }
  if (t < ctx.now - ctx.config.maxPastMs) {
    return reject(
      'clock_past',
      `${where} is ${Math.round((ctx.now - t) / 1000)} s old (limit ${ctx.config.maxPastMs / 1000} s)`,
      uai,
    );
  }
  return null;
}

/**
 * What to do with one message (payload: the raw MQTT bytes). Never throws. Metrics, status and events
 * are all clock-checked against `now` (ms since epoch): see statusClock for the exception.
 */
export function intake(topic: string, payload: Buffer, ctx: IntakeContext): IntakeResult {
  const seen: { uai?: Uai } = {};
  try {
    return decide(topic, payload, ctx, seen);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return reject(
      'internal_error',
      `the collector failed on this message: ${e.name}: ${e.message}`,
      seen.uai,
    );
  }
}

/**
 * A status's `t` may be far in the past and still right: an agent's will is stamped when it connected,
 * and a retained birth is as old as the connection. Only a future `t` or `startedAt` is wrong: a status
 * dated years ahead made a reporting school show offline (presence's lag) and froze its agent version.
 */
function statusClock(msg: StatusMessage, ctx: IntakeContext, uai: Uai): IntakeResult | null {
  const future = (t: number, where: string) =>
    t > ctx.now + ctx.config.maxFutureMs ? clockProblem(t, where, ctx, uai) : null;
  return future(msg.t, '/t') ?? (msg.startedAt === undefined ? null : future(msg.startedAt, '/startedAt'));
}

function decide(topic: string, payload: Buffer, ctx: IntakeContext, seen: { uai?: Uai }): IntakeResult {
  const parsed = parseTopic(topic);
  if (!parsed.ok) return reject('bad_topic', parsed.error);
  const { uai, agent, kind } = parsed.topic;
  seen.uai = uai;
  const school = ctx.schools?.get(uai);
  const knownSchool = ctx.schools === null || school !== undefined;
  if (!knownSchool && ctx.config.rejectUnknownSchools) {
    return reject('unknown_school', `school ${uai} is not in the registry`, uai);
  }
  const decoded =
    kind === 'metrics'
      ? decodeMetrics(payload, ctx.config.maxPayloadBytes)
      : kind === 'status'
        ? decodeStatus(payload)
        : decodeEvent(payload);
  if (!decoded.ok) return reject(decoded.reason, decoded.error, uai);
  const msg = decoded.value;
  if (msg.uai !== uai || msg.agent !== agent) {
    return reject('topic_mismatch', `payload says ${msg.uai}/${msg.agent}, topic says ${uai}/${agent}`, uai);
  }
  if (kind === 'status') {
    const status = msg as StatusMessage;
    const clock = statusClock(status, ctx, uai);
    if (clock) return clock;
    return { kind: 'status', msg: status, knownSchool };
  }
  if (kind === 'events') {
    const clock = clockProblem(msg.t, '/t', ctx, uai);
    if (clock) return clock;
    return { kind: 'event', msg: msg as EventMessage, knownSchool };
  }

  const batch = msg as MetricsBatch;
  const batchClock = clockProblem(batch.t, '/t', ctx, uai);
  if (batchClock) return batchClock;
  for (let i = 0; i < batch.samples.length; i++) {
    const sampleClock = clockProblem(batch.samples[i]!.t, `/samples/${i}/t`, ctx, uai);
    if (sampleClock) return sampleClock;
  }
  try {
    const lines = batchToLines(batch, school, ctx.now);
    return { kind: 'metrics', batch, lines, points: batch.samples.length + 1, knownSchool };
  } catch (err) {
    if (err instanceof LineProtocolError) return reject('unwritable', err.message, uai);
    throw err;
  }
}
