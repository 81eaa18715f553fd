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
import type { CollectorObserver } from './observer.ts';
import type { PointSink } from './point.ts';

/** What the jobs need of ingest: where points go, a look at its batches, its log's backlog. */
export interface ReportJobsIngest {
  points: PointSink;
  addObserver(o: CollectorObserver): void;
  counters(): { walBytes: number };
}

/** Unshipped bytes in the write-ahead log above which InfluxDB is taken to be refilling (an outage). */
const BACKLOG_BYTES = 4 * 1024 * 1024;

export interface ReportJobs {
  /** Stops both jobs; a query still in flight ends with its own timeout. */
  stop(): Promise<void>;
}

/** Starts both jobs in the background; a failure to load them is logged, ingest goes on. */
export function startReportJobs(config: CollectorConfig, ingest: ReportJobsIngest, log: Logger): ReportJobs {
  if (config.pointsFile) return { stop: async () => {} };
  let availability: { stop(): void; late(t: number): void } | null = null;
  let days: { stop(): Promise<void>; late(t: number): void } | null = null;
  // Batches measured days ago (a spool flushed after a long cut): their days are rolled up again, and
  // the previous month's availability recomputed if they belong to it.
  ingest.addObserver({
    onMetrics(batch) {
      let oldest = Number.POSITIVE_INFINITY;
      for (const s of batch.samples) if (s.t < oldest) oldest = s.t;
      if (!Number.isFinite(oldest)) return;
      days?.late(oldest);
      availability?.late(oldest);
    },
  });
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
        backlog: () => ingest.counters().walBytes > BACKLOG_BYTES,
      });
      availability = startAvailabilityPoints({
        source: reportService({
          influx: config.influx,
          retention: config.retention,
          alerts: config.alerts,
          report: config.report,
        }),
        points: ingest.points,
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
