// The collector's ingest: MQTT in, write-ahead log, InfluxDB out. Everything else in the collector
// (presence, alerts, the HTTP API) plugs in as CollectorObservers and writes through `points`.
//
// Ack timing: mqtt.js handles one incoming packet at a time and sends the PUBACK when handleMessage
// calls back. We call back as soon as the message is in the write-ahead log, so the stream never waits
// for InfluxDB; only a full log holds the callback (back-pressure: the broker keeps the rest).
import { readFileSync } from 'node:fs';
import type { IPublishPacket } from 'mqtt';
import mqtt, { type MqttClient } from 'mqtt';
import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger, redactUrl } from '../shared/log.ts';
import { loadRegistry, type School } from '../shared/registry.ts';
import { topicFilter } from '../shared/topics.ts';
import type { Uai } from '../shared/uai.ts';
import { CardinalityGuard, type CardinalityStats } from './cardinality-guard.ts';
import { type CollectorConfig, resolveCollectorConfig } from './config.ts';
import { type DeadLetter, DeadLetters, shouldLog } from './dead-letters.ts';
import { type EmbeddedBroker, type EmbeddedBrokerStats, startEmbeddedBroker } from './embedded-broker.ts';
import { PointsFile } from './file-sink.ts';
import { InfluxHttp } from './influx-http.ts';
import { intake } from './intake.ts';
import { LineProtocolError, toLines } from './line-protocol.ts';
import type { CollectorObserver } from './observer.ts';
import type { Point, PointSink } from './point.ts';
import { applyRetention } from './retention.ts';
import { schoolInfoPoints } from './school-points.ts';
import { Shipper } from './shipper.ts';
import { WriteAheadLog } from './wal.ts';

export interface CollectorOptions {
  /** Observers, or factories given the point sink (presence writes its transitions through it). */
  observers?: (CollectorObserver | ((points: PointSink) => CollectorObserver))[];
  logger?: Logger;
  /** The registry, instead of loading `config.schools`. */
  schools?: ReadonlyMap<string, School>;
  now?: () => number;
}

export interface CollectorCounters {
  received: { metrics: number; status: number; events: number };
  acceptedBatches: number;
  acceptedPoints: number;
  /** Refused messages (and points InfluxDB refused), by reason. */
  rejected: Record<string, number>;
  /** Messages from schools missing from the registry (accepted or not, per config). */
  unknownSchools: number;
  walBytes: number;
  walSegments: number;
  /** Times the log reached its bound and acks were held; `backpressure` says whether it is now. */
  backpressureEvents: number;
  backpressure: boolean;
  influxUp: boolean;
  influxWrites: number;
  pointsWritten: number;
  writeRetries: number;
  lastWriteError: string | null;
  brokerConnected: boolean;
  observerErrors: number;
  /** Series bounds: what the tracker holds, samples dropped, schools forgotten at its own bound. */
  cardinality: CardinalityStats;
  /** The embedded broker's refusals and password file, when it runs. */
  embeddedBroker?: EmbeddedBrokerStats;
  /** Appends that failed with a local I/O error (disk full...): the message was left unacked for redelivery. */
  localFaults: number;
}

export interface CollectorHandle {
  readonly config: CollectorConfig;
  /** Where presence and alerts write their points: same log, same batches, same guarantees. */
  readonly points: PointSink;
  /** The broker the collector listens to (the embedded one when no URL is configured). */
  readonly brokerUrl: string;
  counters(): CollectorCounters;
  deadLetters(): DeadLetter[];
  addObserver(o: CollectorObserver): void;
  /** Resolves when everything accepted so far is in InfluxDB. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 3000;
const STATS_EVERY_MS = 60_000;
/** Messages handled in one turn of the event loop (a few ms) before other I/O gets its turn. */
const INTAKE_TURN = 64;
/** The registry as `school` points, daily: the latest one per school stays inside the raw retention. */
const SCHOOLS_EVERY_MS = 24 * 3600_000;

interface HeldMessage {
  record: Buffer;
  lines: number;
  release: () => void;
}

export async function startCollector(input: unknown, opts: CollectorOptions = {}): Promise<CollectorHandle> {
  const config = resolveCollectorConfig(input);
  const log = opts.logger ?? createLogger('collector');
  const now = opts.now ?? Date.now;
  const schools = opts.schools ?? (config.schools ? loadRegistry(config.schools) : null);
  const deadLetters = new DeadLetters(config.ingest.deadLetters, log);
  const cardinality = new CardinalityGuard(config.ingest.cardinality, { schools, deadLetters, log });
  const observers: CollectorObserver[] = [];
  const counters = {
    received: { metrics: 0, status: 0, events: 0 },
    acceptedBatches: 0,
    acceptedPoints: 0,
    unknownSchools: 0,
    backpressureEvents: 0,
    brokerConnected: false,
    observerErrors: 0,
    localFaults: 0,
  };

  const wal = new WriteAheadLog(config.wal);
  if (wal.tornBytes) log.warn({ bytes: wal.tornBytes }, 'write-ahead log: cut a torn record left by a crash');
  if (wal.unconfirmedBytes)
    log.info({ bytes: wal.unconfirmedBytes }, 'write-ahead log: replaying the unconfirmed tail');

  let stopping: Promise<void> | null = null;
  const http = new InfluxHttp({ ...config.influx, timeoutMs: config.influx.timeoutMs });
  const held: HeldMessage[] = [];
  const pointsFile = config.pointsFile ? new PointsFile(config.pointsFile) : null;
  if (pointsFile)
    log.info(
      { file: pointsFile.path },
      `no InfluxDB: points go to ${pointsFile.path} (line protocol); load them later with \`vigie replay ${pointsFile.path} --influx URL\``,
    );
  const shipper = new Shipper(
    wal,
    pointsFile ?? http,
    {
      ...config.influx,
      urgentBytes: Math.floor(config.wal.maxBytes / 2),
      ...(config.retention.manage ? { rp: config.retention.raw.name } : {}),
    },
    log,
    async () => {
      if (config.retention.manage && !pointsFile)
        await applyRetention(http, config.influx.database, config.retention);
    },
    (line, message) =>
      deadLetters.add({ at: now(), reason: 'influx_rejected', error: message, payload: line }),
    () => releaseHeld(),
  );

  const full = (size: number) =>
    wal.unconfirmedBytes > 0 && wal.unconfirmedBytes + size > config.wal.maxBytes;

  function append(record: Buffer, lines: number): void {
    wal.append(record);
    shipper.appended(lines);
  }

  function releaseHeld(): void {
    while (held.length && !full(held[0]!.record.length)) {
      const h = held.shift()!;
      append(h.record, h.lines);
      h.release();
    }
    if (held.length === 0 && backpressure) {
      backpressure = false;
      log.debug({ walBytes: wal.unconfirmedBytes }, 'write-ahead log has room again: acking resumes');
    }
  }
  let backpressure = false;
  let lastBackpressureLog: number | undefined;

  const notify = (fn: (o: CollectorObserver) => void) => {
    for (const o of observers) {
      try {
        fn(o);
      } catch (err) {
        counters.observerErrors++;
        log.error({ err }, 'a collector observer threw');
      }
    }
  };

  const points: PointSink = {
    write(list: Point[]) {
      let lines: string;
      try {
        lines = toLines(list);
      } catch (err) {
        if (!(err instanceof LineProtocolError)) throw err;
        deadLetters.add({
          at: now(),
          reason: 'unwritable',
          error: err.message,
          payload: JSON.stringify(list[0]),
        });
        return;
      }
      // Presence and alert points are few: they go in even past the bound, never held.
      append(Buffer.from(lines), list.length);
    },
    written: () => shipper.written(),
  };
  for (const o of opts.observers ?? []) observers.push(typeof o === 'function' ? o(points) : o);
  const writeSchools = () => {
    if (schools?.size) points.write(schoolInfoPoints(schools.values(), now()));
  };
  writeSchools();
  const schoolsTimer = setInterval(writeSchools, SCHOOLS_EVERY_MS);
  schoolsTimer.unref();

  function refuse(packet: IPublishPacket, at: number, reason: string, error: string, uai?: Uai): void {
    const kind = topicKind(packet.topic);
    if (kind) counters.received[kind]++;
    deadLetters.add({
      at,
      reason,
      error,
      topic: packet.topic,
      uai,
      ...(packet.retain ? { retained: true } : {}),
      payload: packet.payload,
    });
    notify((o) => o.onRejected?.(reason, { uai, topic: packet.topic, at }));
  }

  /**
   * Something threw while handling a message. A local I/O fault (disk full, read-only file system) is
   * not the message's: no ack, the connection drops and the broker redelivers it once the session is
   * back, so nothing is lost. Anything else the message will cause again on every redelivery: refused
   * (internal_error) and acked, so the stream behind it goes on.
   */
  function ingestFault(packet: IPublishPacket, err: unknown, ack: () => void): void {
    if (isLocalIoError(err)) {
      counters.localFaults++;
      log.error(
        { err, topic: packet.topic, times: counters.localFaults },
        'could not make a message durable (local I/O fault); dropping the connection without acking',
      );
      client.stream.destroy();
      return;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    try {
      const at = now();
      if (shouldLog(lastFaultLog, at)) {
        lastFaultLog = at;
        log.error({ err: e, topic: packet.topic }, 'a message made the collector throw: refused and acked');
      }
      refuse(packet, at, 'internal_error', `the collector failed on this message: ${e.name}: ${e.message}`);
    } catch (again) {
      log.error(
        { err: again, topic: packet.topic },
        'could not record a refused message; acked all the same',
      );
    }
    ack();
  }
  let lastFaultLog: number | undefined;

  function handleMessage(packet: IPublishPacket, done: () => void): void {
    const at = now();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const result = cardinality.admit(
      intake(packet.topic, payload, { schools, config: config.ingest, now: at }),
      packet,
      at,
    );
    if (result.kind !== 'rejected' && !result.knownSchool) counters.unknownSchools++;
    switch (result.kind) {
      case 'rejected': {
        if (result.reason === 'unknown_school') counters.unknownSchools++;
        refuse(packet, at, result.reason, result.error, result.uai);
        done(); // acked: a refused message is never retried
        return;
      }
      case 'status':
        counters.received.status++;
        notify((o) => o.onStatus?.(result.msg, { retained: packet.retain, receivedAt: at }));
        done();
        return;
      case 'event':
        counters.received.events++;
        notify((o) => o.onEvent?.(result.msg, { receivedAt: at }));
        done();
        return;
      case 'metrics': {
        counters.received.metrics++;
        counters.acceptedBatches++;
        counters.acceptedPoints += result.points;
        const record = Buffer.from(result.lines);
        const accepted = () => notify((o) => o.onMetrics?.(result.batch, { receivedAt: at }));
        if (held.length === 0 && !full(record.length)) {
          append(record, result.points);
          accepted();
          done();
          return;
        }
        if (!backpressure) {
          backpressure = true;
          counters.backpressureEvents++;
          if (shouldLog(lastBackpressureLog, at)) {
            lastBackpressureLog = at;
            log.warn(
              {
                walBytes: wal.unconfirmedBytes,
                maxBytes: config.wal.maxBytes,
                times: counters.backpressureEvents,
              },
              'write-ahead log is full: holding MQTT acks until InfluxDB catches up (back-pressure)',
            );
          }
        }
        held.push({
          record,
          lines: result.points,
          release: () => {
            accepted();
            done();
          },
        });
      }
    }
  }

  let broker: EmbeddedBroker | null = null;
  let brokerUrl = config.mqtt?.url;
  if (!brokerUrl) {
    broker = await startEmbeddedBroker(config.broker, log);
    brokerUrl = broker.url;
    log.info({ url: broker.url }, 'no broker configured: running the embedded MQTT broker');
  }
  const mq = config.mqtt;
  const protocolVersion = broker ? 4 : (mq?.protocolVersion ?? 5);
  const ca = mq?.ca ? readCa(mq.ca) : undefined;
  const client: MqttClient = mqtt.connect(brokerUrl, {
    clientId: broker?.login.clientId ?? mq?.clientId ?? 'vigie-collector',
    clean: false,
    protocolVersion,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: mq?.sessionExpiryS ?? 604800 } } : {}),
    keepalive: mq?.keepaliveS ?? 60,
    reconnectPeriod: (mq?.reconnectS ?? 2) * 1000,
    // The embedded broker keeps the collector's client id for the login it drew for it.
    username: broker?.login.username ?? mq?.username,
    password: broker?.login.password ?? mq?.password,
    ...(ca ? { ca, rejectUnauthorized: true } : {}),
    queueQoSZero: false,
    resubscribe: true,
  });
  // mqtt.js hands over every packet it has read before the event loop turns again: up to 2 MB (libuv
  // reads 32 × 64 KiB at once), some 600 messages and 70 ms, during which the shipper's writes to
  // InfluxDB wait. So after INTAKE_TURN messages the ack, and with it the next message, waits for the
  // next turn. And as mqtt.js uncorks its socket after every packet, the socket stays corked for the
  // turn: the PUBACKs leave in one write (one wake-up of the broker), each after its message is in the log.
  let turn = 0;
  client.handleMessage = (packet, callback) => {
    if (turn === 0) {
      const stream = client.stream;
      stream.cork();
      setImmediate(() => {
        turn = 0;
        stream.uncork();
      });
    }
    const later = ++turn >= INTAKE_TURN;
    let acked = false;
    const ack = () => {
      if (acked) return;
      acked = true;
      if (later) setImmediate(() => callback());
      else callback();
    };
    try {
      handleMessage(packet, ack);
    } catch (err) {
      ingestFault(packet, err, ack);
    }
  };
  const metricsFilter = mq?.group ? `$share/${mq.group}/${topicFilter('metrics')}` : topicFilter('metrics');
  client.on('connect', (connack) => {
    counters.brokerConnected = true;
    log.info(
      { url: redactUrl(brokerUrl), sessionPresent: connack.sessionPresent },
      'connected to the MQTT broker',
    );
    notify((o) => o.onBrokerConnection?.(true, now()));
    client.subscribe(
      {
        [metricsFilter]: { qos: 1 },
        [topicFilter('status')]: { qos: 1 },
        [topicFilter('events')]: { qos: 1 },
      },
      (err) => {
        if (err) log.error({ err }, 'subscription refused');
      },
    );
  });
  client.on('close', () => {
    if (!counters.brokerConnected || stopping) return;
    counters.brokerConnected = false;
    log.warn({ url: redactUrl(brokerUrl) }, 'lost the MQTT broker; reconnecting');
    notify((o) => o.onBrokerConnection?.(false, now()));
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'MQTT error'));
  shipper.warmUp();
  shipper.pump(true);

  const snapshot = (): CollectorCounters => ({
    ...counters,
    received: { ...counters.received },
    rejected: { ...deadLetters.byReason },
    walBytes: wal.unconfirmedBytes,
    walSegments: wal.segmentCount,
    backpressure,
    influxUp: shipper.stats.influxUp,
    influxWrites: shipper.stats.writes,
    pointsWritten: shipper.stats.pointsWritten,
    writeRetries: shipper.stats.retries,
    lastWriteError: shipper.stats.lastError,
    cardinality: cardinality.stats(),
    ...(broker ? { embeddedBroker: broker.stats() } : {}),
  });
  const statsTimer = setInterval(() => log.info(snapshot(), 'collector counters'), STATS_EVERY_MS);
  statsTimer.unref();

  return {
    config,
    points,
    brokerUrl,
    counters: snapshot,
    deadLetters: () => deadLetters.recent(),
    addObserver: (o) => observers.push(o),
    drained: () => shipper.drained(),
    stop: () => {
      stopping ??= (async () => {
        clearInterval(statsTimer);
        clearInterval(schoolsTimer);
        await client.endAsync(true);
        // A short grace for writes under way; what InfluxDB has not taken stays in the log for the next start.
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([
          shipper.drained(),
          new Promise((resolve) => {
            grace = setTimeout(resolve, STOP_GRACE_MS);
          }),
        ]);
        clearTimeout(grace);
        shipper.stop();
        wal.close();
        await http.close();
        await pointsFile?.close();
        await broker?.close();
      })();
      return stopping;
    },
  };
}

const topicKind = (topic: string): keyof CollectorCounters['received'] | null =>
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

/** The broker's CA for mqtts://: a missing file is a configuration error, said before connecting. */
function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError('collector config', [
      {
        path: 'collector.mqtt.ca',
        expected: 'a readable PEM file',
        found: `${path} (${(err as Error).message})`,
      },
    ]);
  }
}
