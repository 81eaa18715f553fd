// Decides what to do with one MQTT message: a pure function of (topic, payload, registry, now).
// Shared schemas first, then what only the collector knows: the topic, its clock, its registry,
// and whether InfluxDB can store every string exactly. It never throws: a message that makes any step
// fail is refused (internal_error), so it cannot stop the stream behind it.
import type { School } from '../shared/registry.ts';
import type { EventMessage, MetricsBatch, StatusMessage } from '../shared/schemas.ts';
import { parseTopic } from '../shared/topics.ts';
import type { Uai } from '../shared/uai.ts';
import { decodeEvent, decodeMetrics, decodeStatus, type RejectReason } from '../shared/validate.ts';
import { type AgentClock, type ClockBook, observeClock } from './clock-offset.ts';
import type { IngestConfig } from './config.ts';
import { LineProtocolError } from './line-protocol.ts';
import { batchToLines } from './mapping.ts';

/**
 * Shared reasons, plus: the topic is not ours, a string cannot be stored exactly in InfluxDB, or
 * deciding threw (a bug the message found: refused rather than retried forever).
 */
export type IntakeRejectReason = RejectReason | 'bad_topic' | 'unwritable' | 'internal_error';

export type IntakeResult =
  | {
      kind: 'metrics';
      /** Times corrected (every t minus clock.correctMs): what presence and alerts read. */
      batch: MetricsBatch;
      lines: string;
      points: number;
      knownSchool: boolean;
      /** The agent's clock as measured with this batch (collector/clock-offset.ts). */
      clock: AgentClock;
    }
  | { kind: 'status'; msg: StatusMessage; knownSchool: boolean }
  | { kind: 'event'; msg: EventMessage; knownSchool: boolean }
  | { kind: 'rejected'; reason: IntakeRejectReason; error: string; uai?: Uai };

export interface IntakeContext {
  schools: ReadonlyMap<string, School> | null;
  config: Pick<IngestConfig, 'maxPayloadBytes' | 'maxFutureMs' | 'maxPastMs' | 'rejectUnknownSchools'>;
  now: number;
  /** Per-agent clock offsets, fed by every batch; without it each batch is measured on its own. */
  clocks?: ClockBook;
  /** The message was replayed by the broker at subscribe (MQTT retain flag). */
  retained?: boolean;
}

/** Times before this (ms, 2020-01-01T00:00:00Z) are absurd even after correction: no Vigie box measured then. */
export const EARLIEST_SAMPLE_MS = Date.UTC(2020, 0, 1);

const reject = (reason: IntakeRejectReason, error: string, uai?: Uai): IntakeResult => ({
  kind: 'rejected',
  reason,
  error,
  ...(uai ? { uai } : {}),
});

/** t: already corrected by `shift` (ms the agent's clock runs ahead, corrected), said in the error. */
function clockProblem(
  t: number,
  where: string,
  ctx: IntakeContext,
  uai: Uai,
  shift = 0,
): IntakeResult | null {
  const corrected = shift === 0 ? '' : ` after correcting the agent's clock by ${Math.round(shift / 1000)} s`;
  if (t > ctx.now + ctx.config.maxFutureMs) {
    return reject(
      'clock_future',
      `${where} is ${Math.round((t - ctx.now) / 1000)} s ahead of the collector's clock${corrected} (limit ${ctx.config.maxFutureMs / 1000} s)`,
      uai,
    );
  }
  if (t < ctx.now - ctx.config.maxPastMs) {
    return reject(
      'clock_past',
      `${where} is ${Math.round((ctx.now - t) / 1000)} s old${corrected} (limit ${ctx.config.maxPastMs / 1000} s, the raw retention)`,
      uai,
    );
  }
  if (t < EARLIEST_SAMPLE_MS) {
    return reject('clock_past', `${where} is before 2020${corrected}: the agent's clock is unusable`, uai);
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
 * and a retained birth is as old as the connection. A future `t` is a clock running ahead: with the
 * collector's clock book (`ctx.clocks`), it is measured and corrected like a batch's, never refused —
 * a retained birth or a will from a box an hour ahead, arriving before any batch, was refused as
 * `clock_future` and the school paged offline while connected. A `startedAt` later than `t` is a clock
 * stepped back since the process started: kept. Without a book (a one-off check, nothing to carry the
 * correction to the agent's next messages), a time past `maxFutureMs` is refused as before.
 */
function statusClock(msg: StatusMessage, ctx: IntakeContext, uai: Uai): IntakeResult | null {
  // A fresh birth is stamped as it is sent: it measures the clock like a batch's sentAt (a box that
  // boots an hour ahead says so before its first batch). Any other status proves only a clock ahead.
  if (ctx.clocks && !ctx.retained && msg.state === 'online' && msg.reason === 'birth')
    ctx.clocks.observe(uai, msg.agent, { receivedAt: ctx.now, sentAt: msg.t, sendTime: true });
  else if (ctx.clocks) ctx.clocks.stamped(uai, msg.agent, msg.t, ctx.now);
  if (ctx.clocks) return null;
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
    // Like a status: an event's time proves a clock ahead, measured and corrected with the book.
    const shift = ctx.clocks?.stamped(uai, agent, msg.t, ctx.now).correctMs ?? 0;
    const clock = clockProblem(msg.t - shift, '/t', ctx, uai, shift);
    if (clock) return clock;
    const event = msg as EventMessage;
    return { kind: 'event', msg: shift ? { ...event, t: event.t - shift } : event, knownSchool };
  }

  return decideMetrics(msg as MetricsBatch, school, knownSchool, ctx, uai);
}

/** A metrics batch past the shared checks: its agent's clock measured, its times corrected, as lines. */
function decideMetrics(
  batch: MetricsBatch,
  school: School | undefined,
  knownSchool: boolean,
  ctx: IntakeContext,
  uai: Uai,
): IntakeResult {
  const agent = batch.agent;
  // A wrong clock is measured and corrected, never a reason to refuse (collector/clock-offset.ts).
  const observation = {
    receivedAt: ctx.now,
    sentAt: batch.sentAt ?? batch.t,
    sendTime: batch.sentAt !== undefined,
    ...(batch.lts !== undefined ? { lts: batch.lts } : {}),
  };
  const clock = ctx.clocks
    ? ctx.clocks.observe(uai, agent, observation)
    : observeClock(undefined, observation);
  const shift = clock.correctMs;
  const batchClock = clockProblem(batch.t - shift, '/t', ctx, uai, shift);
  if (batchClock) return batchClock;
  for (let i = 0; i < batch.samples.length; i++) {
    const t = batch.samples[i]!.t;
    const sampleClock = clockProblem(t - shift, `/samples/${i}/t`, ctx, uai, shift);
    if (sampleClock) return sampleClock;
    // Whatever the offset, a sample is measured before its batch is built: later means the agent's
    // own clock contradicts itself, and no offset can place it.
    if (t > batch.t + ctx.config.maxFutureMs)
      return reject(
        'clock_future',
        `/samples/${i}/t is ${Math.round((t - batch.t) / 1000)} s after its own batch was built (/t): the agent's clock contradicts itself`,
        uai,
      );
  }
  try {
    const lines = batchToLines(batch, school, ctx.now, shift);
    return {
      kind: 'metrics',
      batch: shift ? shiftBatch(batch, shift) : batch,
      lines,
      points: batch.samples.length + 1,
      knownSchool,
      clock,
    };
  } catch (err) {
    if (err instanceof LineProtocolError) return reject('unwritable', err.message, uai);
    throw err;
  }
}

/** The batch with every agent time moved back by `shift` ms (the agent's clock runs that far ahead). */
function shiftBatch(b: MetricsBatch, shift: number): MetricsBatch {
  return {
    ...b,
    t: b.t - shift,
    ...(b.sentAt !== undefined ? { sentAt: b.sentAt - shift } : {}),
    samples: b.samples.map((s) => ({ ...s, t: s.t - shift })),
  };
}
