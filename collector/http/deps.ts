// What the HTTP server needs from the rest of the collector, as small interfaces: presence, alerts,
// silences, counters, InfluxDB. The server holds no state of its own beyond what these give it.
import type { School } from '../../shared/registry.ts';
import type { Uai } from '../../shared/uai.ts';
import type { PresenceState } from '../presence/state.ts';

export type { PresenceState };

export interface AgentPresenceView {
  agent: string;
  state: PresenceState;
  since: number;
  lastSeenAt: number;
  /** How far ahead (s) the agent's clock runs, as the collector corrects its samples; 0 when right. */
  clockOffsetS?: number;
}

export interface SchoolPresenceView {
  uai: string;
  state: PresenceState;
  /** ms since epoch, collector clock. */
  since: number;
  reason: string;
  agents: AgentPresenceView[];
}

export interface PresenceSource {
  schools(): Iterable<SchoolPresenceView>;
  school(uai: string): SchoolPresenceView | undefined;
  /** Called after a school's presence changed; returns the unsubscribe function. */
  onChange(listener: (uai: string) => void): () => void;
}

/** The latest live measurements of a school (collector/http/readings.ts keeps them). */
export interface SchoolReading {
  lastSeenAt: number | null;
  /** When the collector received the latency, loss and WAN figures below (its clock): their age. */
  readingAt: number | null;
  latencyMs: number | null;
  lossPct: number | null;
  /** From the WAN interface counters (what the school is using right now). */
  wanInBps: number | null;
  wanOutBps: number | null;
  /** From the last speed test (what the link can do). */
  speedtestDownBps: number | null;
  speedtestUpBps: number | null;
  speedtestAt: number | null;
  agentVersion: string | null;
}

export interface ReadingsSource {
  reading(uai: string): SchoolReading | undefined;
  uais(): Iterable<string>;
  onChange(listener: (uai: string) => void): () => void;
}

export interface RegistrySource {
  schools(): Iterable<School>;
  school(uai: string): School | undefined;
}

export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface AlertView {
  id: string;
  /** offline, loss, latency, ap_down, wan_saturation, mass_outage... */
  kind: string;
  severity: AlertSeverity;
  uai?: string;
  commune?: string;
  summary: string;
  startedAt: number;
  resolvedAt?: number;
  /** Silenced or inside a maintenance window: recorded, nobody paged. */
  suppressed?: boolean;
}

export interface AlertsSource {
  open(): AlertView[];
  /** Resolved alerts, newest first. */
  past(limit: number): AlertView[];
}

/**
 * What a silence or maintenance window applies to: every list given must hold the school's value.
 * `{}` matches every school; a given but empty list matches none (a list that came out empty must
 * never widen a window to the whole fleet). The API refuses empty lists.
 */
export interface Scope {
  uai?: string[];
  commune?: string[];
  isp?: string[];
}

export interface Silence {
  id: string;
  scope: Scope;
  /** Alert kinds; empty: all. */
  kinds: string[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdAt: number;
}
export type NewSilence = Omit<Silence, 'id' | 'createdAt'>;

export interface MaintenanceWindow {
  id: string;
  scope: Scope;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  createdAt: number;
}
export type NewMaintenanceWindow = Omit<MaintenanceWindow, 'id' | 'createdAt'>;

export interface SilenceStore {
  list(): Silence[];
  create(s: NewSilence): Silence | Promise<Silence>;
  /** False when no such silence. */
  remove(id: string): boolean | Promise<boolean>;
}

export interface MaintenanceStore {
  list(): MaintenanceWindow[];
  create(w: NewMaintenanceWindow): MaintenanceWindow | Promise<MaintenanceWindow>;
  remove(id: string): boolean | Promise<boolean>;
}

/** Cumulative figures of the collector since it started, read at each scrape. */
export interface CollectorStats {
  messagesIn: Record<'metrics' | 'status' | 'events', number>;
  rejected: Record<string, number>;
  batchesWritten: number;
  batchesFailed: number;
  pointsWritten: number;
  /** InfluxDB write latency: cumulative counts per upper bound in seconds (Prometheus `le`). */
  writeLatency?: { buckets: Record<string, number>; sum: number; count: number };
  /** The write-ahead log's unconfirmed bytes, and points waiting for InfluxDB when known. */
  queueDepth: { points?: number; walBytes: number };
  /** Messages waiting for an ack while the log is full (back-pressure). */
  backpressure?: boolean;
  acks?: number;
  /** Alerts delivered, by channel (webhook, email, alertmanager). */
  alertsSent: Record<string, number>;
  /** Alert deliveries that failed after their retries, by channel. */
  alertsFailed?: Record<string, number>;
  /** Entries of the windows file not applied because they cannot be read (collector/http/mute-windows.ts). */
  windowsUnreadable?: number;
}

export interface Readiness {
  /** The collector's own broker connection. */
  brokerConnected(): boolean;
}

export interface InfluxRows {
  columns: string[];
  values: unknown[][];
  tags?: Record<string, string>;
  name: string;
}

/** Runs one InfluxQL statement with bound parameters; resolves the series of its result. */
export type InfluxQuery = (query: string, params?: Record<string, string | number>) => Promise<InfluxRows[]>;

export interface HttpDeps {
  registry: RegistrySource;
  presence: PresenceSource;
  readings: ReadingsSource;
  alerts?: AlertsSource;
  silences?: SilenceStore;
  maintenance?: MaintenanceStore;
  stats?: () => CollectorStats;
  readiness?: Readiness;
  influx: { query: InfluxQuery; ping(): Promise<boolean>; database: string };
  /** Clock, for tests. */
  now?: () => number;
}

export type { School, Uai };
