// The collector's section of the config file (`collector:`).

import { join } from 'node:path';
import Type from 'typebox';
import { DEFAULT_QUALITY_THRESHOLDS } from '../report/quality.ts';
import { validatorFor } from '../shared/compiled-schemas.ts';
import { ConfigError } from '../shared/config.ts';
import { MAX_PAYLOAD_BYTES } from '../shared/schemas.ts';
import { describeAjvError } from '../shared/validate.ts';
import { AlertsConfig } from './alerts/config.ts';
import { embeddedBrokerProblems } from './embedded-broker-config.ts';
import { groupProblems } from './group-config.ts';
import { HttpConfig } from './http/config.ts';
import { PresenceConfig } from './presence/config.ts';

const Duration = Type.String({ pattern: '^(INF|[0-9]+(ms|s|m|h|d|w))$', description: 'InfluxQL duration' });

export const CollectorMqttConfig = Type.Object(
  {
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    /** A password over plaintext mqtt:// to another host is refused unless this says the network is trusted. */
    allowPlaintextPassword: Type.Optional(Type.Boolean()),
    ca: Type.Optional(Type.String()),
    /** Fixed, so the broker keeps this collector's persistent session (clean = false) across restarts. */
    clientId: Type.String({ default: 'vigie-collector' }),
    /** Shared-subscription group: collectors in one group split the metrics stream ($share/group/...). */
    group: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 5 }),
    /** MQTT 5: how long the broker keeps the session (and queues messages) while the collector is away. */
    sessionExpiryS: Type.Integer({ minimum: 1, default: 7 * 24 * 3600 }),
    keepaliveS: Type.Integer({ minimum: 5, maximum: 3600, default: 60 }),
    reconnectS: Type.Number({ minimum: 0.1, maximum: 600, default: 2 }),
  },
  { additionalProperties: false },
);

/** The embedded broker (collector/embedded-broker.ts): beyond loopback it wants passwordFile and tls. */
export const EmbeddedBrokerConfig = Type.Object(
  {
    /** Loopback by default: with no accounts, anyone reaching the port could read and forge everything. */
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
    /** The password file `vigie enroll` writes (site/enroll/mosquitto/passwd): set, every client logs in. */
    passwordFile: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM files (deploy/make-pki.sh's server.crt and server.key): set, the listener speaks MQTT over TLS. */
    tls: Type.Optional(
      Type.Object(
        { cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);
export type EmbeddedBrokerConfig = Type.Static<typeof EmbeddedBrokerConfig>;

export const InfluxConfig = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8086' }),
    database: Type.String({ minLength: 1, default: 'vigie' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    /** Points per write (a batch is also cut at batchBytes and after flushMs). */
    batchPoints: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 }),
    batchBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 }),
    flushMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 500 }),
    /** Writes in flight at once; the checkpoint only moves past a contiguous run of accepted writes. */
    concurrency: Type.Integer({ minimum: 1, maximum: 16, default: 4 }),
    gzip: Type.Boolean({ default: true }),
    timeoutMs: Type.Integer({ minimum: 100, default: 15_000 }),
    retryMinMs: Type.Integer({ minimum: 10, default: 250 }),
    retryMaxMs: Type.Integer({ minimum: 10, default: 15_000 }),
  },
  { additionalProperties: false, default: {} },
);

export const RetentionConfig = Type.Object(
  {
    /** Create database, retention policies and continuous queries at start. */
    manage: Type.Boolean({ default: true }),
    raw: Type.Object(
      {
        name: Type.String({ minLength: 1, default: 'raw' }),
        duration: { ...Duration, default: '90d' },
        shardDuration: { ...Duration, default: '1d' },
      },
      { additionalProperties: false, default: {} },
    ),
    rollup: Type.Object(
      {
        name: Type.String({ minLength: 1, default: 'long' }),
        duration: { ...Duration, default: 'INF' },
        interval: { ...Duration, default: '5m' },
        shardDuration: { ...Duration, default: '52w' },
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const WalConfig = Type.Object(
  {
    dir: Type.String({ default: '/var/lib/vigie/collector-wal' }),
    /** Unconfirmed bytes on disk at most; past it the collector stops acking MQTT (back-pressure). */
    maxBytes: Type.Integer({ minimum: 4096, default: 1024 * 1024 * 1024 }),
    segmentBytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024 }),
    /** fsync is grouped: every appended byte is synced within this delay. */
    fsyncMs: Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }),
  },
  { additionalProperties: false, default: {} },
);

/**
 * Series bounds per school (collector/cardinality.ts). Sized so that no valid agent config is refused
 * (agent/probes/config.ts caps ping, DNS and HTTP lists at 64, WAN interfaces at 16 + 8 routers × 16,
 * access points at 128) while a runaway agent adds 160 series per probe, not thousands per second.
 */
export const CardinalityConfig = Type.Object(
  {
    /** Agents a school may have at once: 1–3 boxes, plus a replacement while the old id ages out. */
    maxAgentsPerSchool: Type.Integer({ minimum: 1, default: 4 }),
    /** Distinct tag sets (targets, resolver × name, interfaces, access points) per agent and probe kind. */
    maxSeriesPerProbe: Type.Integer({ minimum: 1, default: 160 }),
    /** An agent or series unseen this long frees its place (a week: a renamed target waits at most that). */
    forgetAfterMs: Type.Integer({ minimum: 60_000, default: 7 * 24 * 3600_000 }),
    /**
     * Schools tracked at once, as many as bench/scale.ts drives one collector to (≈ 200 B per tracked
     * series: 60 MB for 10,000 ordinary schools); past it the least recently seen is forgotten.
     */
    maxSchools: Type.Integer({ minimum: 1, default: 10_000 }),
  },
  { additionalProperties: false, default: {} },
);

export const IngestConfig = Type.Object(
  {
    maxPayloadBytes: Type.Integer({ minimum: 1024, default: MAX_PAYLOAD_BYTES }),
    /** Samples stamped further ahead of the collector's clock are refused (clock_future). */
    maxFutureMs: Type.Integer({ minimum: 0, default: 5 * 60_000 }),
    /** Samples older than this are refused (clock_past); keep it under the raw retention. */
    maxPastMs: Type.Integer({ minimum: 60_000, default: 30 * 24 * 3600_000 }),
    /** Refuse schools missing from the registry (they are counted either way). */
    rejectUnknownSchools: Type.Boolean({ default: false }),
    /** Refused messages kept for inspection. */
    deadLetters: Type.Integer({ minimum: 0, maximum: 10_000, default: 100 }),
    cardinality: CardinalityConfig,
  },
  { additionalProperties: false, default: {} },
);

/**
 * The yearly figures' thresholds (docs/report.md). Defaults: a 99 % availability target; video class
 * per M-Lab's Internet Quality Barometer (IQB) "video conferencing" use case, RTT ≤ 50 ms and loss
 * ≤ 0.5 %; a speed test meets the contract at ≥ 80 % of the contracted rate.
 */
export const ReportConfig = Type.Object(
  {
    /** Availability in school hours the report compares each school with, %. */
    targetPct: Type.Number({ minimum: 0, maximum: 100, default: 99 }), // = report/figures.ts DEFAULT_TARGET_PCT
    quality: Type.Object(
      {
        /** A 5-minute slot fits a video class at a median RTT to the anchors at most this, ms. */
        videoLatencyMs: Type.Number({
          exclusiveMinimum: 0,
          maximum: 10_000,
          default: DEFAULT_QUALITY_THRESHOLDS.videoLatencyMs,
        }),
        /** …and a loss at most this, %. */
        videoLossPct: Type.Number({
          minimum: 0,
          maximum: 100,
          default: DEFAULT_QUALITY_THRESHOLDS.videoLossPct,
        }),
        /** A speed test meets the contract at this share of the contracted download rate, %. */
        contractSharePct: Type.Number({
          exclusiveMinimum: 0,
          maximum: 100,
          default: DEFAULT_QUALITY_THRESHOLDS.contractSharePct,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const CollectorConfig = Type.Object(
  {
    /** School registry, CSV or YAML. */
    schools: Type.Optional(Type.String()),
    /** Absent: an embedded broker (aedes) listens on `broker`. */
    mqtt: Type.Optional(CollectorMqttConfig),
    broker: EmbeddedBrokerConfig,
    influx: InfluxConfig,
    /** Set: points are appended to this line-protocol file instead of InfluxDB (`vigie replay` loads it later). */
    pointsFile: Type.Optional(Type.String({ minLength: 1 })),
    retention: RetentionConfig,
    wal: WalConfig,
    ingest: IngestConfig,
    presence: PresenceConfig,
    alerts: AlertsConfig,
    /** The HTTP API, status board, /metrics and speed-test endpoints. */
    http: HttpConfig,
    /** The yearly report's thresholds (vigie report, GET /api/report, the Continuity dashboard). */
    report: ReportConfig,
  },
  { additionalProperties: false },
);
export type CollectorConfig = Type.Static<typeof CollectorConfig>;
export type CollectorMqttConfig = Type.Static<typeof CollectorMqttConfig>;
export type InfluxConfig = Type.Static<typeof InfluxConfig>;
export type RetentionConfig = Type.Static<typeof RetentionConfig>;
export type WalConfig = Type.Static<typeof WalConfig>;
export type ReportConfig = Type.Static<typeof ReportConfig>;
export type IngestConfig = Type.Static<typeof IngestConfig>;
export type CardinalityConfig = Type.Static<typeof CardinalityConfig>;

/** Fills defaults into a programmatic config (tests, embedding) and checks it like the file loader does. */
/** The silences and maintenance file's name in `wal.dir` when `http.windowsFile` is not set. */
export const DEFAULT_WINDOWS_FILE = 'mute-windows.json';

export function resolveCollectorConfig(input: unknown): CollectorConfig {
  const copy = structuredClone(input ?? {});
  // Compiled at first use (or precompiled by scripts/build): not at import.
  const validate = validatorFor('collectorConfig', CollectorConfig);
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => describeAjvError(e, 'collector'));
    throw new Error(`invalid collector config: ${problems.join('; ')}`);
  }
  const config = copy as CollectorConfig;
  // Silences and maintenance windows created through the API outlive a restart unless told otherwise.
  config.http.windowsFile ??= join(config.wal.dir, DEFAULT_WINDOWS_FILE);
  // Said before anything starts: beyond loopback the embedded broker needs accounts and TLS.
  const exposed = config.mqtt ? [] : embeddedBrokerProblems(config.broker);
  if (exposed.length) throw new ConfigError('collector config', exposed);
  const grouped = groupProblems(config);
  if (grouped.length) throw new ConfigError('collector config', grouped);
  return config;
}
