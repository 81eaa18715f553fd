// A collector restart never pages an outage twice and never forgets one: before any school is judged,
// presence and the alerts already sent are read back from InfluxDB (after the previous run's last points
// have reached it), retried with backoff while InfluxDB is away. Meanwhile presence holds every message,
// so no school alert can fire; past a bound it goes on from unknown (said once) and the read goes on in
// the background: when it finally answers, the alerts already sent are restored then.
import type { Logger } from '../../shared/log.ts';
import type { CollectorConfig } from '../config.ts';
import { InfluxHttp, InfluxQueryError } from '../influx-http.ts';
import type { PointSink } from '../point.ts';
import type { PresenceMonitor, RebuiltState } from '../presence/monitor.ts';
import { PRESENCE_STATEMENTS, rebuiltPresence } from '../presence/rebuild.ts';
import { backoffMs } from '../shipper.ts';
import type { Alerting } from './alerting.ts';
import type { PagedAlert } from './policy.ts';
import { PAGED_ALERTS_QUERY, pagedAlerts } from './records.ts';

/** What InfluxDB remembers of the previous run. */
export interface Remembered {
  presence: RebuiltState;
  /** Alerts it sent and never resolved. */
  paged: PagedAlert[];
}

const NOTHING: Remembered = { presence: { agents: [], schools: [] }, paged: [] };

export interface HoldOptions {
  /** Reads InfluxDB once; throws an InfluxQueryError (any other error counts as unreachable). */
  read(): Promise<Remembered>;
  /** Resolves once the previous run's unconfirmed points are in InfluxDB: only a read after it is whole. */
  written?(): Promise<void>;
  /** How long school alerts may wait for the state (ms); past it, go on from unknown. */
  holdMs: number;
  /** Backoff between reads (ms), as the writer's; a Retry-After InfluxDB sends makes it longer. */
  retryMinMs: number;
  retryMaxMs: number;
  log: Logger;
  /**
   * The state is known, or the hold is over. late = false: once, before anything is judged (null: go on
   * from unknown). late = true: at most once after that, when InfluxDB answered after the hold.
   */
  apply(remembered: Remembered | null, late: boolean): void;
}

export interface Hold {
  /** Resolves once presence may go on (rebuilt, new database, or hold over), or on stop. */
  ready: Promise<void>;
  /** Resolves once nothing more will be read: the state came in (in time or late), or InfluxDB refused, or stop. */
  done: Promise<void>;
  stop(): void;
}

// Long: one read-retry-hold loop whose attempt count, held alerts and bound timer are shared state;
// split, each part would take all of them.
/** The read-retry-hold loop, without the wiring (unit-tested with a scripted read). */
export function holdUntilRebuilt(o: HoldOptions): Hold {
  const holdS = o.holdMs / 1000;
  let stopped = false;
  let wake: () => void = () => {};
  const stopping = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        sleepers.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      sleepers.add(end);
    });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let applied = false;
  /** A whole read came before the previous run's last points were in: better than nothing at the bound. */
  let partial: Remembered | null = null;
  const goOn = (r: Remembered | null) => {
    applied = true;
    try {
      o.apply(r, false);
    } finally {
      markReady();
    }
  };
  const deadline = setTimeout(() => {
    if (applied || stopped) return;
    if (partial)
      o.log.warn(
        { holdS },
        `the previous run's last points did not reach InfluxDB within ${holdS} s: presence rebuilt without them; they are read again once written`,
      );
    else
      o.log.warn(
        { holdS },
        `could not rebuild presence from InfluxDB within ${holdS} s: going on from unknown (an outage paged before the restart may be paged again); still trying in the background`,
      );
    goOn(partial);
  }, o.holdMs);
  deadline.unref();

  const loop = async () => {
    let written = o.written === undefined;
    const shipped = (o.written?.() ?? Promise.resolve()).then(() => {
      written = true;
    });
    let warned = false;
    for (let attempt = 1; !stopped; attempt++) {
      let r: Remembered;
      try {
        r = await o.read();
        if (!written) {
          partial = r;
          await Promise.race([shipped, stopping]);
          if (stopped) return;
          r = await o.read();
        }
      } catch (e) {
        const err =
          e instanceof InfluxQueryError ? e : new InfluxQueryError((e as Error).message, 'unreachable', 0);
        if (stopped) return;
        if (err.kind === 'missing') {
          // Nothing was ever written here: a new database is not a fault.
          if (!applied) {
            o.log.info('nothing to rebuild presence from: the InfluxDB database is new');
            goOn(NOTHING);
          }
          return;
        }
        if (err.kind === 'refused') {
          o.log.warn(
            { err: err.message, status: err.status },
            'InfluxDB refuses the presence rebuild query: going on from unknown (an outage paged before the restart may be paged again)',
          );
          if (!applied) goOn(null);
          return;
        }
        if (!warned && !applied) {
          warned = true;
          o.log.warn(
            { err: err.message, holdS },
            `InfluxDB unreachable at start: school alerts held until presence is rebuilt (at most ${holdS} s)`,
          );
        }
        await sleep(Math.max(backoffMs(attempt - 1, o.retryMinMs, o.retryMaxMs), err.retryAfterMs ?? 0));
        continue;
      }
      if (stopped) return;
      if (!applied) {
        o.log.info(
          {
            agents: r.presence.agents.length,
            schools: r.presence.schools.length,
            paged: r.paged.length,
            attempt,
          },
          'presence rebuilt from InfluxDB',
        );
        goOn(r);
      } else {
        o.log.info(
          { paged: r.paged.length, attempt },
          'InfluxDB answered after the hold: alerts sent before the restart restored (not paged again)',
        );
        o.apply(r, true);
      }
      return;
    }
  };
  const done = loop()
    .catch((err: Error) => o.log.error({ err }, 'applying what InfluxDB remembers failed'))
    .finally(() => clearTimeout(deadline));
  return {
    ready,
    done,
    stop() {
      stopped = true;
      clearTimeout(deadline);
      wake();
      for (const end of [...sleepers]) end();
      markReady();
    },
  };
}

export interface RestartOptions {
  /** collector.presence.rebuildFromInflux: off (or no InfluxDB) = start from unknown at once. */
  enabled: boolean;
  influx: CollectorConfig['influx'] | undefined;
  holdMs: number;
  monitor: PresenceMonitor;
  alerting: Alerting;
  points: PointSink;
  log: Logger;
  now: () => number;
}

/** Wires the hold to InfluxDB, presence and the alert policy. */
export function restoreAfterRestart(o: RestartOptions): Hold {
  if (!o.enabled || !o.influx) {
    o.monitor.rebuilt(null);
    return { ready: Promise.resolve(), done: Promise.resolve(), stop() {} };
  }
  const http = new InfluxHttp({ ...o.influx, gzip: false, timeoutMs: Math.min(o.influx.timeoutMs, 10_000) });
  const query = [...PRESENCE_STATEMENTS, PAGED_ALERTS_QUERY].join('; ');
  const hold = holdUntilRebuilt({
    read: async () => {
      // Several statements against a missing database only say "not executed": ask for it by name first.
      const dbs = await http.query('SHOW DATABASES');
      const database = o.influx!.database;
      if (!dbs.results[0]?.series?.[0]?.values?.some((v) => v[0] === database))
        throw new InfluxQueryError(`database not found: ${database}`, 'missing', 200);
      const r = await http.query(query);
      return { presence: rebuiltPresence(r, 0), paged: pagedAlerts(r, PRESENCE_STATEMENTS.length) };
    },
    ...(o.points.written ? { written: () => o.points.written!() } : {}),
    holdMs: o.holdMs,
    retryMinMs: o.influx.retryMinMs,
    retryMaxMs: o.influx.retryMaxMs,
    log: o.log,
    apply(r, late) {
      // What was sent first: the rebuilt presence then finds those alerts open and sent. Whatever
      // happens there, presence must stop holding.
      try {
        if (r) o.alerting.restore(r.paged, o.now());
        // A duplicate identity told before the restart ends like one seen now: after the quiet period.
        for (const p of r?.paged ?? [])
          if (p.kind === 'duplicate_identity' && p.uai && p.subject)
            o.monitor.identity.assumeDuplicate(p.uai, p.subject, p.since, o.now());
      } catch (err) {
        o.log.error({ err }, 'could not restore the alerts sent before the restart');
      }
      if (!late) {
        if (o.monitor.droppedWhileRebuilding)
          o.log.warn(
            { dropped: o.monitor.droppedWhileRebuilding },
            'messages dropped while presence was held for the rebuild (bound reached)',
          );
        o.monitor.rebuilt(r?.presence ?? null);
        return;
      }
      // Presence went on meanwhile: tell the policy where the restored schools stand now.
      const uais = new Set(r!.paged.flatMap((p) => p.members ?? (p.uai ? [p.uai] : [])));
      for (const uai of uais) {
        const s = o.monitor.fleet.schools.get(uai);
        if (!s || s.state === 'unknown') continue;
        o.alerting.handle(
          { kind: 'school', uai, state: s.state, reason: s.reason, since: s.outageStart ?? s.since },
          o.now(),
        );
      }
    },
  });
  void hold.done.finally(() => http.close());
  return hold;
}
