// What the ingest core tells the rest of the collector (presence, alerts, the HTTP API).
// Observers are called synchronously on the ingest path: they must be quick and never throw.

import type { EventMessage, MetricsBatch, StatusMessage } from '../shared/schemas.ts';
import type { Uai } from '../shared/uai.ts';

export interface CollectorObserver {
  /** A valid status message (birth, graceful offline, or will), retained ones included at subscribe time. */
  onStatus?(msg: StatusMessage, info: { retained: boolean; receivedAt: number }): void;
  /** A valid metrics batch, after it is safe in the write-ahead log. */
  onMetrics?(batch: MetricsBatch, info: { receivedAt: number }): void;
  onEvent?(msg: EventMessage, info: { receivedAt: number }): void;
  /** The collector's own broker connection: while it is down nobody may be declared offline. */
  onBrokerConnection?(up: boolean, at: number): void;
  /** A message was refused; uai is known when the topic parsed. */
  onRejected?(reason: string, info: { uai?: Uai; topic: string; at: number }): void;
}
