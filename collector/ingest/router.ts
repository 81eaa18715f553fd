// One MQTT message in: validated (intake), bounded (cardinality), then told to the observers and,
// for metrics, made durable before its ack. Refused messages become dead letters and are acked.
import type { IPublishPacket } from 'mqtt';
import type { Logger } from '../../shared/log.ts';
import type { School } from '../../shared/registry.ts';
import type { Uai } from '../../shared/uai.ts';
import type { CardinalityGuard } from '../cardinality-guard.ts';
import { ClockBook } from '../clock-offset.ts';
import type { CollectorConfig } from '../config.ts';
import { type DeadLetters, shouldLog } from '../dead-letters.ts';
import { intake } from '../intake.ts';
import type { CopyRole } from './copies.ts';
import type { DurableSink } from './durable-sink.ts';
import type { ObserverFanOut } from './observers.ts';

export interface RouterParts {
  ingest: CollectorConfig['ingest'];
  schools: ReadonlyMap<string, School> | null;
  cardinality: CardinalityGuard;
  deadLetters: DeadLetters;
  sink: DurableSink;
  observers: ObserverFanOut;
  log: Logger;
  now: () => number;
}

export interface RouterCounts {
  received: { metrics: number; status: number; events: number };
  acceptedBatches: number;
  acceptedPoints: number;
  /** Messages from schools missing from the registry (accepted or not, per config). */
  unknownSchools: number;
  /** Appends that failed with a local I/O error (disk full...): the message was left unacked for redelivery. */
  localFaults: number;
  /** A grouped collector's whole-stream copies of metrics (ingest/copies.ts): judged, not stored. */
  observed: number;
  /** Of those, refused: the collector storing that copy records it as a dead letter, not this one. */
  observedRefused: number;
}

/** What to do with the connection after a fault: keep it, or drop it unacked for redelivery. */
export type FaultOutcome = 'acked' | 'drop';

export class MessageRouter {
  readonly counts: RouterCounts = {
    received: { metrics: 0, status: 0, events: 0 },
    acceptedBatches: 0,
    acceptedPoints: 0,
    unknownSchools: 0,
    localFaults: 0,
    observed: 0,
    observedRefused: 0,
  };
  private lastFaultLog: number | undefined;
  /** Every agent's clock offset, measured from its batches (collector/clock-offset.ts). */
  readonly clocks = new ClockBook();

  constructor(private readonly parts: RouterParts) {}

  /**
   * `done` acks the message: at once, or once the log has room for it. `role` (ingest/copies.ts): a
   * `store` copy is made durable without telling the observers, an `observe` copy is told without being
   * stored (nor counted against cardinality, nor dead-lettered: its `store` copy is), `both` does both.
   */
  handle(packet: IPublishPacket, done: () => void, role: CopyRole = 'both'): void {
    const { counts, parts } = this;
    const at = parts.now();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (role === 'observe') {
      this.observe(packet.topic, payload, at);
      done();
      return;
    }
    const result = parts.cardinality.admit(
      intake(packet.topic, payload, {
        schools: parts.schools,
        config: parts.ingest,
        now: at,
        clocks: this.clocks,
        retained: packet.retain,
      }),
      packet,
      at,
    );
    if (result.kind !== 'rejected' && !result.knownSchool) counts.unknownSchools++;
    switch (result.kind) {
      case 'rejected': {
        if (result.reason === 'unknown_school') counts.unknownSchools++;
        this.refuse(packet, at, result.reason, result.error, result.uai);
        done(); // acked: a refused message is never retried
        return;
      }
      case 'status':
        counts.received.status++;
        parts.observers.notify((o) =>
          o.onStatus?.(result.msg, {
            retained: packet.retain,
            receivedAt: at,
            clockShiftMs: this.clocks.get(result.msg.uai, result.msg.agent).correctMs,
          }),
        );
        done();
        return;
      case 'event':
        counts.received.events++;
        parts.observers.notify((o) => o.onEvent?.(result.msg, { receivedAt: at }));
        done();
        return;
      case 'metrics': {
        counts.received.metrics++;
        counts.acceptedBatches++;
        counts.acceptedPoints += result.points;
        const record = Buffer.from(result.lines);
        const clock = { aheadMs: result.clock.aheadMs, correctMs: result.clock.correctMs };
        const accepted = () => {
          if (role === 'both')
            parts.observers.notify((o) => o.onMetrics?.(result.batch, { receivedAt: at, clock }));
        };
        if (parts.sink.tryAppend(record, result.points)) {
          accepted();
          done();
          return;
        }
        parts.sink.hold(record, result.points, () => {
          accepted();
          done();
        });
      }
    }
  }

  /** A whole-stream copy: validated like any message, then told to the observers only. */
  private observe(topic: string, payload: Buffer, at: number): void {
    const { counts, parts } = this;
    counts.observed++;
    // The whole stream measures every agent's clock: presence reads corrected times for all of them.
    const result = intake(topic, payload, {
      schools: parts.schools,
      config: parts.ingest,
      now: at,
      clocks: this.clocks,
    });
    if (result.kind !== 'metrics') {
      counts.observedRefused++;
      return;
    }
    const clock = { aheadMs: result.clock.aheadMs, correctMs: result.clock.correctMs };
    parts.observers.notify((o) => o.onMetrics?.(result.batch, { receivedAt: at, clock }));
  }

  /**
   * Something threw while handling a message. A local I/O fault (disk full, read-only file system) is
   * not the message's: no ack, the connection drops and the broker redelivers it once the session is
   * back, so nothing is lost. Anything else the message will cause again on every redelivery: refused
   * (internal_error) and acked, so the stream behind it goes on.
   */
  fault(packet: IPublishPacket, err: unknown, ack: () => void): FaultOutcome {
    const { log, now } = this.parts;
    if (isLocalIoError(err)) {
      this.counts.localFaults++;
      log.error(
        { err, topic: packet.topic, times: this.counts.localFaults },
        'could not make a message durable (local I/O fault); dropping the connection without acking',
      );
      return 'drop';
    }
    const e = err instanceof Error ? err : new Error(String(err));
    try {
      const at = now();
      if (shouldLog(this.lastFaultLog, at)) {
        this.lastFaultLog = at;
        log.error({ err: e, topic: packet.topic }, 'a message made the collector throw: refused and acked');
      }
      this.refuse(
        packet,
        at,
        'internal_error',
        `the collector failed on this message: ${e.name}: ${e.message}`,
      );
    } catch (again) {
      log.error(
        { err: again, topic: packet.topic },
        'could not record a refused message; acked all the same',
      );
    }
    ack();
    return 'acked';
  }

  private refuse(packet: IPublishPacket, at: number, reason: string, error: string, uai?: Uai): void {
    const kind = topicKind(packet.topic);
    if (kind) this.counts.received[kind]++;
    this.parts.deadLetters.add({
      at,
      reason,
      error,
      topic: packet.topic,
      uai,
      ...(packet.retain ? { retained: true } : {}),
      payload: packet.payload,
    });
    this.parts.observers.notify((o) => o.onRejected?.(reason, { uai, topic: packet.topic, at }));
  }
}

const topicKind = (topic: string): keyof RouterCounts['received'] | null =>
  topic.endsWith('/metrics')
    ? 'metrics'
    : topic.endsWith('/status')
      ? 'status'
      : topic.endsWith('/events')
        ? 'events'
        : null;

/** A failed system call (ENOSPC, EIO, EROFS...): the machine's fault, not the message's. */
export const isLocalIoError = (err: unknown): boolean =>
  err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
