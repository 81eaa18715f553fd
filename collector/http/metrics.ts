// /metrics: the collector's own figures in Prometheus text. The ingest, writer and alert channels
// keep their counters; this module reads them at each scrape (no second set of counters to drift).
import { Counter, collectDefaultMetrics, type Metric, type MetricValue, Registry } from 'prom-client';
import { labelsNormalised } from '../line-protocol.ts';
import type { CollectorStats } from './deps.ts';

type Kind = 'counter' | 'gauge' | 'histogram';

interface ScrapeMetric {
  name: string;
  help: string;
  type: Kind;
  aggregator: 'sum';
  get(): { name: string; help: string; type: Kind; aggregator: 'sum'; values: MetricValue<string>[] };
}

function scraped(name: string, help: string, type: Kind, values: () => MetricValue<string>[]): ScrapeMetric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name, help, type, aggregator: 'sum', values: values() }),
  };
}

const byLabel = (label: string, record: Record<string, number> | undefined) =>
  Object.entries(record ?? {}).map(([k, value]) => ({ labels: { [label]: k }, value }));

export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  /** Bearer tokens refused (API or speed test), and requests refused 429 for them. */
  authFailures: Counter;
  authThrottled: Counter;
  /** Request bodies cut for arriving too slowly, by route. */
  bodyTimeouts: Counter<'route'>;
  /** Speed tests refused (busy, client_busy, too_large, rate_limited) and cut (idle, total, too_large). */
  speedtestRefused: Counter<'reason'>;
  speedtestCut: Counter<'reason'>;
}

// Long: one declaration per exported metric, each a few lines.
export function createMetrics(opts: {
  stats?: (() => CollectorStats) | undefined;
  schoolCounts: () => Record<string, number>;
  streams: () => number;
}): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigie_collector_' });
  // One snapshot per scrape, so the figures of one scrape agree with each other.
  let snap: CollectorStats | undefined;
  let snapAt = -1;
  const stats = () => {
    if (!opts.stats) return undefined;
    const now = performance.now();
    if (now - snapAt > 50) {
      snap = opts.stats();
      snapAt = now;
    }
    return snap;
  };
  const metrics: ScrapeMetric[] = [
    scraped('vigie_collector_messages_total', 'MQTT messages received, by topic kind', 'counter', () =>
      byLabel('kind', stats()?.messagesIn),
    ),
    scraped('vigie_collector_rejected_total', 'Messages refused, by reason', 'counter', () =>
      byLabel('reason', stats()?.rejected),
    ),
    scraped('vigie_collector_batches_written_total', 'Batches InfluxDB accepted', 'counter', () =>
      single(stats()?.batchesWritten),
    ),
    scraped('vigie_collector_batches_failed_total', 'Batch writes that failed (retried)', 'counter', () =>
      single(stats()?.batchesFailed),
    ),
    scraped('vigie_collector_points_written_total', 'Points InfluxDB accepted', 'counter', () =>
      single(stats()?.pointsWritten),
    ),
    scraped('vigie_collector_influx_write_seconds', 'Latency of InfluxDB writes', 'histogram', () => {
      const w = stats()?.writeLatency;
      if (!w) return [];
      const bounds = Object.keys(w.buckets).sort((a, b) => Number(a) - Number(b));
      return [
        ...bounds.map((le) => ({
          metricName: 'vigie_collector_influx_write_seconds_bucket',
          labels: { le },
          value: w.buckets[le]!,
        })),
        { metricName: 'vigie_collector_influx_write_seconds_bucket', labels: { le: '+Inf' }, value: w.count },
        { metricName: 'vigie_collector_influx_write_seconds_sum', labels: {}, value: w.sum },
        { metricName: 'vigie_collector_influx_write_seconds_count', labels: {}, value: w.count },
      ];
    }),
    scraped('vigie_collector_queue_points', 'Points waiting for InfluxDB', 'gauge', () =>
      single(stats()?.queueDepth.points),
    ),
    scraped(
      'vigie_collector_backpressure',
      '1 while MQTT acks are held because the log is full',
      'gauge',
      () => {
        const b = stats()?.backpressure;
        return single(b === undefined ? undefined : Number(b));
      },
    ),
    scraped('vigie_collector_wal_bytes', 'Write-ahead log bytes not yet confirmed by InfluxDB', 'gauge', () =>
      single(stats()?.queueDepth.walBytes),
    ),
    scraped('vigie_collector_acks_total', 'MQTT messages acknowledged', 'counter', () =>
      single(stats()?.acks),
    ),
    scraped('vigie_collector_alerts_sent_total', 'Alert notifications delivered, by channel', 'counter', () =>
      byLabel('channel', stats()?.alertsSent),
    ),
    scraped(
      'vigie_collector_alerts_failed_total',
      'Alert notifications that failed after retries, by channel',
      'counter',
      () => byLabel('channel', stats()?.alertsFailed),
    ),
    scraped(
      'vigie_collector_windows_unreadable',
      'Silences and maintenance windows in the windows file that cannot be read, so not applied',
      'gauge',
      () => single(stats()?.windowsUnreadable),
    ),
    scraped(
      'vigie_collector_labels_normalised_total',
      'Tag values (tag) and string fields (field) InfluxDB could not store as sent, normalised by shared/labels.ts',
      'counter',
      () => byLabel('kind', labelsNormalised()),
    ),
    scraped('vigie_schools', 'Schools by presence state', 'gauge', () =>
      byLabel('state', opts.schoolCounts()),
    ),
    scraped('vigie_http_streams', 'Live board streams open', 'gauge', () => single(opts.streams())),
  ];
  for (const m of metrics) registry.registerMetric(m as unknown as Metric);
  const requests = new Counter({
    name: 'vigie_http_requests_total',
    help: 'HTTP requests served, by route and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    requests,
    authFailures: counter('vigie_http_auth_failures_total', 'Bearer tokens refused (API and speed test)'),
    authThrottled: counter(
      'vigie_http_auth_throttled_total',
      'Requests refused 429 because their address sent too many wrong tokens',
    ),
    bodyTimeouts: counter('vigie_http_body_timeouts_total', 'Request bodies cut for arriving too slowly', [
      'route',
    ]),
    speedtestRefused: counter('vigie_http_speedtest_refused_total', 'Speed tests refused, by reason', [
      'reason',
    ]),
    speedtestCut: counter('vigie_http_speedtest_cut_total', 'Speed tests cut while running, by reason', [
      'reason',
    ]),
  };
}

function single(value: number | undefined): MetricValue<string>[] {
  return value === undefined ? [] : [{ labels: {}, value }];
}
