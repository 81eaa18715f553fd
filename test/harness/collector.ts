// The real collector for tests: in process through startCollector, or as a child process
// (`node bin/vigie.js collector --config FILE`) that can be killed -9 and restarted.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import type { CollectorObserver } from '../../collector/observer.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { createLogger } from '../../shared/log.ts';
import { buildBatch } from '../../shared/messages.ts';
import { loadRegistry } from '../../shared/registry.ts';
import type { Sample } from '../../shared/schemas.ts';
import { metricsTopic } from '../../shared/topics.ts';
import { Daemon, sleep, tempDir } from './daemon.ts';
import type { InfluxHandle } from './influxdb.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CONNECTED = 'connected to the MQTT broker';

export interface TestCollectorConfig {
  mqttUrl?: string;
  influxUrl: string;
  database: string;
  clientId?: string;
  group?: string;
  schools?: string;
  /** Merged over the collector section (ingest, wal, influx...). */
  extra?: Record<string, unknown>;
  walDir?: string;
}

/** A collector section with test-friendly defaults: fast flushes and retries, its own WAL dir. */
export function collectorSection(cfg: TestCollectorConfig): Record<string, unknown> {
  const extra = cfg.extra ?? {};
  const sub = (key: string) => (extra[key] as Record<string, unknown> | undefined) ?? {};
  return {
    ...extra,
    ...(cfg.schools ? { schools: cfg.schools } : {}),
    ...(cfg.mqttUrl
      ? {
          mqtt: {
            url: cfg.mqttUrl,
            clientId: cfg.clientId ?? `test-collector-${process.pid}`,
            keepaliveS: 10,
            reconnectS: 0.2,
            ...(cfg.group ? { group: cfg.group } : {}),
            ...sub('mqtt'),
          },
        }
      : { broker: { host: '127.0.0.1', port: 0, ...sub('broker') } }),
    influx: {
      url: cfg.influxUrl,
      database: cfg.database,
      flushMs: 50,
      retryMinMs: 50,
      retryMaxMs: 1000,
      ...sub('influx'),
    },
    wal: { dir: cfg.walDir ?? tempDir('collector-wal'), fsyncMs: 50, ...sub('wal') },
    ingest: { ...sub('ingest') },
    // The HTTP API is another engineer's and would fight over its port when collectors run side by side.
    http: { enabled: false, ...sub('http') },
  };
}

export async function startTestCollector(
  cfg: TestCollectorConfig,
  observers: CollectorObserver[] = [],
): Promise<CollectorHandle> {
  return startCollector(collectorSection(cfg), {
    observers,
    ...(cfg.schools ? { schools: loadRegistry(cfg.schools) } : {}),
    logger: createLogger('test-collector', process.env['VIGIE_LOG_LEVEL'] ?? 'silent'),
  });
}

export interface CollectorProcess {
  daemon: Daemon;
  configFile: string;
  dir: string;
}

/**
 * The collector as its own process; ready once it logged its broker connection. `nodeArgs`: --cpu-prof,
 * say; `readyTimeoutMs`: how long a (re)start may take (Daemon's default otherwise).
 */
export function collectorProcess(
  cfg: TestCollectorConfig,
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
  readyTimeoutMs?: number,
): CollectorProcess {
  const dir = tempDir('collector-proc');
  const configFile = join(dir, 'vigie.yaml');
  writeFileSync(configFile, stringify({ collector: collectorSection({ walDir: join(dir, 'wal'), ...cfg }) }));
  const countConnections = () => {
    try {
      return readFileSync(join(dir, 'collector.log'), 'utf8').split(CONNECTED).length - 1;
    } catch {
      return 0;
    }
  };
  let wanted = 1;
  const daemon = new Daemon({
    name: 'collector',
    binary: process.execPath, // the Node under test (scripts/test-node-lines), not the PATH's
    args: [...nodeArgs, join(ROOT, 'bin/vigie.js'), 'collector', '--config', configFile],
    dir,
    env: { VIGIE_LOG_LEVEL: 'info', ...env },
    ready: async () => countConnections() >= wanted,
    ...(readyTimeoutMs ? { readyTimeoutMs } : {}),
  });
  // Each (re)start is ready once the log holds one more broker connection than before.
  const start = daemon.start.bind(daemon);
  daemon.start = () => {
    wanted = countConnections() + 1;
    return start();
  };
  return { daemon, configFile, dir };
}

/** One sample of every kind, every optional field set, at time t. */
export function everySample(t: number, target = 'gateway'): Sample[] {
  return [
    {
      probe: 'ping',
      t,
      target,
      role: 'gateway',
      sent: 10,
      received: 9,
      lossPct: 10,
      minMs: 1.1,
      avgMs: 2.2,
      maxMs: 5.5,
      medianMs: 2,
      p95Ms: 5,
      jitterMs: 0.7,
      duplicates: 2,
      late: 1,
      error: 'PARTIAL',
    },
    {
      probe: 'dns',
      t,
      resolver: '198.18.0.53',
      name: 'ent.example.test',
      ok: true,
      rcode: 'NOERROR',
      timeMs: 12.5,
    },
    {
      probe: 'http',
      t,
      target: `https://${target}/`,
      ok: false,
      status: 503,
      ttfbMs: 40,
      totalMs: 80.25,
      certDaysLeft: 42.5,
      error: 'HTTP_503',
    },
    {
      probe: 'wan',
      t,
      source: 'snmp',
      iface: 'ge-0/0/1',
      inBps: 12_345_678.5,
      outBps: 1_234_567,
      inPct: 12.3,
      outPct: 6.1,
      counterReset: false,
    },
    {
      probe: 'wifi',
      t,
      ap: 'AP salle 1',
      up: true,
      reachable: true,
      uptimeS: 86_400.5,
      rebooted: false,
      radiosUp: 2,
      radiosTotal: 2,
      clients: 17,
      error: 'NONE',
    },
    {
      probe: 'speedtest',
      t,
      target,
      ok: true,
      downBps: 95e6,
      upBps: 19e6,
      downBytes: 12_000_000,
      upBytes: 2_400_000,
      durationMs: 2500,
      error: 'NONE',
    },
    {
      probe: 'self',
      t,
      version: '0.1.0',
      uptimeS: 3600,
      rssBytes: 52_000_000,
      cpuPct: 1.5,
      spoolBytes: 0,
      spoolBatches: 0,
      spoolDropped: 0,
    },
  ];
}

/** n samples cycling through every kind, targets numbered so the points stay distinct. */
export function manySamples(t: number, n: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; out.length < n; i++) out.push(...everySample(t, `target-${i}`).slice(0, n - out.length));
  return out;
}

/** A batch as an agent sends it (shared/messages.ts). */
export const makeBatch = buildBatch;

/** How many distinct seq InfluxDB holds for one agent, and the count of batch points. */
export async function storedSeqs(influx: InfluxHandle, db: string, agent: string): Promise<Set<number>> {
  const rows = await influx.rows(`SELECT seq FROM "batch" WHERE agent = '${agent}'`, db);
  return new Set(rows.map((r) => Number(r['seq'])));
}

const PUBLISH_WINDOW = 32;

export interface LoadPublisher {
  /** Seqs published and acked by the broker so far. */
  readonly acked: number;
  stop(): Promise<void>;
}

/**
 * Publishes a steady stream of small batches (QoS 1) from one agent at about `perSecond` batches/s,
 * seq from 0, each with a distinct t; stops after `count` or on stop().
 */
export async function publishLoad(opts: {
  url: string;
  uai: string;
  agent: string;
  perSecond: number;
  count: number;
  samplesPerBatch?: number;
  startT?: number;
}): Promise<LoadPublisher> {
  const client = await mqtt.connectAsync(opts.url, {
    clientId: `load-${opts.agent}-${process.pid}`,
    clean: true,
  });
  const topic = metricsTopic(opts.uai, opts.agent);
  const t0 = opts.startT ?? Date.now() - opts.count * 10;
  let acked = 0;
  let stopped = false;
  // Paced by the clock, with up to WINDOW publishes awaiting their PUBACK: the rate holds even when
  // the broker is slow to answer one.
  const inflight = new Set<Promise<void>>();
  const done = (async () => {
    const started = Date.now();
    for (let seq = 0; seq < opts.count && !stopped; seq++) {
      const t = t0 + seq * 10;
      const samples = manySamples(t, opts.samplesPerBatch ?? 2);
      const body = JSON.stringify(makeBatch(opts.uai, opts.agent, seq, t, samples));
      const p: Promise<void> = client.publishAsync(topic, body, { qos: 1 }).then(() => {
        acked++;
        inflight.delete(p);
      });
      inflight.add(p);
      if (inflight.size >= PUBLISH_WINDOW) await Promise.race(inflight);
      const ahead = started + ((seq + 1) * 1000) / opts.perSecond - Date.now();
      if (ahead > 0) await sleep(ahead);
    }
    await Promise.all(inflight);
  })();
  return {
    get acked() {
      return acked;
    },
    stop: async () => {
      stopped = true;
      await done;
      await client.endAsync();
    },
  };
}
