// Every panel query of every dashboard, with its variables substituted as Grafana would, run against
// a real InfluxDB filled by the real collector (ingest, presence and alerts) from simulated agents
// through real Mosquitto: no error, and rows for each. The live states come from the real presence
// engine (births, wills, degraded rounds, an outage that ends, a school the registry lacks); the
// history before this collector run (older transitions and outages) goes through the collector's point
// sink, built by the presence code's own point functions; the registry's `school` points by the
// dashboards' own. Then the figures themselves, for the cases that misled (issue 16): a school stable
// for longer than the period, an outage still going on, an outage longer than the period, a school
// outside the registry. And the Continuity dashboard's first row against the availability engine
// (issue 15): the monthly points the collector's job writes, read back by every panel, equal to what
// `vigie report` computes, per calendar month in Paris time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthsToWrite, writeAvailabilityPoints } from '../../collector/availability-points.ts';
import { type CollectorConfig, resolveCollectorConfig } from '../../collector/config.ts';
import { int, type Point } from '../../collector/point.ts';
import { outagePoint, transitionPoint } from '../../collector/presence/points.ts';
import type { PresenceState } from '../../collector/presence/state.ts';
import { type PresenceAndAlerts, startPresenceAndAlerts } from '../../collector/presence-and-alerts.ts';
import { rollupStatement, rollups } from '../../collector/retention.ts';
import { schoolInfoPoints } from '../../collector/school-points.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { buildDashboards, DEFAULT_BUILD } from '../../dashboards/build.ts';
import { parseInterval } from '../../dashboards/provisioning.ts';
import { reportService } from '../../report/api.ts';
import type { Period } from '../../shared/availability/index.ts';
import { createLogger } from '../../shared/log.ts';
import { loadRegistry, parseRegistry } from '../../shared/registry.ts';
import type { Sample, StatusMessage } from '../../shared/schemas.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import type { Uai } from '../../shared/uai.ts';
import { collectorSection, makeBatch } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import {
  dashboardQueries,
  interpolate,
  type PanelQuery,
  type ResolvedVariable,
  resolveVariables,
  type Selection,
  type TimeRange,
  variableDefs,
} from '../harness/grafana-queries.ts';
import { type InfluxHandle, type InfluxQueryResult, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const DB = 'vigie';
const MIN = 60_000;
const REGISTRY = `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours
0381234K,École élémentaire Saint-Exupéry,Saint-Priest,45.6964,4.9439,Orange,100,20,school
0381517T,École maternelle Jean Moulin,Saint-Priest,45.701,4.95,Orange,50,10,school
0380842J,École primaire de l'Isle,L'Isle-d'Abeau (38),45.6196,5.2266,SFR Business,30,5,school
0381966F,École élémentaire Ponsard,Lyon,45.764,4.8357,Free Pro,100,50,school
0382001U,École du Mail,Vienne,45.525,4.874,Orange,100,20,school
0382002V,École des Charmes,Vienne,45.53,4.88,SFR Business,30,5,school
0382003W,École Jules Ferry,Bron,45.738,4.913,Free Pro,100,50,school
`;
const schools = parseRegistry('schools.csv', REGISTRY);
const [ONLINE, DEGRADED, OFFLINE, ONLINE_2, STABLE, LONG_OUT, ONGOING] = [...schools.keys()] as Uai[] as [
  Uai,
  Uai,
  Uai,
  Uai,
  Uai,
  Uai,
  Uai,
];
/** Schools with a live agent in this run; the others exist only through their history. */
const LIVE = [ONLINE, DEGRADED, OFFLINE, ONLINE_2];
/** An agent publishing under a UAI the registry lacks (accepted: rejectUnknownSchools is false). */
const UNREGISTERED = '0389999M' as Uai;
const agentOf = (uai: string) => `box-${uai.slice(-4).toLowerCase()}`;
const BATCHES = 12;
const HOUR = 60 * MIN;

let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorHandle;
let pub: MqttClient;
let presence: PresenceAndAlerts;
let range: TimeRange;
/** When the history was laid: every past change is relative to it. */
let t0: number;
let config: CollectorConfig;
/** The previous and the current calendar month (Paris), as the collector's job writes them. */
let months: Period[];
/** The instant the availability figures stop at (the job's and the expected ones alike). */
let asOf: number;
/**
 * Whether the current month has measured school hours yet: not on the 1st before the schools open.
 * Until then its availability panels have no row over the live range, rightly (nothing to judge).
 */
let currentMonthMeasured: boolean;

/** One measuring round of a school: every sample kind, with failures a real school has. */
function round(t: number, i: number): Sample[] {
  const slow = i % 4 === 3;
  return [
    {
      probe: 'ping',
      t,
      target: '198.18.0.1',
      role: 'gateway',
      sent: 10,
      received: 10,
      lossPct: 0,
      minMs: 0.4,
      avgMs: 0.6,
      maxMs: 1.2,
      medianMs: 0.5,
      p95Ms: 1.1,
      jitterMs: 0.1,
    },
    {
      probe: 'ping',
      t,
      target: 'anchor.example.test',
      role: 'anchor',
      sent: 10,
      received: slow ? 8 : 10,
      lossPct: slow ? 20 : 0,
      minMs: 11,
      avgMs: 14,
      maxMs: slow ? 240 : 30,
      medianMs: slow ? 120 : 13,
      p95Ms: slow ? 230 : 25,
      jitterMs: slow ? 35 : 2,
    },
    {
      probe: 'ping',
      t,
      target: 'ent.example.test',
      role: 'ent',
      sent: 10,
      received: 10,
      lossPct: 0,
      minMs: 18,
      avgMs: 21,
      maxMs: 40,
      medianMs: 20,
      p95Ms: 35,
      jitterMs: 3,
    },
    {
      probe: 'dns',
      t,
      resolver: '198.18.0.53',
      name: 'ent.example.test',
      ok: true,
      rcode: 'NOERROR',
      timeMs: 12 + i,
    },
    {
      probe: 'dns',
      t,
      resolver: '198.18.0.54',
      name: 'pronote.example.test',
      ok: !slow,
      rcode: slow ? 'SERVFAIL' : 'NOERROR',
      ...(slow ? {} : { timeMs: 30 }),
    },
    {
      probe: 'http',
      t,
      target: 'https://ent.example.test/',
      ok: true,
      status: 200,
      ttfbMs: 80,
      totalMs: 240,
      certDaysLeft: 60,
    },
    {
      probe: 'http',
      t,
      target: 'https://pronote.example.test/',
      ok: !slow,
      status: slow ? 503 : 200,
      ttfbMs: 300,
      totalMs: slow ? 5200 : 900,
      certDaysLeft: 12,
      ...(slow ? { error: 'HTTP_503' } : {}),
    },
    {
      probe: 'wan',
      t,
      source: 'snmp',
      iface: 'ge-0/0/1',
      inBps: 40e6 + i * 1e6,
      outBps: 5e6,
      inPct: 40 + i,
      outPct: 25,
    },
    {
      probe: 'wifi',
      t,
      ap: 'AP salle 1',
      up: true,
      reachable: true,
      uptimeS: 3600 + i * 600,
      rebooted: false,
      radiosUp: 2,
      radiosTotal: 2,
      clients: 12 + i,
    },
    {
      probe: 'wifi',
      t,
      ap: 'AP préau',
      up: !slow,
      reachable: !slow,
      ...(slow ? { error: 'ETIMEDOUT' } : { uptimeS: 600 * i, radiosUp: 1, radiosTotal: 2, clients: 3 }),
    },
    ...(i % 6 === 0
      ? [
          {
            probe: 'speedtest',
            t,
            target: 'collector.example.test',
            ok: true,
            downBps: 92e6,
            upBps: 18e6,
            downBytes: 11_500_000,
            upBytes: 2_250_000,
            durationMs: 2000,
          } as const,
        ]
      : []),
    {
      probe: 'self',
      t,
      version: i < 6 ? '0.1.0' : '0.1.1',
      uptimeS: 300 + i * 600,
      rssBytes: 50e6,
      cpuPct: 1.2,
      spoolBytes: slow ? 40_000 : 0,
      spoolBatches: slow ? 3 : 0,
      spoolDropped: i > 8 ? 1 : 0,
    },
  ];
}

/** Presence before this collector run: (minutes ago, state) per school, starting from unknown. */
const HISTORY: Record<Uai, [number, PresenceState][]> = {
  [ONLINE]: [[150, 'online']],
  [DEGRADED]: [[150, 'online']],
  [OFFLINE]: [
    [150, 'online'],
    [100, 'offline'],
    [80, 'online'],
  ],
  [ONLINE_2]: [[150, 'online']],
  // Online for the last 4 hours, after an outage of 5 (the live range is 3 hours).
  [STABLE]: [
    [600, 'online'],
    [540, 'offline'],
    [240, 'online'],
  ],
  // Offline for 5 hours, still.
  [LONG_OUT]: [
    [600, 'online'],
    [300, 'offline'],
  ],
  // Offline for the last hour, still.
  [ONGOING]: [
    [600, 'online'],
    [60, 'offline'],
  ],
};
/** STABLE's outage: it began at its last sign of life, 2 minutes before presence noticed. */
const STABLE_OUTAGE = { start: 542, end: 240 };

function historyPoints(now: number) {
  const tags = (uai: Uai) => schools.get(uai);
  const points = schoolInfoPoints(schools.values(), now - 170 * MIN);
  for (const [uai, steps] of Object.entries(HISTORY) as [Uai, [number, PresenceState][]][]) {
    let from: PresenceState = 'unknown';
    for (const [ago, to] of steps) {
      const at = now - ago * MIN;
      points.push(
        transitionPoint({ scope: 'school', uai, agent: '', from, to, at, reason: 'test' }, tags(uai)),
      );
      points.push(
        transitionPoint(
          { scope: 'agent', uai, agent: agentOf(uai), from, to, at, reason: 'test' },
          tags(uai),
        ),
      );
      from = to;
    }
  }
  points.push(
    outagePoint(
      { uai: OFFLINE, start: now - 100 * MIN, end: now - 80 * MIN, cause: 'wan_cut', schoolHoursS: 600 },
      tags(OFFLINE),
    ),
    outagePoint(
      {
        uai: STABLE,
        start: now - STABLE_OUTAGE.start * MIN,
        end: now - STABLE_OUTAGE.end * MIN,
        cause: 'power_or_box',
        schoolHoursS: 7200,
      },
      tags(STABLE),
    ),
  );
  // Longer than the previous month: from 2 days before it to an hour after it (or just before now).
  const [previous] = monthsToWrite(now, TZ, false);
  points.push(
    outagePoint(
      {
        uai: ONLINE_2,
        start: previous!.startMs - 2 * 24 * HOUR,
        end: Math.min(previous!.endMs + HOUR, now - 200 * MIN),
        cause: 'wan_cut',
        schoolHoursS: 0,
      },
      tags(ONLINE_2),
    ),
  );
  points.push(...historyBatches(previous!, now - 3 * HOUR));
  return points;
}

const TZ = resolveCollectorConfig({}).alerts.timezone;
/** A batch every 30 minutes since the previous month began from every school: measured time in its school hours. */
const HISTORY_BATCH_MS = 30 * MIN;
function historyBatches(month: Period, before: number): Point[] {
  const out: Point[] = [];
  for (const [uai, school] of schools)
    for (let t = month.startMs, seq = 0; t < before; t += HISTORY_BATCH_MS, seq++)
      out.push({
        measurement: 'batch',
        tags: { uai, agent: agentOf(uai), commune: school.commune, isp: school.isp },
        fields: { seq: int(seq), samples: int(1), clock_offset_ms: 0 },
        time: t,
      });
  return out;
}

const status = (uai: Uai, state: 'online' | 'offline', reason: StatusMessage['reason']) =>
  pub.publishAsync(
    statusTopic(uai, agentOf(uai)),
    JSON.stringify({ v: 1, uai, agent: agentOf(uai), state, t: Date.now(), reason, version: '0.1.1' }),
    { qos: 1, retain: true },
  );
/** `aheadMs`: the box's clock runs this far ahead; its batch says when it was sent, on that clock. */
const metrics = (uai: Uai, seq: number, t: number, samples: Sample[], aheadMs = 0) =>
  pub.publishAsync(
    metricsTopic(uai, agentOf(uai)),
    JSON.stringify({
      ...makeBatch(uai, agentOf(uai), seq, t, samples),
      ...(aheadMs ? { sentAt: Date.now() + aheadMs } : {}),
    }),
    {
      qos: 1,
    },
  );

/** The latest school state per UAI, as presence wrote it. */
async function schoolStates(): Promise<Record<string, number>> {
  const res = await influx.query(
    `SELECT last("state_code") FROM "presence" WHERE "scope" = 'school' GROUP BY "uai"`,
    DB,
  );
  return Object.fromEntries(
    (res.results[0]?.series ?? []).map((s) => [s.tags!['uai'], s.values[0]![1] as number]),
  );
}

async function fill(now: number): Promise<void> {
  collector.points.write(historyPoints(now));
  // Agents come up (birth), then send what their spool held over the last two hours: not live, so
  // presence judges the present from the births and the live rounds below.
  for (const uai of [...LIVE, UNREGISTERED]) await status(uai, 'online', 'birth');
  // One box runs an hour ahead (no clock battery, NTP not answered yet): the collector stores its
  // batches at the corrected time, flagged, for the agents dashboard's "Clock corrected" panel.
  for (const uai of [...LIVE, UNREGISTERED]) {
    const ahead = uai === ONLINE ? 60 * MIN : 0;
    for (let i = 0; i < BATCHES; i++) {
      const t = now - 130 * MIN + i * 10 * MIN + ahead;
      await metrics(uai, i, t, round(t, i), ahead);
    }
  }
  // Live: one school loses the internet behind a working box (degraded), one loses its box (will),
  // one drops and comes back (an outage that ends and is written).
  const liveFrom = Date.now();
  for (let i = 0; i < 3; i++) {
    const t = liveFrom + i; // strictly increasing per agent, as a real agent's clock
    await metrics(DEGRADED, BATCHES + i, t, [
      {
        probe: 'ping',
        t,
        target: 'anchor.example.test',
        role: 'anchor',
        sent: 10,
        received: 0,
        lossPct: 100,
        error: 'ETIMEDOUT',
      },
    ]);
  }
  await status(OFFLINE, 'offline', 'will');
  await status(ONLINE_2, 'offline', 'will');
  await waitFor('presence saw the will', async () => (await schoolStates())[ONLINE_2] === 0);
  await status(ONLINE_2, 'online', 'birth');

  const expected = {
    [ONLINE]: 2,
    [DEGRADED]: 1,
    [OFFLINE]: 0,
    [ONLINE_2]: 2,
    [STABLE]: 2,
    [LONG_OUT]: 0,
    [ONGOING]: 0,
    [UNREGISTERED]: 2,
  };
  await waitFor('presence wrote every live state', async () => {
    const states = await schoolStates();
    return Object.entries(expected).every(([uai, code]) => states[uai] === code);
  });
  await waitFor('the ended outage is written', async () => {
    const rows = await influx.rows('SELECT count("duration_s") AS n FROM "outage"', DB);
    return rows[0]?.['n'] === 4;
  });
  await waitFor('every batch stored', async () => {
    const rows = await influx.rows(
      `SELECT count("seq") AS n FROM "batch" WHERE time > ${now - 3 * HOUR}ms`,
      DB,
    );
    return rows[0]?.['n'] === (LIVE.length + 1) * BATCHES + 3;
  });
  await collector.drained();
  // What the outage rollup query does every 30 minutes, done now: continuity reads the long policy.
  const outageRollup = rollups().find((r) => r.measurement === 'outage')!;
  const retention = resolveCollectorConfig({}).retention;
  await influx.query(rollupStatement(DB, retention, outageRollup, 'time > now() - 35d'), DB);
}

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  const file = join(tempDir('dashboards-registry'), 'schools.csv');
  writeFileSync(file, REGISTRY);
  config = resolveCollectorConfig(
    collectorSection({
      mqttUrl: broker.url,
      influxUrl: influx.url,
      database: DB,
      schools: file,
      extra: { presence: { tickMs: 50, classifyWithinSeconds: 0, rebuildFromInflux: false } },
    }),
  );
  const log = createLogger('test-collector', process.env['VIGIE_LOG_LEVEL'] ?? 'silent');
  const registry = loadRegistry(file);
  collector = await startCollector(config, {
    logger: log,
    schools: registry,
    observers: [
      (points) => {
        presence = startPresenceAndAlerts({
          presence: config.presence,
          alerts: config.alerts,
          schools: registry,
          points,
          channels: [],
          log,
        });
        return presence.observer;
      },
    ],
  });
  await presence.ready;
  await waitFor('collector connected', async () => collector.counters().brokerConnected);
  pub = await mqtt.connectAsync(broker.url, { clientId: `dashboards-agents-${process.pid}` });
  const now = Date.now();
  t0 = now;
  await fill(now);
  range = { from: now - 3 * 60 * MIN, to: Date.now() + MIN };
  // The collector's monthly job, run now: the Continuity dashboard's first row reads its points.
  asOf = Date.now();
  months = monthsToWrite(asOf, TZ, false);
  expect(await writeAvailabilityPoints(engine(), collector.points, months)).toBeGreaterThan(0);
  await collector.drained();
  const [current] = await influx.rows(
    `SELECT sum("up_h") + sum("lost_h") AS "measured" FROM "long"."availability_month" WHERE "month" = '${months[1]!.label}'`,
    DB,
  );
  currentMonthMeasured = Number(current?.['measured'] ?? 0) > 0;
}, 120_000);

/** The report's figures (GET /api/report, `vigie report`) as of `asOf`. */
const engine = () =>
  reportService({
    influx: config.influx,
    retention: config.retention,
    alerts: config.alerts,
    now: () => asOf,
  });

afterAll(async () => {
  await pub?.endAsync();
  await presence?.stop();
  await collector?.stop();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

async function showValues(query: string): Promise<string[]> {
  const res = await influx.query(query, DB);
  return (res.results[0]?.series ?? []).flatMap((s) =>
    s.values.map((v) => String(v[s.columns.indexOf('value')])),
  );
}

const rowCount = (res: InfluxQueryResult) =>
  res.results.reduce((n, r) => n + (r.series ?? []).reduce((m, s) => m + s.values.length, 0), 0);

const minIntervalMs = parseInterval(DEFAULT_BUILD.minInterval);

/** Runs one panel query; for a repeated panel, once per value of its variable, as Grafana clones it. */
async function runPanelQuery(
  q: PanelQuery,
  variables: ResolvedVariable[],
  period: TimeRange = range,
): Promise<{ sent: string; rows: number }[]> {
  const clones = q.repeat
    ? variables
        .find((v) => v.def.name === q.repeat)!
        .options.map((value) =>
          variables.map((v) => (v.def.name === q.repeat ? { ...v, selection: { values: [value] } } : v)),
        )
    : [variables];
  expect(clones.length, `panel "${q.panelTitle}" repeats over no value`).toBeGreaterThan(0);
  const out = [];
  for (const vars of clones) {
    const sent = interpolate(q.query, { range: period, variables: vars, minIntervalMs });
    out.push({ sent, rows: rowCount(await influx.query(sent, DB)) });
  }
  return out;
}

type Picker = (name: string, options: string[]) => Selection;
const all: Picker = () => ({ all: true });
const dashboardsEn = () => buildDashboards({ lang: 'en', thresholds: DEFAULT_BUILD.thresholds });

async function checkDashboard(
  name: string,
  pick: Picker,
  /** Queries allowed to answer with no row (a school outside the registry has no contract). */
  mayBeEmpty: (q: PanelQuery) => boolean = (q) =>
    !currentMonthMeasured && q.query.includes('"up" + "lost" > 0'),
): Promise<{ sent: string[]; problems: string[] }> {
  const dashboard = dashboardsEn()[name]!;
  const variables = await resolveVariables(variableDefs(dashboard), range, showValues, (d, o) =>
    pick(d.name, o),
  );
  for (const v of variables)
    expect(v.options.length, `variable ${v.def.name} of ${name} has options`).toBeGreaterThan(0);
  const problems: string[] = [];
  const sent: string[] = [];
  const queries = dashboardQueries(dashboard);
  expect(queries.length).toBeGreaterThan(5);
  if (name !== 'agents') expect(queries.some((q) => q.panelType === 'annotation')).toBe(true);
  for (const q of queries) {
    try {
      for (const r of await runPanelQuery(q, variables)) {
        sent.push(r.sent);
        if (r.rows === 0 && !mayBeEmpty(q))
          problems.push(`${name} #${q.panelId} "${q.panelTitle}" ${q.refId}: no rows for ${r.sent}`);
      }
    } catch (err) {
      problems.push(`${name} #${q.panelId} "${q.panelTitle}" ${q.refId}: ${(err as Error).message}`);
    }
  }
  return { sent, problems };
}

type Series = NonNullable<InfluxQueryResult['results'][number]['series']>;

/** One panel query's answer, variables resolved with `pick` (All by default), over `period`. */
async function panel(
  name: string,
  title: string,
  opts: { refId?: string; period?: TimeRange; pick?: Picker } = {},
): Promise<Series> {
  const dashboard = dashboardsEn()[name]!;
  const period = opts.period ?? range;
  const variables = await resolveVariables(variableDefs(dashboard), period, showValues, (d, o) =>
    (opts.pick ?? all)(d.name, o),
  );
  const q = dashboardQueries(dashboard).find(
    (p) => p.panelTitle === title && (opts.refId === undefined || p.refId === opts.refId),
  );
  expect(q, `${name}: panel "${title}"`).toBeDefined();
  const res = await influx.query(interpolate(q!.query, { range: period, variables, minIntervalMs }), DB);
  return res.results[0]!.series ?? [];
}

/** Table rows as objects, tags included, as Grafana's table format shows them. */
const rowsOf = (series: Series) =>
  series.flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  ) as Record<string, unknown>[];

const oneSchool =
  (uai: Uai): Picker =>
  (v) =>
    v === 'uai' ? { values: [uai] } : { all: true };

/** The school-scope changes presence wrote, per UAI, in time order. */
async function changes(): Promise<Map<string, [number, number][]>> {
  const res = await influx.query(
    `SELECT "state_code" FROM "presence" WHERE "scope" = 'school' GROUP BY "uai"`,
    DB,
  );
  return new Map(
    (res.results[0]?.series ?? []).map((s) => [s.tags!['uai']!, s.values as [number, number][]]),
  );
}

/** Offline and observed milliseconds of a school's state within a period, straight from its changes. */
function offlineWithin(steps: [number, number][], p: TimeRange): { down: number; observed: number } {
  let down = 0;
  let observed = 0;
  steps.forEach(([at, code], i) => {
    const end = Math.min(steps[i + 1]?.[0] ?? p.to, p.to);
    const length = Math.max(0, end - Math.max(at, p.from));
    if (code === 0) down += length;
    if (code >= 0) observed += length;
  });
  return { down, observed };
}

describe('dashboard queries on real data', () => {
  it('fleet, continuity and agents: every query answers with rows for "All"', async () => {
    for (const name of ['fleet', 'continuity', 'agents']) {
      const { problems, sent } = await checkDashboard(name, all);
      expect(problems).toEqual([]);
      expect(sent.some((s) => s.includes('"commune" =~ /^.*$/'))).toBe(true);
    }
  }, 60_000);

  it('with several communes chosen, the regex alternative form (escaped) answers with rows', async () => {
    const communes = ['Saint-Priest', "L'Isle-d'Abeau (38)"];
    for (const name of ['fleet', 'continuity', 'agents']) {
      const { problems, sent } = await checkDashboard(name, (v, options) =>
        v === 'commune' ? { values: options.filter((o) => communes.includes(o)) } : { all: true },
      );
      expect(problems).toEqual([]);
      expect(sent.some((s) => s.includes(`"commune" =~ /^(L'Isle-d'Abeau \\(38\\)|Saint-Priest)$/`))).toBe(
        true,
      );
    }
  }, 60_000);

  it('with several ISPs chosen, every query answers with rows', async () => {
    for (const name of ['fleet', 'continuity', 'agents']) {
      const { problems, sent } = await checkDashboard(name, (v, options) =>
        v === 'isp'
          ? { values: options.filter((o) => o === 'Orange' || o === 'SFR Business') }
          : { all: true },
      );
      expect(problems).toEqual([]);
      expect(sent.some((s) => s.includes('"isp" =~ /^(Orange|SFR Business)$/'))).toBe(true);
    }
  }, 60_000);

  it('school: every query, the repeated latency panel once per target, answers with rows', async () => {
    const { problems, sent } = await checkDashboard('school', (v, options) => {
      if (v === 'uai') {
        expect(options).toContain(OFFLINE);
        return { values: [OFFLINE] };
      }
      return { all: true };
    });
    expect(problems).toEqual([]);
    expect(sent.some((s) => s.includes(`"uai" = '${OFFLINE}'`))).toBe(true);
    expect(sent.filter((s) => s.includes('"target" =~ /^anchor\\.example\\.test$/')).length).toBe(2);
  }, 60_000);

  it('the figures are the right ones, not just rows', async () => {
    const first = (title: string) => panel('fleet', title);
    // Online: two live schools, the stable one, the one outside the registry.
    expect((await first('Online'))[0]!.values[0]![1]).toBe(4);
    expect((await first('Degraded'))[0]!.values[0]![1]).toBe(1);
    expect((await first('Offline'))[0]!.values[0]![1]).toBe(3);
    const offline = await first('Offline or degraded schools, since');
    expect(offline.map((s) => s.tags?.['uai']).sort()).toEqual([OFFLINE, DEGRADED, LONG_OUT, ONGOING].sort());
    const map = await first('Map of schools');
    expect(map).toHaveLength(schools.size);
    expect(map.find((s) => s.tags?.['uai'] === OFFLINE)!.values[0]!.slice(1)).toEqual([
      45.6196,
      5.2266,
      "École primaire de l'Isle",
    ]);
  }, 30_000);
});

// Issue 16: each case below gave an empty panel, a missing school or an uptime outside [0, 100] % on
// the dashboards before it.
describe('the figures hold for stable schools, ongoing and long outages, schools outside the registry', () => {
  /** Past periods against STABLE's outage (9 h 2 min to 4 h ago): all inside it; it begins inside and outlasts it. */
  const inside = () => ({ from: t0 - 8 * HOUR, to: t0 - 6 * HOUR });
  const overlapping = () => ({ from: t0 - 9.5 * HOUR, to: t0 - 5 * HOUR });

  it('presence timeline: a school shows its state over the whole period even with no change in it', async () => {
    const timeline = async (uai: Uai) =>
      (await panel('school', 'Presence over the period', { pick: oneSchool(uai) }))[0]?.values ?? [];
    // Stable for 4 hours, the period is 3: its state at the start and at the end of the period.
    expect(await timeline(STABLE)).toEqual([
      [range.from, 2],
      [range.to, 2],
    ]);
    expect(await timeline(LONG_OUT)).toEqual([
      [range.from, 0],
      [range.to, 0],
    ]);
    expect(await timeline(ONGOING)).toEqual([
      [range.from, 2],
      [t0 - HOUR, 0],
      [range.to, 0],
    ]);
  }, 30_000);

  it('uptime per school: outages clipped to the period, ongoing ones up to its end, within [0, 100] %, a measured school without outage at 100 %', async () => {
    const steps = await changes();
    for (const period of [range, inside(), overlapping()]) {
      const rows = rowsOf(await panel('continuity', 'Uptime per school', { refId: 'A', period }));
      const uais = rows.map((r) => r['uai']);
      expect(new Set(uais).size, 'one row per school').toBe(uais.length);
      for (const r of rows) {
        expect(r['uptime_pct']).toBeGreaterThanOrEqual(0);
        expect(r['uptime_pct']).toBeLessThanOrEqual(100);
      }
      // Every school presence knows in the period, each at its uptime over the time it was observed.
      const expected = Object.fromEntries(
        [...steps]
          .map(([uai, s]) => [uai, offlineWithin(s, period)] as const)
          .filter(([, o]) => o.observed > 0)
          .map(([uai, o]) => [uai, 100 * (1 - o.down / o.observed)]),
      );
      expect(Object.keys(expected).sort()).toEqual((uais as string[]).sort());
      for (const r of rows)
        expect(r['uptime_pct'], String(r['uai'])).toBeCloseTo(expected[r['uai'] as string]!, 6);
    }
    const at = async (period: TimeRange, uai: Uai) =>
      rowsOf(await panel('continuity', 'Uptime per school', { refId: 'A', period })).find(
        (r) => r['uai'] === uai,
      );
    // Live period: stable → 100 %, offline for longer than it → 0 %, offline for the last hour → the rest.
    expect(await at(range, STABLE)).toMatchObject({ uptime_pct: 100, coverage_pct: 100, outages: 0 });
    expect(await at(range, LONG_OUT)).toMatchObject({ uptime_pct: 0, outages: 1 });
    expect((await at(range, LONG_OUT))!['downtime_s']).toBe((range.to - range.from) / 1000);
    expect((await at(range, ONGOING))!['downtime_s']).toBe((range.to - (t0 - HOUR)) / 1000);
    // Outside the registry, measured since its birth: listed, at 100 %, part of the period covered.
    const unregistered = (await at(range, UNREGISTERED))!;
    expect(unregistered).toMatchObject({ uptime_pct: 100, commune: 'unknown', isp: 'unknown' });
    expect(unregistered['coverage_pct']).toBeLessThan(100);
    // A past period entirely inside an outage: 0 %, not below; one the outage begins in and outlasts.
    expect(await at(inside(), STABLE)).toMatchObject({ uptime_pct: 0, downtime_s: 2 * 3600 });
    expect((await at(overlapping(), STABLE))!['uptime_pct']).toBeCloseTo(100 * (1 - 4 / 4.5), 6);
  }, 60_000);

  it('outages in the period: ongoing ones and those begun before it count, for their time inside it', async () => {
    const steps = await changes();
    let down = 0;
    let count = 0;
    for (const s of steps.values()) {
      down += offlineWithin(s, range).down;
      count += s.filter(
        ([at, code], i) => code === 0 && at < range.to && (s[i + 1]?.[0] ?? range.to) > range.from,
      ).length;
    }
    // The historical outage of OFFLINE, the one ONLINE_2 had live, OFFLINE's live one, LONG_OUT, ONGOING.
    expect(count).toBe(5);
    expect((await panel('fleet', 'Outages in the period', { refId: 'A' }))[0]!.values[0]![1]).toBe(5);
    expect((await panel('fleet', 'Outages in the period', { refId: 'B' }))[0]!.values[0]![1]).toBe(
      down / 1000,
    );
    expect((await panel('continuity', 'Outages'))[0]!.values[0]![1]).toBe(5);
    expect((await panel('continuity', 'Total downtime'))[0]!.values[0]![1]).toBe(down / 1000);
    expect((await panel('continuity', 'Longest outage'))[0]!.values[0]![1]).toBe(
      (range.to - range.from) / 1000,
    );
    const ongoing = await panel('continuity', 'Outages by cause', { refId: 'B' });
    expect(ongoing[0]!.values[0]![1]).toBe(3);
    const perIsp = rowsOf(await panel('continuity', 'Downtime per ISP'));
    expect(perIsp.reduce((n, r) => n + (r['sum'] as number), 0)).toBeCloseTo(down / 1000, 6);
  }, 60_000);

  it('outage lists and annotations: ongoing outages and those begun before the period are there', async () => {
    const list = rowsOf(await panel('fleet', 'Outages in the period, with their cause'));
    const byUai = (uai: Uai) => list.filter((r) => r['uai'] === uai);
    expect(byUai(LONG_OUT)).toEqual([
      expect.objectContaining({
        time: t0 - 5 * HOUR,
        end_ms: null,
        duration_s: (range.to - (t0 - 5 * HOUR)) / 1000,
      }),
    ]);
    expect(byUai(ONGOING)).toEqual([
      expect.objectContaining({ time: t0 - HOUR, end_ms: null, duration_s: (range.to - (t0 - HOUR)) / 1000 }),
    ]);
    expect(
      byUai(OFFLINE)
        .map((r) => r['end_ms'] === null)
        .sort(),
    ).toEqual([false, true]);
    // In the inside period, STABLE's outage, begun before it, with its cause and whole duration.
    const past = rowsOf(
      await panel('fleet', 'Outages in the period, with their cause', { period: inside() }),
    );
    expect(past.filter((r) => r['uai'] === STABLE)).toEqual([
      expect.objectContaining({
        time: t0 - STABLE_OUTAGE.start * MIN,
        cause: 'power_or_box',
        duration_s: ((STABLE_OUTAGE.start - STABLE_OUTAGE.end) * MIN) / 1000,
        end_ms: t0 - STABLE_OUTAGE.end * MIN,
      }),
    ]);
    const school = rowsOf(
      await panel('school', "The school's outages, with their cause", { pick: oneSchool(LONG_OUT) }),
    );
    expect(school).toEqual([expect.objectContaining({ time: t0 - 5 * HOUR, end_ms: null })]);
    const annotations = async (name: string, period: TimeRange) => {
      const d = dashboardsEn()[name]!;
      const variables = await resolveVariables(variableDefs(d), period, showValues, () => ({ all: true }));
      const q = dashboardQueries(d).find((p) => p.panelType === 'annotation')!;
      return rowsOf(
        (await influx.query(interpolate(q.query, { range: period, variables }), DB)).results[0]!.series!,
      );
    };
    const drawn = await annotations('fleet', range);
    expect(drawn.find((r) => r['uai'] === LONG_OUT)).toMatchObject({ time: t0 - 5 * HOUR, end_ms: range.to });
    expect(drawn.find((r) => r['uai'] === ONGOING)).toMatchObject({ time: t0 - HOUR, end_ms: range.to });
    expect((await annotations('continuity', inside())).map((r) => r['uai'])).toContain(STABLE);
  }, 60_000);

  it('a school outside the registry: in the school picker, counted, listed, and its dashboard answers', async () => {
    const school = dashboardsEn()['school']!;
    const [picker] = await resolveVariables(variableDefs(school).slice(0, 1), range, showValues, () => ({
      all: true,
    }));
    expect(picker!.options).toContain(UNREGISTERED);
    expect(picker!.options.filter((o) => o === ONLINE)).toHaveLength(1);
    expect(picker!.options).toHaveLength(schools.size + 1);
    // No contract (no registry entry) and no outage: those panels are empty, every other answers.
    const { problems } = await checkDashboard(
      'school',
      oneSchool(UNREGISTERED),
      (q) =>
        q.query.includes('FROM "school"') ||
        ['annotation: Outages', "The school's outages, with their cause"].includes(q.panelTitle),
    );
    expect(problems).toEqual([]);
    expect((await panel('school', 'State', { pick: oneSchool(UNREGISTERED) }))[0]!.values[0]![1]).toBe(2);
    const lastSeen = rowsOf(await panel('agents', 'Last seen'));
    expect(lastSeen.map((r) => r['uai'])).toContain(UNREGISTERED);
    const health = rowsOf(await panel('agents', 'Agents: version and health'));
    expect(health.map((r) => r['uai'])).toContain(UNREGISTERED);
    const slowest = await panel('fleet', 'Slowest schools (p95 of the median)');
    expect(slowest.map((s) => s.tags?.['uai'])).toContain(UNREGISTERED);
  }, 60_000);
});

// Issue 15: the Continuity dashboard showed uptime over calendar time, per 30-day bucket aligned on
// UTC, with an outage counted where it started. Its first row now reads the availability engine's
// figures per calendar month in local time, in school hours, as the collector's job wrote them.
describe('Continuity: the availability engine per calendar month, in school hours', () => {
  type Month = {
    month: string;
    figures: { upMs: number; lostMs: number; openMs: number; outageCount: number };
  };
  type EngineSchool = { uai: string; commune: string; isp: string; months: Month[] };
  /** The engine's schools over the two months, as the report computes them. */
  const engineSchools = async () =>
    (
      await engine().figures({
        period: { label: 'test', startMs: months[0]!.startMs, endMs: months[months.length - 1]!.endMs },
      })
    ).schools as EngineSchool[];
  const H = 3_600_000;
  /** Sums over the given months (labels) of some schools: hours up, lost, open. */
  const sum = (list: EngineSchool[], labels: string[]) => {
    const s = { up: 0, lost: 0, open: 0 };
    for (const school of list)
      for (const m of school.months)
        if (labels.includes(m.month)) {
          s.up += m.figures.upMs / H;
          s.lost += m.figures.lostMs / H;
          s.open += m.figures.openMs / H;
        }
    return s;
  };
  const pct = (s: { up: number; lost: number }) => (100 * s.up) / (s.up + s.lost);
  /** A range inside the two months: the panels take the months it touches, whole. */
  const bothMonths = (): TimeRange => ({ from: months[0]!.startMs + 24 * HOUR, to: asOf });
  const previousOnly = (): TimeRange => ({ from: months[0]!.startMs + HOUR, to: months[0]!.endMs - HOUR });
  const labels = () => months.map((m) => m.label);
  const inPct = (v: unknown) => {
    expect(typeof v).toBe('number');
    expect(v as number).toBeGreaterThanOrEqual(0);
    expect(v as number).toBeLessThanOrEqual(100);
  };

  it('monthly trend: one point per calendar month, at local midnight on the 1st (Paris), the fleet availability of the engine', async () => {
    const all = await engineSchools();
    const series = await panel('continuity', 'Monthly trend', { refId: 'A', period: bothMonths() });
    const points = series.flatMap((s) => s.values) as [number, number][];
    const measured = months.filter((m) => {
      const s = sum(all, [m.label]);
      return s.up + s.lost > 0;
    });
    expect(measured.length).toBeGreaterThan(0);
    expect(points.map(([t]) => t)).toEqual(measured.map((m) => m.startMs));
    const paris = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    for (const [t] of points) expect(paris.format(t)).toBe('01, 00:00');
    points.forEach(([, v], i) => {
      inPct(v);
      expect(v).toBeCloseTo(pct(sum(all, [measured[i]!.label])), 9);
    });
  }, 30_000);

  it('per school: availability in school hours, coverage and hours lost are the engine’s; a school outside the registry is not among them', async () => {
    const all = await engineSchools();
    const period = bothMonths();
    const rows = (refId: string) =>
      panel('continuity', 'Availability per school', { refId, period }).then(rowsOf);
    const availability = await rows('A');
    const coverage = await rows('B');
    const hours = await rows('C');
    expect(hours.map((r) => r['uai']).sort()).toEqual([...schools.keys()].sort());
    expect(hours.map((r) => r['uai'])).not.toContain(UNREGISTERED);
    for (const school of all) {
      const s = sum([school], labels());
      const a = availability.find((r) => r['uai'] === school.uai);
      if (s.up + s.lost > 0) {
        inPct(a?.['availability_pct']);
        expect(a?.['availability_pct'], school.uai).toBeCloseTo(pct(s), 9);
      } else expect(a, `${school.uai}: nothing measured, no availability`).toBeUndefined();
      const c = coverage.find((r) => r['uai'] === school.uai);
      inPct(c?.['coverage_pct']);
      expect(c?.['coverage_pct'], school.uai).toBeCloseTo((100 * (s.up + s.lost)) / s.open, 9);
      const h = hours.find((r) => r['uai'] === school.uai)!;
      expect(h['lost_h'], school.uai).toBeCloseTo(s.lost, 9);
      expect(h['open_h'], school.uai).toBeCloseTo(s.open, 9);
    }
    // Outages still going on (LONG_OUT, ONGOING) count up to now, within [0, 100] %.
    for (const uai of [LONG_OUT, ONGOING])
      inPct(availability.find((r) => r['uai'] === uai)?.['availability_pct']);
  }, 30_000);

  it('an outage longer than the month: 0 % for that month, not below; every percentage of every panel within [0, 100]', async () => {
    const row = rowsOf(
      await panel('continuity', 'Availability per school', { refId: 'A', period: previousOnly() }),
    ).find((r) => r['uai'] === ONLINE_2);
    expect(row?.['availability_pct']).toBe(0);
    const fleet = await panel('continuity', 'Availability in school hours', { period: previousOnly() });
    inPct(fleet[0]!.values[0]![1]);
    // Every percentage panel of the dashboard, over the live range, the previous month, both months.
    const percentages: [string, string | undefined, RegExp][] = [
      ['Availability in school hours', undefined, /./],
      ['Data coverage', undefined, /./],
      ['Monthly trend', 'A', /./],
      ['Monthly trend', 'B', /./],
      ['Availability per school', 'A', /_pct$/],
      ['Availability per school', 'B', /_pct$/],
      ['Availability per municipality', undefined, /./],
      ['Availability per ISP', undefined, /./],
      ['Uptime per school', 'A', /_pct$/],
    ];
    let checked = 0;
    for (const period of [range, previousOnly(), bothMonths()])
      for (const [title, refId, column] of percentages)
        for (const s of await panel('continuity', title, { period, ...(refId ? { refId } : {}) }))
          s.columns.forEach((c, i) => {
            if (c === 'time' || !column.test(c)) return;
            for (const v of s.values) {
              inPct(v[i]);
              checked++;
            }
          });
    expect(checked).toBeGreaterThan(20);
  }, 60_000);

  it('fleet, municipality and ISP: hours summed over schools and months, never averaged percentages', async () => {
    const all = await engineSchools();
    const period = bothMonths();
    const fleet = sum(all, labels());
    expect(
      (await panel('continuity', 'Availability in school hours', { period }))[0]!.values[0]![1],
    ).toBeCloseTo(pct(fleet), 9);
    expect((await panel('continuity', 'Teaching hours lost', { period }))[0]!.values[0]![1]).toBeCloseTo(
      fleet.lost,
      9,
    );
    expect((await panel('continuity', 'Data coverage', { period }))[0]!.values[0]![1]).toBeCloseTo(
      (100 * (fleet.up + fleet.lost)) / fleet.open,
      9,
    );
    for (const [title, by] of [
      ['Availability per municipality', 'commune'],
      ['Availability per ISP', 'isp'],
    ] as const) {
      const series = await panel('continuity', title, { period });
      const keys = [...new Set(all.map((s) => s[by]))];
      const expected = keys
        .map(
          (k) =>
            [
              k,
              sum(
                all.filter((s) => s[by] === k),
                labels(),
              ),
            ] as const,
        )
        .filter(([, s]) => s.up + s.lost > 0);
      expect(series.map((s) => s.tags?.[by]).sort()).toEqual(expected.map(([k]) => k).sort());
      for (const [k, s] of expected) {
        const v = series.find((x) => x.tags?.[by] === k)!.values[0]![1] as number;
        inPct(v);
        expect(v, `${by} ${k}`).toBeCloseTo(pct(s), 9);
      }
    }
  }, 30_000);
});
