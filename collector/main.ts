// `vigie collector --config FILE`: load the config, run until SIGTERM or SIGINT, stop cleanly.
import { loadVigieConfig } from '../cli/config-file.ts';
import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger, redactUrl } from '../shared/log.ts';
import { loadRegistry, RegistryError } from '../shared/registry.ts';
import { type PresenceAndAlerts, startPresenceAndAlerts } from './alerts/setup.ts';
import type { CollectorConfig } from './config.ts';
import { HttpFrontend, type HttpHandle } from './http/frontend.ts';
import type { CollectorObserver } from './observer.ts';
import type { PointSink } from './point.ts';
import { type CollectorHandle, startCollector } from './service.ts';

/**
 * The rest of the collector plugs in here: presence, alerts, the HTTP API each add their observer
 * (a factory receives the point sink for the points they write).
 */
function collectorObservers(
  config: CollectorConfig,
  log: Logger,
  front: HttpFrontend,
  started: { presence?: PresenceAndAlerts },
): ((points: PointSink) => CollectorObserver)[] {
  const { presence, alerts, influx, schools } = config;
  return [
    (points) => {
      started.presence = startPresenceAndAlerts({
        presence,
        alerts,
        influx,
        schools,
        points,
        log,
        muted: front.muted,
      });
      return started.presence.observer;
    },
    () => front.observer,
  ];
}

export async function runCollectorCommand(opts: { config: string }): Promise<number> {
  const log = createLogger('collector');
  let handle: CollectorHandle;
  let http: HttpHandle | undefined;
  const started: { presence?: PresenceAndAlerts } = {};
  try {
    const { config, overrides, warnings } = loadVigieConfig(opts.config);
    if (!config.collector) {
      process.stderr.write(`vigie collector: ${opts.config} has no \`collector:\` section\n`);
      return 2;
    }
    if (overrides.length) log.info({ overrides }, 'config values taken from the environment');
    for (const w of warnings) log.warn(w);
    const front = new HttpFrontend();

    const schools = config.collector.schools ? loadRegistry(config.collector.schools) : undefined;
    handle = await startCollector(config.collector, {
      logger: log,
      ...(schools ? { schools } : {}),
      observers: collectorObservers(config.collector, log, front, started),
    });
    const c = config.collector;
    if (c.http.enabled) {
      // Ingest matters more than the API: a taken port is logged, not fatal.
      http = await front
        .start({
          http: c.http,
          influx: c.influx,
          collector: handle,
          schools: c.schools,
          presence: started.presence,
          grafanaSchoolUrl: c.alerts.dashboard.schoolUrl,
          log: log.child({ component: 'http' }),
        })
        .catch((err: Error) => {
          log.error(
            { err: err.message, port: c.http.port },
            'HTTP API not started; ingest goes on without it',
          );
          return undefined;
        });
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RegistryError) {
      process.stderr.write(`vigie collector: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  log.info(
    { broker: redactUrl(handle.brokerUrl), influx: redactUrl(handle.config.influx.url) },
    'collector running',
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping');
  await http?.close();
  await handle.stop();
  // After ingest stopped: alerts already queued still go out (up to 5 s), none is lost to the restart.
  await started.presence?.stop();
  log.info(handle.counters(), 'collector stopped');
  return 0;
}
