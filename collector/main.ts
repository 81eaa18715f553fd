// `vigie collector --config FILE`: load the config, run until SIGTERM or SIGINT, stop cleanly.
import { loadVigieConfig } from '../cli/config-file.ts';
import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { RegistryError } from '../shared/registry.ts';
import { startPresenceAndAlerts } from './alerts/setup.ts';
import type { CollectorConfig } from './config.ts';
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
): ((points: PointSink) => CollectorObserver)[] {
  const { presence, alerts, influx, schools } = config;
  return [(points) => startPresenceAndAlerts({ presence, alerts, influx, schools, points, log }).observer];
}

export async function runCollectorCommand(opts: { config: string }): Promise<number> {
  const log = createLogger('collector');
  let handle: CollectorHandle;
  try {
    const { config, overrides } = loadVigieConfig(opts.config);
    if (!config.collector) {
      process.stderr.write(`vigie collector: ${opts.config} has no \`collector:\` section\n`);
      return 2;
    }
    if (overrides.length) log.info({ overrides }, 'config values taken from the environment');
    handle = await startCollector(config.collector, {
      logger: log,
      observers: collectorObservers(config.collector, log),
    });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RegistryError) {
      process.stderr.write(`vigie collector: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  log.info({ broker: handle.brokerUrl, influx: handle.config.influx.url }, 'collector running');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping');
  await handle.stop();
  log.info(handle.counters(), 'collector stopped');
  return 0;
}
