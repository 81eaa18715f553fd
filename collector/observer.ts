// What the ingest core tells the rest of the collector (presence, alerts, the HTTP API).
// Observers are called synchronously on the ingest path: they must be quick and never throw.

import type { EventMessage, MetricsBatch, StatusMessage } from '../shared/schemas.ts';
import type { Uai } from '../shared/uai.ts';

/** An agent's clock as measured by the collector: aheadMs estimated, correctMs applied to its times. */
export interface ClockReading {
  aheadMs: number;
  correctMs: number;
}

export interface CollectorObserver {
  /** A valid status message (birth, graceful offline, or will), retained ones included at subscribe time. */
  /** clockShiftMs: how far ahead the agent's clock runs, as corrected in its batches (msg itself is not). */
  onStatus?(msg: StatusMessage, info: { retained: boolean; receivedAt: number; clockShiftMs?: number }): void;
  /**
   * A valid metrics batch, after it is safe in the write-ahead log, its times already corrected by
   * clock.correctMs (0 unless the agent's clock is off by more than 2 s; collector/clock-offset.ts).
   */
  onMetrics?(batch: MetricsBatch, info: { receivedAt: number; clock?: ClockReading }): void;
  onEvent?(msg: EventMessage, info: { receivedAt: number }): void;
  /** The collector's own broker connection: while it is down nobody may be declared offline. */
  onBrokerConnection?(up: boolean, at: number): void;
  /** A message was refused; uai is known when the topic parsed. */
  onRejected?(reason: string, info: { uai?: Uai; topic: string; at: number }): void;
}
