// The HTTP server inside the collector, in two steps: made before ingest connects (its readings
// observer must see the first messages, retained statuses included; its `muted` goes to the alert
// policy), listening once ingest and presence run. Presence is always the engine's (presence/).

import { createLogger, type Logger } from '../../shared/log.ts';
import type { School } from '../../shared/registry.ts';
import type { MetricsBatch, StatusMessage } from '../../shared/schemas.ts';
import type { Alerting } from '../alerts/alerting.ts';
import type { AlertsConfig } from '../alerts/config.ts';
import type { ReportConfig, RetentionConfig } from '../config.ts';
import type { CollectorObserver } from '../observer.ts';
import type { PresenceMonitor } from '../presence/monitor.ts';
import type { CollectorCounters } from '../service.ts';
import { AlertHistory } from './alert-history.ts';
import type { HttpConfig } from './config.ts';
import type { App } from './context.ts';
import type { CollectorStats, RegistrySource } from './deps.ts';
import { FleetPresence } from './fleet-presence.ts';
import { MuteWindows } from './mute-windows.ts';
import { SchoolReadings } from './readings.ts';

export interface FrontendStart {
  http: HttpConfig;
  influx: { url: string; database: string; username?: string | undefined; password?: string | undefined };
  collector: { counters(): CollectorCounters };
  /** The registry, loaded once by the composition root. */
  schools?: ReadonlyMap<string, School> | undefined;
  /** The presence engine and alert policy. */
  presence: { monitor: PresenceMonitor; alerting: Alerting };
  /** Dashboard link pattern when http.board has none (the alerts' dashboard.schoolUrl). */
  grafanaSchoolUrl?: string | undefined;
  log?: Logger | undefined;
  /** For GET /api/report: the retention policies, the school calendar (collector.alerts), the thresholds. */
  report?: { retention: RetentionConfig; alerts: AlertsConfig; report?: ReportConfig } | undefined;
}

export interface HttpHandle {
  app: App;
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** API-created silences and maintenance windows, for the alert policy. */
  windows: MuteWindows;
  close(): Promise<void>;
}

export function statsFrom(c: CollectorCounters, alerting?: Alerting): CollectorStats {
  const channels = alerting ? Object.entries(alerting.dispatcher.stats()) : [];
  return {
    messagesIn: c.received,
    rejected: c.rejected,
    batchesWritten: c.influxWrites,
    batchesFailed: c.writeRetries,
    pointsWritten: c.pointsWritten,
    queueDepth: { walBytes: c.walBytes },
    backpressure: c.backpressure,
    alertsSent: Object.fromEntries(channels.map(([name, s]) => [name, s.sent])),
    alertsFailed: Object.fromEntries(channels.map(([name, s]) => [name, s.failed])),
  };
}

export class HttpFrontend {
  readonly readings = new SchoolReadings();
  private windows: MuteWindows | undefined;

  /**
   * For the alert policy's PolicyContext.muted: silences and maintenance windows created through
   * the API (null until the server started).
   */
  readonly muted = (
    alert: { kind: string; uai?: string | undefined },
    school: { uai: string; commune?: string; isp?: string } | undefined,
    now: number,
  ) => this.windows?.muted(alert, school, now) ?? null;

  /** Add to the collector's observers. */
  readonly observer: CollectorObserver = {
    onStatus: (msg: StatusMessage, info) => this.readings.onStatus(msg, info),
    onMetrics: (batch: MetricsBatch, info) => this.readings.onMetrics(batch, info),
  };

  async start(opts: FrontendStart): Promise<HttpHandle> {
    // Loaded here, not at import: the server (fastify), the report and the speed test are not needed
    // before ingest is connected, which comes first (collector/main.ts).
    const [{ buildHttpServer }, { speedtestPlugin }, { reportService }, { influxReader }] = await Promise.all(
      [
        import('./server.ts'),
        import('./speedtest.ts'),
        import('../../report/api.ts'),
        import('./influxql.ts'),
      ],
    );
    const log = opts.log ?? createLogger('http');
    const schools = opts.schools ?? new Map<string, School>();
    const registry: RegistrySource = { schools: () => schools.values(), school: (uai) => schools.get(uai) };
    const now = Date.now;
    const presence = new FleetPresence(opts.presence.monitor.fleet);
    const alerts = new AlertHistory(opts.presence.alerting, (uai) => schools.get(uai)?.commune, now);
    const windows = new MuteWindows({ file: opts.http.windowsFile, max: opts.http.maxWindows, now, log });
    this.windows = windows;
    const app = await buildHttpServer(
      opts.http,
      {
        registry,
        presence,
        readings: this.readings,
        alerts,
        silences: windows.silences,
        maintenance: windows.maintenance,
        stats: () => ({
          ...statsFrom(opts.collector.counters(), opts.presence.alerting),
          windowsUnreadable: windows.unreadable,
        }),
        readiness: { brokerConnected: () => opts.collector.counters().brokerConnected },
        influx: influxReader({ ...opts.influx, timeoutMs: opts.http.queryTimeoutMs }),
        now,
      },
      {
        logger: log,
        speedtest: speedtestPlugin,
        grafanaSchoolUrl: opts.grafanaSchoolUrl,
        ...(opts.report ? { report: reportService({ influx: opts.influx, ...opts.report, now }) } : {}),
      },
    );
    app.addHook('onClose', async () => {
      presence.close();
      alerts.close();
    });
    const url = await app.listen({ host: opts.http.host, port: opts.http.port });
    log.info({ url, presence: 'engine' }, 'HTTP API and status board listening');
    return { app, url, windows, close: () => app.close() };
  }
}
