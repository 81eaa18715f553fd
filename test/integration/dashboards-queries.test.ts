// Every panel query of every dashboard, with its variables substituted as Grafana would, run against
// a real InfluxDB filled by the real collector (ingest, presence and alerts) from simulated agents
// through real Mosquitto: no error, and rows for each. The live states come from the real presence
// engine (births, wills, degraded rounds, an outage that ends); the history before this collector run
// (older transitions and outages) goes through the collector's point sink, built by the presence
// code's own point functions; the registry's `school` points by the dashboards' own.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PresenceAndAlerts, startPresenceAndAlerts } from '../../collector/alerts/setup.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { outagePoint, transitionPoint } from '../../collector/presence/points.ts';
import type { PresenceState } from '../../collector/presence/state.ts';
import { rollupStatement, rollups } from '../../collector/retention.ts';
import { schoolInfoPoints } from '../../collector/school-points.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { buildDashboards, DEFAULT_BUILD } from '../../dashboards/build.ts';
import {
  dashboardQueries,
  interpolate,
  type PanelQuery,
  parseInterval,
  type ResolvedVariable,
  resolveVariables,
  type Selection,
  type TimeRange,
  variableDefs,
} from '../../dashboards/queries.ts';
import { createLogger } from '../../shared/log.ts';
import { parseRegistry } from '../../shared/registry.ts';
import type { Sample, StatusMessage } from '../../shared/schemas.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import type { Uai } from '../../shared/uai.ts';
import { collectorSection, makeBatch } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, type InfluxQueryResult, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const DB = 'vigie';
const MIN = 60_000;
const REGISTRY = `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours
0381234K,École élémentaire Saint-Exupéry,Saint-Priest,45.6964,4.9439,Orange,100,20,school
0381517T,École maternelle Jean Moulin,Saint-Priest,45.701,4.95,Orange,50,10,school
0380842J,École primaire de l'Isle,L'Isle-d'Abeau (38),45.6196,5.2266,SFR Business,30,5,school
0381966F,École élémentaire Ponsard,Lyon,45.764,4.8357,Free Pro,100,50,school
`;
const schools = parseRegistry('schools.csv', REGISTRY);
const [ONLINE, DEGRADED, OFFLINE, ONLINE_2] = [...schools.keys()] as [Uai, Uai, Uai, Uai];
const agentOf = (uai: string) => `box-${uai.slice(-4).toLowerCase()}`;
const BATCHES = 12;

let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorHandle;
let pub: MqttClient;
let presence: PresenceAndAlerts;
let range: TimeRange;

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
};

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
  );
  return points;
}

const status = (uai: Uai, state: 'online' | 'offline', reason: StatusMessage['reason']) =>
  pub.publishAsync(
    statusTopic(uai, agentOf(uai)),
    JSON.stringify({ v: 1, uai, agent: agentOf(uai), state, t: Date.now(), reason, version: '0.1.1' }),
    { qos: 1, retain: true },
  );
const metrics = (uai: Uai, seq: number, t: number, samples: Sample[]) =>
  pub.publishAsync(
    metricsTopic(uai, agentOf(uai)),
    JSON.stringify(makeBatch(uai, agentOf(uai), seq, t, samples)),
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
  for (const uai of schools.keys()) await status(uai, 'online', 'birth');
  for (const uai of schools.keys()) {
    for (let i = 0; i < BATCHES; i++) {
      const t = now - 130 * MIN + i * 10 * MIN;
      await metrics(uai, i, t, round(t, i));
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

  const expected = { [ONLINE]: 2, [DEGRADED]: 1, [OFFLINE]: 0, [ONLINE_2]: 2 };
  await waitFor('presence wrote every live state', async () => {
    const states = await schoolStates();
    return Object.entries(expected).every(([uai, code]) => states[uai] === code);
  });
  await waitFor('the ended outage is written', async () => {
    const rows = await influx.rows('SELECT count("duration_s") AS n FROM "outage"', DB);
    return rows[0]?.['n'] === 2;
  });
  await waitFor('every batch stored', async () => {
    const rows = await influx.rows('SELECT count("seq") AS n FROM "batch"', DB);
    return rows[0]?.['n'] === schools.size * BATCHES + 3;
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
  const config = resolveCollectorConfig(
    collectorSection({
      mqttUrl: broker.url,
      influxUrl: influx.url,
      database: DB,
      schools: file,
      extra: { presence: { tickMs: 50, classifyWithinSeconds: 0, rebuildFromInflux: false } },
    }),
  );
  const log = createLogger('test-collector', process.env['VIGIE_LOG_LEVEL'] ?? 'silent');
  collector = await startCollector(config, {
    logger: log,
    observers: [
      (points) => {
        presence = startPresenceAndAlerts({
          presence: config.presence,
          alerts: config.alerts,
          schools: file,
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
  await fill(now);
  range = { from: now - 3 * 60 * MIN, to: Date.now() + MIN };
}, 120_000);

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
    const sent = interpolate(q.query, { range, variables: vars, minIntervalMs });
    out.push({ sent, rows: rowCount(await influx.query(sent, DB)) });
  }
  return out;
}

type Picker = (name: string, options: string[]) => Selection;
const all: Picker = () => ({ all: true });

async function checkDashboard(name: string, pick: Picker): Promise<{ sent: string[]; problems: string[] }> {
  const dashboard = buildDashboards({ lang: 'en', thresholds: DEFAULT_BUILD.thresholds })[name]!;
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
        if (r.rows === 0)
          problems.push(`${name} #${q.panelId} "${q.panelTitle}" ${q.refId}: no rows for ${r.sent}`);
      }
    } catch (err) {
      problems.push(`${name} #${q.panelId} "${q.panelTitle}" ${q.refId}: ${(err as Error).message}`);
    }
  }
  return { sent, problems };
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
    const fleet = buildDashboards({ lang: 'en', thresholds: DEFAULT_BUILD.thresholds })['fleet']!;
    const variables = await resolveVariables(variableDefs(fleet), range, showValues, () => ({ all: true }));
    const first = async (title: string) => {
      const q = dashboardQueries(fleet).find((p) => p.panelTitle === title)!;
      const res = await influx.query(interpolate(q.query, { range, variables, minIntervalMs }), DB);
      return res.results[0]!.series!;
    };
    expect((await first('Online'))[0]!.values[0]![1]).toBe(2);
    expect((await first('Degraded'))[0]!.values[0]![1]).toBe(1);
    expect((await first('Offline'))[0]!.values[0]![1]).toBe(1);
    const offline = await first('Offline or degraded schools, since');
    expect(offline.map((s) => s.tags?.['uai']).sort()).toEqual([OFFLINE, DEGRADED].sort());
    const outages = await first('Outages in the period');
    expect(outages[0]!.values[0]![1]).toBe(2);
    const map = await first('Map of schools');
    expect(map).toHaveLength(schools.size);
    expect(map.find((s) => s.tags?.['uai'] === OFFLINE)!.values[0]!.slice(1)).toEqual([
      45.6196,
      5.2266,
      "École primaire de l'Isle",
    ]);
  }, 30_000);
});
