// The collector's two jobs for the yearly figures, started once ingest is connected and loaded only
// then (dynamic imports: the report's code and its holiday calendar are not needed to be ready,
// test/integration/collector-start-imports.test.ts):
// - day rollups (collector/day-rollup.ts): per school and local day, what a yearly report reads;
// - monthly availability points (collector/availability-points.ts): the Continuity dashboard's
//   figures, from the report engine.
// None when the collector writes to a points file instead of InfluxDB.
import type { Logger } from '../shared/log.ts';
import type { CollectorConfig } from './config.ts';
import { InfluxHttp } from './influx-http.ts';
import type { PointSink } from './point.ts';

export interface ReportJobs {
  /** Stops both jobs; a query still in flight ends with its own timeout. */
  stop(): Promise<void>;
}

/** Starts both jobs in the background; a failure to load them is logged, ingest goes on. */
export function startReportJobs(config: CollectorConfig, points: PointSink, log: Logger): ReportJobs {
  if (config.pointsFile) return { stop: async () => {} };
  let availability: { stop(): void } | null = null;
  let days: { stop(): Promise<void> } | null = null;
  let stopped = false;
  const http = new InfluxHttp({ ...config.influx, gzip: true });
  void Promise.all([
    import('./day-rollup.ts'),
    import('./availability-points.ts'),
    import('../report/api.ts'),
    import('../report/influx.ts'),
  ]).then(
    ([{ startDayRollups }, { startAvailabilityPoints }, { reportService }, { reportInflux }]) => {
      if (stopped) return;
      days = startDayRollups({
        http,
        database: config.influx.database,
        retention: config.retention,
        timeZone: config.alerts.timezone,
        log: log.child({ component: 'day-rollup' }),
      });
      availability = startAvailabilityPoints({
        source: reportService({
          influx: config.influx,
          retention: config.retention,
          alerts: config.alerts,
          report: config.report,
        }),
        points,
        stored: { influx: reportInflux(config.influx), policy: config.retention.rollup.name },
        log: log.child({ component: 'availability' }),
        now: Date.now,
      });
    },
    (err: unknown) => log.error({ err }, 'the day rollups and monthly availability jobs could not be loaded'),
  );
  return {
    async stop() {
      stopped = true;
      availability?.stop();
      await days?.stop();
      void http.close();
    },
  };
}
