// The collector's watch over the schools, as one observer: presence judges, the alert policy decides,
// channels deliver. It owns the collector's only periodic timer, the presence tick (presence.tickMs),
// which also drives the alerts' timers; everything it drives is deterministic in presence/ and
// alerts/policy.ts. At start it rebuilds the state from InfluxDB (`ready`).
import { createLogger, type Logger } from '../shared/log.ts';
import type { School } from '../shared/registry.ts';
import {
  DEFAULT_HOURS_PROFILE,
  hoursProfile,
  openMsBetween,
  type SchoolCalendar,
} from '../shared/school-hours.ts';
import { Alerting, channelsFrom } from './alerts/alerting.ts';
import type { Channel } from './alerts/channels/channel.ts';
import type { AlertsConfig } from './alerts/config.ts';
import type { PolicyContext, SchoolInfo } from './alerts/policy.ts';
import { restoreAfterRestart } from './alerts/restart.ts';
import { clockRound, roundsOfBatch } from './alerts/rounds.ts';
import { calendarFrom } from './alerts/schedule.ts';
import type { CollectorConfig } from './config.ts';
import type { CollectorObserver } from './observer.ts';
import type { PointSink } from './point.ts';
import type { PresenceConfig } from './presence/config.ts';
import type { FleetRules } from './presence/fleet.ts';
import { PresenceMonitor } from './presence/monitor.ts';
import { PresenceStamps } from './presence/stamps.ts';
import { DEFAULT_THRESHOLDS, mergeThresholdLevels, type Thresholds } from './thresholds.ts';

export interface PresenceAndAlertsOptions {
  presence: PresenceConfig;
  alerts: AlertsConfig;
  influx?: CollectorConfig['influx'];
  /** The registry, loaded once by the composition root (none: every school is alertable). */
  schools?: ReadonlyMap<string, School>;
  points: PointSink;
  /** Instead of the channels from the config (tests inject none of their own: they use real receivers). */
  channels?: Channel[];
  log?: Logger;
  now?: () => number;
  /** Silences and maintenance windows kept outside the config (the HTTP API's). */
  muted?: PolicyContext['muted'];
  /**
   * One of several collectors in a group: presence times read from the messages (presence/stamps.ts),
   * so every collector writes the same points and pages the same start times.
   */
  stampFromMessages?: boolean;
}

export interface PresenceAndAlerts {
  observer: CollectorObserver;
  monitor: PresenceMonitor;
  alerting: Alerting;
  /** Resolves once presence goes on: rebuilt from InfluxDB, skipped, or the hold bound passed (alerts/restart.ts). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

// Long: the runtime wiring of presence, outages and alerts in start order; each step is a few lines.
export function startPresenceAndAlerts(opts: PresenceAndAlertsOptions): PresenceAndAlerts {
  const log = opts.log ?? createLogger('presence');
  const now = opts.now ?? Date.now;
  const registry = opts.schools ?? new Map<string, School>();
  const info = (uai: string): SchoolInfo | undefined => {
    const s = registry.get(uai);
    return s
      ? { uai, name: s.name, commune: s.commune, isp: s.isp, hours: s.hours ?? DEFAULT_HOURS_PROFILE }
      : undefined;
  };
  const calendar = calendarFrom(opts.alerts);
  warnUnknownHours(registry, calendar, log);
  // With a registry, a box under an unlisted UAI is a setup mistake (ingest counts it): recorded, not paged.
  const alertable = (uai: string) => registry.size === 0 || registry.has(uai);
  const thresholds = mergeThresholdLevels(DEFAULT_THRESHOLDS, opts.alerts.thresholds);
  const alerting = new Alerting(
    opts.alerts,
    info,
    opts.channels ?? channelsFrom(opts.alerts.channels),
    log,
    opts.muted,
  );
  alerting.recordTo(opts.points);
  const p = opts.presence;
  const stamps = opts.stampFromMessages ? new PresenceStamps(p.maxAgents) : undefined;
  const monitor = new PresenceMonitor(monitorConfig(p, thresholds), {
    points: opts.points,
    school: info,
    schoolHoursMs: (uai, start, end) =>
      openMsBetween(calendar, info(uai)?.hours ?? DEFAULT_HOURS_PROFILE, start, end),
    log,
    now,
    identity: { holdMs: p.takeoverHoldSeconds * 1000, quietMs: p.duplicateQuietSeconds * 1000 },
    ...(stamps ? { stamps } : {}),
    onEffect: (e) => {
      if (e.kind === 'duplicate_identity') {
        if (alertable(e.uai))
          alerting.handle(
            { kind: 'identity', uai: e.uai, agent: e.agent, duplicated: e.duplicated, since: e.since },
            now(),
          );
        return;
      }
      if (e.kind !== 'transition' || e.transition.scope !== 'school' || !alertable(e.transition.uai)) return;
      const t = e.transition;
      const school = monitor.fleet.schools.get(t.uai);
      const since = t.to === 'offline' ? (stamps?.outageStart(t.uai) ?? school?.outageStart ?? t.at) : t.at;
      alerting.handle(
        {
          kind: 'school',
          uai: t.uai,
          state: t.to,
          reason: t.reason,
          since,
        },
        now(),
      );
    },
    onLiveBatch: (batch, at, clock) => {
      if (!alertable(batch.uai)) return;
      for (const round of roundsOfBatch(batch, thresholds)) alerting.handle(round, at);
      // Told once per episode (the policy's rounds), resolved when the clock is right again.
      alerting.handle(clockRound(batch, clock?.correctMs ?? 0, thresholds), at);
    },
    onBroker: (up, at) => alerting.broker(up, at),
  });
  for (const uai of registry.keys()) monitor.fleet.declareSchool(uai, now());

  const restart = restoreAfterRestart({
    enabled: p.rebuildFromInflux,
    influx: opts.influx,
    holdMs: p.rebuildHoldSeconds * 1000,
    monitor,
    alerting,
    points: opts.points,
    log,
    now,
  });
  const ready = restart.ready;

  const presenceTick = startPresenceTick(monitor, alerting, p.tickMs, log, now);

  return {
    observer: monitor,
    monitor,
    alerting,
    ready,
    async stop() {
      clearInterval(presenceTick);
      restart.stop();
      await restart.done;
      await alerting.stop();
    },
  };
}

/** The collector's only periodic timer: presence's silence clock, then the alerts' grace and repeats. */
function startPresenceTick(
  monitor: PresenceMonitor,
  alerting: Alerting,
  tickMs: number,
  log: Logger,
  now: () => number,
): NodeJS.Timeout {
  const presenceTick = setInterval(() => {
    try {
      monitor.tick();
      alerting.tick(now());
    } catch (err) {
      log.error({ err }, 'presence tick failed');
    }
  }, tickMs);
  presenceTick.unref();
  return presenceTick;
}

function monitorConfig(p: PresenceConfig, thresholds: Thresholds): FleetRules {
  return {
    intervalMs: p.intervalSeconds * 1000,
    silentAfterIntervals: p.silentAfterIntervals,
    degradedAfterRounds: p.degradedAfterRounds,
    degradedLossPct: p.degradedLossPct ?? thresholds.lossPct.crit,
    degradedLatencyMs: p.degradedLatencyMs ?? thresholds.latencyMs.crit,
    classifyWithinMs: p.classifyWithinSeconds * 1000,
    maxAgents: p.maxAgents,
  };
}

/** A registry naming an hours profile the config lacks: those schools are paged at any hour. Said once. */
function warnUnknownHours(
  registry: ReadonlyMap<string, School>,
  calendar: SchoolCalendar,
  log: Logger,
): void {
  const unknown = new Map<string, string[]>();
  for (const s of registry.values()) {
    const name = s.hours ?? DEFAULT_HOURS_PROFILE;
    if (hoursProfile(calendar, name)) continue;
    unknown.set(name, [...(unknown.get(name) ?? []), s.uai]);
  }
  for (const [profile, uais] of unknown)
    log.warn(
      { profile, schools: uais.length, uais: uais.slice(0, 10), defined: Object.keys(calendar.profiles) },
      `hours profile "${profile}" is neither a default profile nor in collector.alerts.hours: these schools count as always open (paged at any hour)`,
    );
}
