// The report's figures as plain JSON (GET /api/report): the same Report the CLI prints, every
// figure of docs/report.md by its engine name (ms and percent), no personal data.

import type { AlertsConfig } from '../collector/alerts/config.ts';
import { calendarFrom } from '../collector/alerts/schedule.ts';
import type { InfluxConfig, ReportConfig, RetentionConfig } from '../collector/config.ts';
import { type Period, schoolYearOf, schoolYearPeriod } from '../shared/availability/index.ts';
import { computeReportFromInflux } from './compute.ts';
import type { Report } from './figures.ts';
import { reportInflux } from './influx.ts';

export interface ReportJson {
  period: { label: string; from: string; to: string };
  asOf: string;
  timeZone: string;
  targetPct: number;
  /** Thresholds of the quality figures: videoLatencyMs (ms), videoLossPct and contractSharePct (%). */
  quality: { videoLatencyMs: number; videoLossPct: number; contractSharePct: number };
  fleet: unknown;
  communes: unknown[];
  isps: unknown[];
  schools: unknown[];
  annotations: unknown[];
  /** Day rollups that did not decode (their days were read slot by slot): how many, the first few. */
  unreadableDayRollups: { count: number; first: { uai: string; day: string; problem: string }[] };
  /** Hours profiles the registry names and the config lacks: those schools have no school-hours figures. */
  unknownHoursProfiles: { profile: string; uais: string[] }[];
}

export function reportJson(r: Report): ReportJson {
  const group = (g: Report['fleet']) => ({ total: g.total, wifi: g.wifi, months: g.months });
  return {
    period: {
      label: r.period.label,
      from: new Date(r.period.startMs).toISOString(),
      to: new Date(r.period.endMs).toISOString(),
    },
    asOf: new Date(r.asOfMs).toISOString(),
    timeZone: r.timeZone,
    targetPct: r.targetPct,
    quality: r.quality,
    fleet: group(r.fleet),
    communes: r.communes.map((g) => ({ commune: g.key, ...group(g) })),
    isps: r.isps.map((g) => ({ isp: g.key, ...group(g) })),
    schools: r.schools.map(({ total: { outages, ...total }, months, speed, annotations: _, ...school }) => ({
      ...school,
      total,
      outages,
      speed,
      months,
    })),
    annotations: r.annotations,
    unreadableDayRollups: {
      count: r.unreadableDayRollups.count,
      first: r.unreadableDayRollups.first.map((u) => ({ ...u, day: new Date(u.day).toISOString() })),
    },
    unknownHoursProfiles: r.unknownHoursProfiles,
  };
}

export interface ReportRequest {
  period?: Period;
  commune?: string;
  isp?: string;
}

/** What the HTTP API needs to compute a report: the collector's own config. */
export function reportService(cfg: {
  influx: Pick<InfluxConfig, 'url' | 'database' | 'username' | 'password'>;
  retention: RetentionConfig;
  alerts: Pick<AlertsConfig, 'timezone' | 'hours' | 'calendars'>;
  /** Target and quality thresholds (collector.report); absent: the defaults. */
  report?: ReportConfig;
  now?: () => number;
}) {
  const calendar = calendarFrom(cfg.alerts);
  const influx = reportInflux(cfg.influx);
  const now = cfg.now ?? Date.now;
  return {
    timeZone: calendar.timezone,
    /** The current school year, local time. */
    currentSchoolYear: (): Period =>
      schoolYearPeriod(schoolYearOf(now(), calendar.timezone), calendar.timezone),
    async figures(req: ReportRequest): Promise<ReportJson> {
      const nowMs = now();
      const period =
        req.period ?? schoolYearPeriod(schoolYearOf(nowMs, calendar.timezone), calendar.timezone);
      const asOfMs = Math.min(nowMs, period.endMs);
      const filter = {
        ...(req.commune !== undefined ? { commune: req.commune } : {}),
        ...(req.isp !== undefined ? { isp: req.isp } : {}),
      };
      const { report } = await computeReportFromInflux(
        {
          influx,
          retention: cfg.retention,
          timeZone: calendar.timezone,
          startMs: period.startMs,
          endMs: asOfMs,
          nowMs,
          ...filter,
        },
        {
          period,
          calendar,
          asOfMs,
          nowMs,
          filter,
          ...(cfg.report ? { targetPct: cfg.report.targetPct, quality: cfg.report.quality } : {}),
        },
      );
      return reportJson(report);
    },
  };
}
export type ReportService = ReturnType<typeof reportService>;
