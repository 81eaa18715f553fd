// A collector restart never pages an outage twice and never forgets one: the real `vigie collector`
// process, real Mosquitto (retained statuses, wills), real InfluxDB stopped and started, school agents
// played by the stand-in process, a real webhook receiver. Each test pages schools with a first run,
// restarts the collector in a harder situation, and proves the absence of a second page by a control
// school dropped after the restart: its page comes later than any re-page could.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../collector/alerts/policy.ts';
import { alertPoint, PAGED_ALERTS_QUERY, pagedAlerts } from '../../collector/alerts/records.ts';
import { toLines } from '../../collector/line-protocol.ts';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

const STANDIN = resolve(import.meta.dirname, 'alerts-standin.ts');
/** Each test starts collectors, agents and InfluxDB several times: 2x what it takes on a loaded 2-core machine. */
const BUDGET_MS = 180_000;
const GRACE_S = 3;

const uai = (n: number) => {
  const d = String(n).padStart(7, '0');
  return d + uaiCheckLetter(d);
};

let broker: MosquittoHandle;
let influx: InfluxHandle;
let hook: WebhookReceiver;
const children: ChildProcess[] = [];
const collectors: CollectorProcess[] = [];

function registry(schools: { uai: string; isp: string }[]): string {
  const rows = schools.map(
    (s, i) => `${s.uai},École ${s.uai},Commune ${i % 3},45.7,4.8,${s.isp},100,20,always`,
  );
  const file = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    file,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${rows.join('\n')}\n`,
  );
  return file;
}

const ALWAYS = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
);

/** A collector process (not started) for these schools; `walDir` shared between runs of one test. */
function collector(
  database: string,
  schools: { uai: string; isp: string }[],
  opts: {
    walDir: string;
    graceS?: number;
    holdS?: number;
    mass?: { windowSeconds: number; minSchools: number };
  },
): CollectorProcess {
  const c = collectorProcess({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database,
    clientId: `restart-${database}`,
    schools: registry(schools),
    walDir: opts.walDir,
    extra: {
      presence: {
        intervalSeconds: 1,
        silentAfterIntervals: 3,
        tickMs: 100,
        classifyWithinSeconds: 5,
        ...(opts.holdS === undefined ? {} : { rebuildHoldSeconds: opts.holdS }),
      },
      alerts: {
        language: 'en',
        graceSeconds: opts.graceS ?? GRACE_S,
        hours: { always: ALWAYS },
        ...(opts.mass ? { mass: opts.mass } : {}),
        channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 2 }] },
        // A deployment's alerts link to the team's Grafana (config check warns about a loopback one).
        dashboard: {
          schoolUrl: 'https://grafana.ecoles.test/d/vigie-school/ecole?var-uai={uai}',
          fleetUrl: 'https://grafana.ecoles.test/d/vigie-fleet/parc',
        },
      },
    },
  });
  collectors.push(c);
  return c;
}

interface Standin {
  child: ChildProcess;
}

/** School agents with birth and will, a batch every second; kill -9 = boxes losing power. */
async function standin(schools: string[], seqStart = 0): Promise<Standin> {
  const spec = { url: broker.url, schools, agent: 'box', keepaliveS: 2, intervalMs: 1000, seqStart };
  const child = spawn(process.execPath, ['--import', 'tsx', STANDIN, JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((ok, fail) => {
    lines.on('line', (l) => l === 'ready' && ok());
    child.once('exit', (code) => fail(new Error(`stand-in agent exited with ${code}`)));
  });
  return { child };
}

function kill9(s: Standin): Promise<void> {
  return new Promise((ok) => {
    s.child.once('exit', () => ok());
    s.child.kill('SIGKILL');
  });
}

type Hooked = {
  type: string;
  kind: string;
  uai: string | null;
  since: string;
  durationSeconds: number | null;
};
const messages = () => hook.received.map((r) => r.body as Hooked);
const sent = (u: string) => messages().filter((b) => b.uai === u);
const pageOf = (u: string) => async () => sent(u).some((b) => b.type === 'firing');
const resolutionOf = (u: string) => async () => sent(u).some((b) => b.type === 'resolved');

/** The collector's log lines (pino JSON), every run of it. */
function logOf(c: CollectorProcess): { level: number; msg: string }[] {
  return readFileSync(c.daemon.logFile, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { level: number; msg: string }];
      } catch {
        return [];
      }
    });
}
const logged = (c: CollectorProcess, text: string) => async () => logOf(c).some((l) => l.msg.includes(text));
const count = (c: CollectorProcess, text: string) => logOf(c).filter((l) => l.msg.includes(text)).length;

async function onlineInInflux(db: string, schools: string[]): Promise<void> {
  await waitFor(
    `${schools.length} schools online in InfluxDB`,
    async () => {
      const r = await influx.query(
        "SELECT last(state) AS state FROM presence WHERE scope = 'school' GROUP BY uai",
        db,
      );
      const series = r.results[0]?.series ?? [];
      return schools.every((u) => series.some((s) => s.tags?.['uai'] === u && s.values[0]?.[1] === 'online'));
    },
    30_000,
  );
}

beforeAll(async () => {
  [broker, influx, hook] = await Promise.all([startMosquitto(), startInfluxdb(), startWebhookReceiver()]);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of collectors.splice(0)) await c.daemon.dispose();
  // A test that stopped InfluxDB leaves it running for the next one.
  await influx.daemon.start();
});
afterAll(async () => {
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose(), hook?.close()]);
});

describe('collector restart: never re-pages, never forgets', () => {
  it(
    'InfluxDB down at start and back 8 s later: rebuilt after retries, nobody paged twice, the school back meanwhile gets its resolution',
    async () => {
      hook.received.length = 0;
      const [P1, P2, R, D] = [701001, 701002, 701003, 701004].map(uai) as [string, string, string, string];
      const schools = [P1, P2, R, D].map((u, i) => ({ uai: u, isp: `ISP ${i}` }));
      const walDir = join(tempDir('restart-wal'), 'wal');
      const c = collector('restart_influx_late', schools, { walDir });
      await c.daemon.start();
      const down = await standin([P1, P2, R]);
      const control = await standin([D]);
      await onlineInInflux('restart_influx_late', [P1, P2, R, D]);
      const droppedAt = Date.now();
      await kill9(down);
      for (const u of [P1, P2, R]) await waitFor(`${u} paged`, pageOf(u), 20_000, 50);
      await waitFor(
        'the pages recorded in InfluxDB',
        async () =>
          (await influx.rows("SELECT * FROM alert WHERE state = 'firing'", 'restart_influx_late')).length ===
          3,
      );
      await c.daemon.stop();

      // While the collector is away, one school comes back (its birth is retained); InfluxDB stops.
      await standin([R], 1_000_000);
      await influx.daemon.stop();
      const startedAt = Date.now();
      await c.daemon.start();
      await waitFor('the hold said', logged(c, 'InfluxDB unreachable at start: school alerts held'), 20_000);
      await sleep(Math.max(0, startedAt + 8000 - Date.now()));
      await influx.daemon.start();
      await waitFor('presence rebuilt', logged(c, 'presence rebuilt from InfluxDB'), 60_000);
      await waitFor(`${R}'s resolution`, resolutionOf(R), 30_000, 50);

      await kill9(control);
      await waitFor('the control school paged', pageOf(D), 30_000, 50);
      expect(
        messages()
          .map((b) => [b.type, b.uai])
          .sort(),
      ).toEqual(
        [
          ['firing', P1],
          ['firing', P2],
          ['firing', R],
          ['resolved', R],
          ['firing', D],
        ].sort(),
      );
      // The resolution covers the whole outage, from before the restart.
      const resolved = sent(R).find((b) => b.type === 'resolved')!;
      expect(Date.parse(resolved.since)).toBeLessThanOrEqual(droppedAt);
      expect(count(c, 'InfluxDB unreachable at start')).toBe(1);
      expect(count(c, 'going on from unknown')).toBe(0);
    },
    BUDGET_MS,
  );

  it(
    'InfluxDB down longer than the hold: goes on from unknown once, and the pages read back late are not sent again',
    async () => {
      hook.received.length = 0;
      const [Q, D] = [702001, 702002].map(uai) as [string, string];
      const schools = [Q, D].map((u, i) => ({ uai: u, isp: `ISP ${i}` }));
      const walDir = join(tempDir('restart-wal'), 'wal');
      const first = collector('restart_hold_bound', schools, { walDir });
      await first.daemon.start();
      const down = await standin([Q]);
      const control = await standin([D]);
      await onlineInInflux('restart_hold_bound', [Q, D]);
      const droppedAt = Date.now();
      await kill9(down);
      await waitFor(`${Q} paged`, pageOf(Q), 20_000, 50);
      await first.daemon.stop();

      await influx.daemon.stop();
      // The second run holds 3 s at most; its grace is long enough for InfluxDB to come back within it.
      const second = collector('restart_hold_bound', schools, { walDir, holdS: 3, graceS: 20 });
      await second.daemon.start();
      await waitFor('going on from unknown', logged(second, 'going on from unknown'), 30_000);
      await kill9(control);
      await influx.daemon.start();
      await waitFor('the late read', logged(second, 'InfluxDB answered after the hold'), 60_000);
      await waitFor('the control school paged', pageOf(D), 60_000, 50);
      expect(messages().map((b) => [b.type, b.uai])).toEqual([
        ['firing', Q],
        ['firing', D],
      ]);
      expect(count(second, 'could not rebuild presence from InfluxDB within 3 s')).toBe(1);

      await standin([Q], 1_000_000);
      await waitFor(`${Q}'s resolution`, resolutionOf(Q), 30_000, 50);
      const resolved = sent(Q).find((b) => b.type === 'resolved')!;
      expect(Date.parse(resolved.since)).toBeLessThanOrEqual(droppedAt);
    },
    BUDGET_MS,
  );

  it(
    'paged while InfluxDB was down, collector killed -9 before it came back: the page kept in the write-ahead log counts',
    async () => {
      hook.received.length = 0;
      const [W, D] = [703001, 703002].map(uai) as [string, string];
      const schools = [W, D].map((u, i) => ({ uai: u, isp: `ISP ${i}` }));
      const walDir = join(tempDir('restart-wal'), 'wal');
      const c = collector('restart_wal_page', schools, { walDir });
      await c.daemon.start();
      const down = await standin([W]);
      const control = await standin([D]);
      await onlineInInflux('restart_wal_page', [W, D]);
      await influx.daemon.stop();
      await kill9(down);
      await waitFor(`${W} paged`, pageOf(W), 20_000, 50);
      await c.daemon.kill9();

      await c.daemon.start();
      await influx.daemon.start();
      await waitFor('presence rebuilt', logged(c, 'presence rebuilt from InfluxDB'), 60_000);
      await kill9(control);
      await waitFor('the control school paged', pageOf(D), 30_000, 50);
      expect(messages().map((b) => [b.type, b.uai])).toEqual([
        ['firing', W],
        ['firing', D],
      ]);
      await standin([W], 1_000_000);
      await waitFor(`${W}'s resolution`, resolutionOf(W), 30_000, 50);
    },
    BUDGET_MS,
  );

  it(
    'a mass outage paged before a restart with InfluxDB up: no school paged on its own, one grouped resolution',
    async () => {
      hook.received.length = 0;
      const group = [704001, 704002, 704003, 704004, 704005].map(uai);
      const D = uai(704006);
      const schools = [...group.map((u) => ({ uai: u, isp: 'Kosc' })), { uai: D, isp: 'Free' }];
      const walDir = join(tempDir('restart-wal'), 'wal');
      const c = collector('restart_mass', schools, {
        walDir,
        graceS: 5,
        mass: { windowSeconds: 5, minSchools: 5 },
      });
      await c.daemon.start();
      const down = await standin(group);
      const control = await standin([D]);
      await onlineInInflux('restart_mass', [...group, D]);
      await kill9(down);
      await waitFor(
        'the grouped page',
        async () => messages().some((b) => b.kind === 'mass_outage'),
        30_000,
        50,
      );
      await c.daemon.kill9();
      await c.daemon.start();
      await waitFor('presence rebuilt', logged(c, 'presence rebuilt from InfluxDB'), 30_000);
      await kill9(control);
      await waitFor('the control school paged', pageOf(D), 30_000, 50);
      expect(messages().map((b) => [b.type, b.kind])).toEqual([
        ['firing', 'mass_outage'],
        ['firing', 'school_offline'],
      ]);
      await standin(group, 1_000_000);
      await waitFor(
        'the grouped resolution',
        async () => messages().some((b) => b.type === 'resolved' && b.kind === 'mass_outage'),
        30_000,
        50,
      );
      // Up to the grouped resolution: nothing else. (Schools whose birth comes after the group shrank
      // below the minimum get their own alert by design: not the restart's doing.)
      const untilResolved = messages().slice(
        0,
        messages().findIndex((b) => b.type === 'resolved' && b.kind === 'mass_outage') + 1,
      );
      expect(untilResolved.map((b) => [b.type, b.kind, b.uai])).toEqual([
        ['firing', 'mass_outage', null],
        ['firing', 'school_offline', D],
        ['resolved', 'mass_outage', null],
      ]);
    },
    BUDGET_MS,
  );

  it('a new, empty database: nothing to rebuild, and no warning about it', async () => {
    const S = uai(705001);
    const c = collector('restart_fresh', [{ uai: S, isp: 'Orange' }], {
      walDir: join(tempDir('restart-wal'), 'wal'),
    });
    await c.daemon.start();
    await waitFor(
      'the rebuild done',
      async () =>
        (await logged(c, 'nothing to rebuild presence from')()) ||
        (await logged(c, 'presence rebuilt from InfluxDB')()),
      30_000,
    );
    const warnings = logOf(c).filter((l) => l.level >= 40);
    expect(warnings.map((l) => l.msg)).toEqual([]);
  });

  it('alert points go through InfluxDB and come back as what is still open', async () => {
    const db = 'restart_records';
    await influx.query(`CREATE DATABASE ${db}`);
    const A = uai(706001);
    const B = uai(706002);
    const T = Date.parse('2026-02-10T08:00:00Z');
    const offline = (u: string) => ({
      key: `school_offline/${u}`,
      kind: 'school_offline' as const,
      severity: 'critical' as const,
      uai: u,
      since: T,
      notifiedAt: T + 120_000,
      lastSentAt: T + 120_000,
    });
    const loss = {
      key: `loss/${A}/anchor, "quad9"`,
      kind: 'loss' as const,
      severity: 'warning' as const,
      uai: A,
      subject: 'anchor, "quad9"',
      since: T + 1000,
      notifiedAt: T + 1000,
      lastSentAt: T + 1000,
    };
    const mass = {
      key: `mass_outage/isp/Kosc Télécom/${T}`,
      kind: 'mass_outage' as const,
      severity: 'critical' as const,
      group: { by: 'isp' as const, value: 'Kosc Télécom' },
      members: [A, B],
      since: T,
      value: T + 4000,
      notifiedAt: T + 125_000,
      lastSentAt: T + 125_000,
    };
    const list: Notification[] = [
      { type: 'firing', alert: offline(A), at: T + 120_000 },
      { type: 'firing', alert: offline(B), at: T + 120_000 },
      { type: 'reminder', alert: { ...offline(A), lastSentAt: T + 3_720_000 }, at: T + 3_720_000 },
      { type: 'resolved', alert: offline(B), at: T + 600_000, durationMs: 600_000 },
      { type: 'firing', alert: loss, at: T + 1000 },
      { type: 'firing', alert: mass, at: T + 125_000 },
    ];
    // One write per notification, in order, as the collector writes them.
    for (const n of list) await influx.write(toLines([alertPoint(n)]), db);
    const open = pagedAlerts(await influx.query(PAGED_ALERTS_QUERY, db));
    const byKey = Object.fromEntries(open.map((a) => [a.key, a]));
    expect(Object.keys(byKey).sort()).toEqual([offline(A).key, loss.key, mass.key].sort());
    expect(byKey[offline(A).key]).toEqual({ ...offline(A), lastSentAt: T + 3_720_000 });
    expect(byKey[loss.key]).toEqual(loss);
    expect(byKey[mass.key]).toEqual(mass);
  });
});
