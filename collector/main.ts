// `vigie collector --config FILE`: the collector's one composition root. Loads the config and the
// registry once, creates ingest, adds the observers (presence and alerts, the HTTP API's readings),
// then connects: observers must see the first messages, retained statuses included.

import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger, redactUrl } from '../shared/log.ts';
import { loadRegistry, RegistryError } from '../shared/registry.ts';
import { startFileProblems } from '../shared/start-files.ts';
import { type CollectorConfig, resolveCollectorConfig } from './config.ts';
import { collectorStartFiles, loadCollectorConfig } from './config-file.ts';
import { HttpFrontend, type HttpHandle } from './http/frontend.ts';
import { startPresenceAndAlerts } from './presence-and-alerts.ts';
import { startReportJobs } from './report-jobs.ts';
import { type CollectorCounters, createIngest } from './service.ts';

interface RunningCollector {
  brokerUrl: string;
  counters(): CollectorCounters;
  /** HTTP first, then ingest; alerts already queued still go out after (up to 5 s), none is lost to the restart. */
  stop(): Promise<void>;
}

async function composeCollector(config: CollectorConfig, log: Logger): Promise<RunningCollector> {
  const schools = config.schools ? loadRegistry(config.schools) : null;
  const ingest = createIngest(config, { schools, log, now: Date.now });
  const front = new HttpFrontend();
  const watch = startPresenceAndAlerts({
    presence: config.presence,
    alerts: config.alerts,
    // With a points file there is no InfluxDB to rebuild from (nor to wait for).
    ...(config.pointsFile ? {} : { influx: config.influx }),
    ...(schools ? { schools } : {}),
    points: ingest.points,
    log,
    muted: front.muted,
    // Several collectors in one group: each judges the whole stream and stamps alike (docs/deploy.md).
    stampFromMessages: Boolean(config.mqtt?.group),
  });
  ingest.addObserver(watch.observer);
  ingest.addObserver(front.observer);
  await ingest.connect();
  const reportJobs = startReportJobs(config, ingest, log);

  let http: HttpHandle | undefined;
  if (config.http.enabled) {
    // Ingest matters more than the API: a taken port is logged, not fatal.
    http = await front
      .start({
        http: config.http,
        influx: config.influx,
        collector: ingest,
        schools: schools ?? undefined,
        presence: watch,
        grafanaSchoolUrl: config.alerts.dashboard.schoolUrl,
        report: { retention: config.retention, alerts: config.alerts, report: config.report },
        log: log.child({ component: 'http' }),
      })
      .catch((err: Error) => {
        log.error(
          { err: err.message, port: config.http.port },
          'HTTP API not started; ingest goes on without it',
        );
        return undefined;
      });
  }
  return {
    brokerUrl: ingest.brokerUrl,
    counters: () => ingest.counters(),
    async stop() {
      await http?.close();
      await ingest.stop();
      await watch.stop();
      await reportJobs.stop();
    },
  };
}

export async function runCollectorCommand(opts: { config: string }): Promise<number> {
  const log = createLogger('collector');
  let collector: RunningCollector;
  try {
    const { config, overrides, warnings } = loadCollectorConfig(opts.config);
    if (!config.collector) {
      process.stderr.write(`vigie collector: ${opts.config} has no \`collector:\` section\n`);
      return 2;
    }
    if (overrides.length) log.info({ overrides }, 'config values taken from the environment');
    for (const w of warnings) log.warn(w);
    // Checked again as a whole: the embedded broker's exposure is said before anything starts.
    const collectorConfig = resolveCollectorConfig(config.collector);
    // A missing CA, registry or unwritable folder would not come by retrying: said before anything starts.
    const files = startFileProblems(collectorStartFiles(collectorConfig));
    if (files.length) throw new ConfigError(opts.config, files);
    collector = await composeCollector(collectorConfig, log);
    log.info(
      { broker: redactUrl(collector.brokerUrl), influx: redactUrl(collectorConfig.influx.url) },
      'collector running',
    );
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RegistryError) {
      process.stderr.write(`vigie collector: ${err.message}\n`);
      return 2;
    }
    // Anything else before the collector runs (a port taken, a certificate that is not PEM) would not
    // come by retrying: one line, exit 2, and no half-started ingest keeping the process alive.
    log.debug({ err }, 'collector not started');
    process.stderr.write(`vigie collector: cannot start: ${(err as Error).message.split('\n')[0]}\n`);
    setTimeout(() => process.exit(2), 200).unref();
    return 2;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping');
  await collector.stop();
  log.info(collector.counters(), 'collector stopped');
  return 0;
}
