// The collector's ingest, composed: MQTT in (ingest/mqtt-source.ts), each message routed
// (ingest/router.ts) to the observers (ingest/observers.ts) and, for metrics, to the write-ahead log
// shipped to InfluxDB (ingest/durable-sink.ts). Everything else in the collector (presence, alerts, the
// HTTP API) plugs in as CollectorObservers and writes through `points`.
import { createLogger, type Logger } from '../shared/log.ts';
import type { School } from '../shared/registry.ts';
import { CardinalityGuard, type CardinalityStats } from './cardinality-guard.ts';
import { type CollectorConfig, resolveCollectorConfig } from './config.ts';
import { type DeadLetter, DeadLetters } from './dead-letters.ts';
import type { EmbeddedBrokerStats } from './embedded-broker.ts';
import { DurableSink, type DurableSinkStats } from './ingest/durable-sink.ts';
import { MqttSource } from './ingest/mqtt-source.ts';
import { ObserverFanOut } from './ingest/observers.ts';
import { MessageRouter, type RouterCounts } from './ingest/router.ts';
import type { CollectorObserver } from './observer.ts';
import type { PointSink } from './point.ts';
import { writeSchoolPointsDaily } from './school-points.ts';

export interface IngestParts {
  /** The registry, loaded once by the composition root; null: every UAI is accepted as unknown. */
  schools: ReadonlyMap<string, School> | null;
  log: Logger;
  now: () => number;
}

/** Everything the collector counts: the router's and the durable sink's figures, plus what only the whole knows. */
export interface CollectorCounters extends RouterCounts, DurableSinkStats {
  /** Refused messages (and points InfluxDB refused), by reason. */
  rejected: Record<string, number>;
  brokerConnected: boolean;
  observerErrors: number;
  /** Series bounds: what the tracker holds, samples dropped, schools forgotten at its own bound. */
  cardinality: CardinalityStats;
  /** The embedded broker's refusals and password file, when it runs. */
  embeddedBroker?: EmbeddedBrokerStats;
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

/** The ingest before it listens: observers added now see the first messages (retained statuses). */
export interface Ingest extends CollectorHandle {
  /** Starts shipping the log and connects to the broker; messages flow from here on. */
  connect(): Promise<void>;
}

const STATS_EVERY_MS = 60_000;

export function createIngest(config: CollectorConfig, { schools, log, now }: IngestParts): Ingest {
  const deadLetters = new DeadLetters(config.ingest.deadLetters, log);
  const cardinality = new CardinalityGuard(config.ingest.cardinality, { schools, deadLetters, log });
  const observers = new ObserverFanOut(log);
  const sink = new DurableSink({ config, deadLetters, log, now });
  const router = new MessageRouter({
    ingest: config.ingest,
    schools,
    cardinality,
    deadLetters,
    sink,
    observers,
    log,
    now,
  });
  const source = new MqttSource({
    config,
    handler: router,
    onConnection: (up) => observers.notify((o) => o.onBrokerConnection?.(up, now())),
    log,
  });
  const stopSchoolPoints = writeSchoolPointsDaily(schools, sink.points, now);

  const snapshot = (): CollectorCounters => {
    const broker = source.brokerStats();
    return {
      ...router.counts,
      received: { ...router.counts.received },
      rejected: { ...deadLetters.byReason },
      ...sink.stats(),
      brokerConnected: source.connected,
      observerErrors: observers.errors,
      cardinality: cardinality.stats(),
      ...(broker ? { embeddedBroker: broker } : {}),
    };
  };
  const statsTimer = setInterval(() => log.info(snapshot(), 'collector counters'), STATS_EVERY_MS);
  statsTimer.unref();

  let stopping: Promise<void> | null = null;
  return {
    config,
    points: sink.points,
    get brokerUrl() {
      return source.brokerUrl;
    },
    counters: snapshot,
    deadLetters: () => deadLetters.recent(),
    addObserver: (o) => observers.add(o),
    drained: () => sink.drained(),
    async connect() {
      await source.connect();
      sink.start();
    },
    stop: () => {
      stopping ??= (async () => {
        clearInterval(statsTimer);
        stopSchoolPoints();
        await source.disconnect();
        await sink.close();
        await source.closeBroker();
      })();
      return stopping;
    },
  };
}

export interface CollectorOptions {
  /** Observers, or factories given the point sink (presence writes its transitions through it). */
  observers?: (CollectorObserver | ((points: PointSink) => CollectorObserver))[];
  logger?: Logger;
  /** The registry, loaded by the caller: required when the config names one (loaded once per process). */
  schools?: ReadonlyMap<string, School>;
  now?: () => number;
}

/** Ingest with its observers, connected: for tests and benches that need no composition root. */
export async function startCollector(input: unknown, opts: CollectorOptions = {}): Promise<CollectorHandle> {
  const config = resolveCollectorConfig(input);
  if (config.schools && !opts.schools)
    throw new Error(`startCollector: load the registry ${config.schools} once and pass it as opts.schools`);
  const ingest = createIngest(config, {
    schools: opts.schools ?? null,
    log: opts.logger ?? createLogger('collector'),
    now: opts.now ?? Date.now,
  });
  for (const o of opts.observers ?? []) ingest.addObserver(typeof o === 'function' ? o(ingest.points) : o);
  await ingest.connect();
  return ingest;
}
