// The dashboards' presence panels after a school's commune and ISP changed in the registry, on a real
// InfluxDB. The collector tags each presence change with the registry of its time
// (collector/presence/points.ts), so the reviewer's school, offline 3 h ago under its old commune and
// online for the last hour under the new one, has two series. Grouping the state stream by UAI,
// commune and ISP left the old series offline forever: the school was listed offline under the
// commune it left, counted for a 3 h outage in a window where it was down 2 h, had an endless outage
// in the outage list and two rows in uptime per school. One school, one state stream, and the fleet
// filter applies to its current commune and ISP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { InfluxHttp } from '../../collector/influx-http.ts';
import { toLines } from '../../collector/line-protocol.ts';
import { outagePoint, type SchoolTags, transitionPoint } from '../../collector/presence/points.ts';
import type { PresenceState } from '../../collector/presence/state.ts';
import { applyRetention } from '../../collector/retention.ts';
import { buildDashboards, DEFAULT_BUILD } from '../../dashboards/build.ts';
import type { Uai } from '../../shared/uai.ts';
import {
  dashboardQueries,
  interpolate,
  type ResolvedVariable,
  type Selection,
  variableDefs,
} from '../harness/grafana-queries.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'presence_retag';
const HOUR = 3_600_000;
const MOVED = '0381234K' as Uai;
const STILL = '0382001U' as Uai;
const OLD: SchoolTags = { commune: 'Saint-Priest', isp: 'Orange' };
const NEW: SchoolTags = { commune: 'Vienne', isp: 'SFR Business' };

let influx: InfluxHandle;
let http: InfluxHttp;
const nowMs = Date.now();
/** The displayed period: the last 4 hours. MOVED was offline from −3 h to −1 h: 2 h of it. */
const period = { from: nowMs - 4 * HOUR, to: nowMs };
const dashboards = buildDashboards({ lang: 'en', thresholds: DEFAULT_BUILD.thresholds });

const change = (uai: Uai, from: PresenceState, to: PresenceState, at: number, tags: SchoolTags) =>
  transitionPoint({ scope: 'school', uai, agent: '', from, to, at, reason: 'test' }, tags);

beforeAll(async () => {
  influx = await startInfluxdb();
  http = new InfluxHttp({ url: influx.url, database: DB, gzip: false, timeoutMs: 60_000 });
  await applyRetention(http, DB, resolveCollectorConfig({ influx: { database: DB } }).retention);
  const points = [
    // Under the old registry: both online, then MOVED offline 3 h ago.
    change(MOVED, 'unknown', 'online', nowMs - 6 * HOUR, OLD),
    change(STILL, 'unknown', 'online', nowMs - 6 * HOUR, OLD),
    change(MOVED, 'online', 'offline', nowMs - 3 * HOUR, OLD),
    // The collector restarted with the new registry; MOVED came back an hour ago, its outage classified.
    change(MOVED, 'offline', 'online', nowMs - HOUR, NEW),
    outagePoint(
      { uai: MOVED, start: nowMs - 3 * HOUR, end: nowMs - HOUR, cause: 'wan_cut', schoolHoursS: 0 },
      NEW,
    ),
  ];
  await influx.write(toLines(points), DB, 'ms');
}, 120_000);

afterAll(async () => {
  await http?.close();
  await influx?.daemon.dispose();
});

type Row = Record<string, unknown>;

/** Rows of a panel query as Grafana's table format gives them: one row per value, tags as columns. */
async function panelRows(
  dashboard: string,
  title: string,
  refId: string,
  pick: Record<string, Selection> = {},
): Promise<Row[]> {
  const d = dashboards[dashboard]!;
  const q = dashboardQueries(d).find((x) => x.panelTitle === title && x.refId === refId);
  if (!q) throw new Error(`no query ${refId} in panel "${title}" of ${dashboard}`);
  const variables: ResolvedVariable[] = variableDefs(d).map((def) => ({
    def,
    options: [],
    selection: pick[def.name] ?? { all: true },
  }));
  const res = await influx.query(interpolate(q.query, { range: period, variables }), DB);
  return (res.results[0]?.series ?? []).flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );
}

/** The single value of a stat panel's query (0 when it has no row, as the panels' noValue says). */
async function figure(dashboard: string, title: string, refId = 'A', pick: Record<string, Selection> = {}) {
  const rows = await panelRows(dashboard, title, refId, pick);
  expect(rows.length).toBeLessThanOrEqual(1);
  const row = rows[0];
  if (!row) return 0;
  const value = Object.entries(row).find(([k]) => k !== 'time')?.[1];
  return typeof value === 'number' ? value : 0;
}

const oldCommune = { commune: { values: [OLD.commune] } };
const newCommune = { commune: { values: [NEW.commune] } };
const oldIsp = { isp: { values: [OLD.isp] } };

describe('a school offline under its old commune and ISP, online for the last hour under the new ones', () => {
  it('is not among the offline or degraded schools, under any commune', async () => {
    for (const pick of [{}, oldCommune, newCommune, oldIsp]) {
      const rows = await panelRows('fleet', 'Offline or degraded schools, since', 'A', pick);
      expect(rows.map((r) => r['uai'])).toEqual([]);
      expect(await figure('fleet', 'Offline', 'A', pick)).toBe(0);
    }
    // Online, counted once, under its current commune only.
    expect(await figure('fleet', 'Online')).toBe(2);
    expect(await figure('fleet', 'Online', 'A', oldCommune)).toBe(1);
    expect(await figure('fleet', 'Online', 'A', newCommune)).toBe(1);
    const map = await panelRows('fleet', 'Map of schools', 'B');
    expect(map.map((r) => [r['uai'], r['code']]).sort()).toEqual([
      [MOVED, 2],
      [STILL, 2],
    ]);
  }, 120_000);

  it('counts one outage of 2 h in the period, not 3 h, and none under the commune it left', async () => {
    expect(await figure('fleet', 'Outages in the period', 'A')).toBe(1);
    expect(await figure('fleet', 'Outages in the period', 'B')).toBeCloseTo(2 * 3600, 3);
    expect(await figure('fleet', 'Outages in the period', 'A', newCommune)).toBe(1);
    expect(await figure('fleet', 'Outages in the period', 'B', newCommune)).toBeCloseTo(2 * 3600, 3);
    for (const pick of [oldCommune, oldIsp]) {
      expect(await figure('fleet', 'Outages in the period', 'A', pick)).toBe(0);
      expect(await figure('fleet', 'Outages in the period', 'B', pick)).toBe(0);
    }
    expect(await figure('continuity', 'Outages')).toBe(1);
    expect(await figure('continuity', 'Total downtime')).toBeCloseTo(2 * 3600, 3);
    expect(await figure('continuity', 'Longest outage')).toBeCloseTo(2 * 3600, 3);
    expect(await figure('continuity', 'Longest outage', 'A', oldCommune)).toBe(0);
  }, 120_000);

  it('has no outage still going on: the outage list holds the finished one only', async () => {
    const list = await panelRows('fleet', 'Outages in the period, with their cause', 'A');
    expect(
      list.map((r) => ({
        uai: r['uai'],
        end: r['end_ms'],
        duration: r['duration_s'],
        commune: r['commune'],
      })),
    ).toEqual([{ uai: MOVED, end: nowMs - HOUR, duration: 2 * 3600, commune: NEW.commune }]);
    const school = await panelRows('school', "The school's outages, with their cause", 'A', {
      uai: { values: [MOVED] },
    });
    expect(school.map((r) => r['end_ms'])).toEqual([nowMs - HOUR]);
    expect(await figure('continuity', 'Outages by cause', 'B')).toBe(0);
  }, 120_000);

  it('has one row in uptime per school, at its uptime over the whole period, under its current commune', async () => {
    const rows = await panelRows('continuity', 'Uptime per school', 'A');
    expect(rows.map((r) => r['uai']).sort()).toEqual([MOVED, STILL].sort());
    expect(rows.find((r) => r['uai'] === MOVED)).toMatchObject({
      uptime_pct: 50,
      coverage_pct: 100,
      outages: 1,
      downtime_s: 2 * 3600,
      commune: NEW.commune,
      isp: NEW.isp,
    });
    expect(rows.find((r) => r['uai'] === STILL)).toMatchObject({ uptime_pct: 100, commune: OLD.commune });
    const inOld = await panelRows('continuity', 'Uptime per school', 'A', oldCommune);
    expect(inOld.map((r) => r['uai'])).toEqual([STILL]);
    const inNew = await panelRows('continuity', 'Uptime per school', 'A', newCommune);
    expect(inNew.map((r) => r['uai'])).toEqual([MOVED]);
  }, 120_000);

  it('the school dashboard: online now, and its presence over the period is one stream', async () => {
    const school = { uai: { values: [MOVED] } };
    const state = await panelRows('school', 'State', 'A', school);
    expect(state.map((r) => r['c'])).toEqual([2]);
    const steps = await panelRows('school', 'Presence over the period', 'A', school);
    expect(steps.map((r) => [r['time'], r['school']])).toEqual([
      [period.from, 2],
      [nowMs - 3 * HOUR, 0],
      [nowMs - HOUR, 2],
      [period.to, 2],
    ]);
  }, 120_000);
});
