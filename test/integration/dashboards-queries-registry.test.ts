// The dashboards' `school` panels after a registry change, on a real InfluxDB: the collector writes the
// registry as `school` points tagged with commune and ISP (collector/school-points.ts), so a school that
// changed ISP or commune has two series. The fleet map ("Map of schools") and the school dashboard's
// contracted rates must read each school's newest registry point, whole, one row per school: before,
// last() per field merged the series with time 0, the fleet filter still found a school under the
// commune and ISP it had left (a marker in the wrong commune), and a field the newest point lacks
// (coordinates removed from the registry) was filled from an older point (a marker where the school
// no longer is).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { InfluxHttp } from '../../collector/influx-http.ts';
import { toLines } from '../../collector/line-protocol.ts';
import { transitionPoint } from '../../collector/presence/points.ts';
import { applyRetention } from '../../collector/retention.ts';
import { schoolInfoPoints } from '../../collector/school-points.ts';
import { buildDashboards, DEFAULT_BUILD } from '../../dashboards/build.ts';
import { parseRegistry } from '../../shared/registry.ts';
import type { Uai } from '../../shared/uai.ts';
import {
  dashboardQueries,
  interpolate,
  type ResolvedVariable,
  type Selection,
  variableDefs,
} from '../harness/grafana-queries.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'registry_change';
const HOUR = 3_600_000;
const HEADER = 'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours';
const MOVED = '0381234K' as Uai;
const UNMAPPED = '0381517T' as Uai;
const STILL = '0382001U' as Uai;
const BEFORE = parseRegistry(
  'before.csv',
  `${HEADER}
${MOVED},École Saint-Exupéry,Saint-Priest,45.6964,4.9439,Orange,100,20,school
${UNMAPPED},École Jean Moulin,Saint-Priest,45.701,4.95,Orange,50,10,school
${STILL},École du Mail,Vienne,45.525,4.874,Orange,100,20,school
`,
);
// MOVED changed commune, ISP, coordinates, name and contract; UNMAPPED lost its coordinates.
const AFTER = parseRegistry(
  'after.csv',
  `${HEADER}
${MOVED},École Saint-Exupéry (nouvelle),Vienne,45.53,4.88,SFR Business,300,60,school
${UNMAPPED},École Jean Moulin,Saint-Priest,,,Orange,50,10,school
${STILL},École du Mail,Vienne,45.525,4.874,Orange,100,20,school
`,
);

let influx: InfluxHandle;
let http: InfluxHttp;
const nowMs = Date.now();
const dashboards = buildDashboards({ lang: 'en', thresholds: DEFAULT_BUILD.thresholds });

beforeAll(async () => {
  influx = await startInfluxdb();
  http = new InfluxHttp({ url: influx.url, database: DB, gzip: false, timeoutMs: 60_000 });
  const config = resolveCollectorConfig({ influx: { database: DB } });
  await applyRetention(http, DB, config.retention);
  // The collector writes the registry at start and daily: two days of the old one, then the new one.
  const points = [
    ...schoolInfoPoints(BEFORE.values(), nowMs - 48 * HOUR),
    ...schoolInfoPoints(BEFORE.values(), nowMs - 24 * HOUR),
    ...schoolInfoPoints(AFTER.values(), nowMs - HOUR),
  ];
  // Presence under the tags of its time: MOVED online under the old ones, offline since the change.
  for (const [uai, school] of BEFORE)
    points.push(
      transitionPoint(
        {
          scope: 'school',
          uai,
          agent: '',
          from: 'unknown',
          to: 'online',
          at: nowMs - 47 * HOUR,
          reason: 'test',
        },
        school,
      ),
    );
  points.push(
    transitionPoint(
      {
        scope: 'school',
        uai: MOVED,
        agent: '',
        from: 'online',
        to: 'offline',
        at: nowMs - 30 * 60_000,
        reason: 'test',
      },
      AFTER.get(MOVED),
    ),
  );
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
  pick: Record<string, Selection>,
): Promise<Row[]> {
  const d = dashboards[dashboard]!;
  const q = dashboardQueries(d).find((x) => x.panelTitle === title && x.refId === refId);
  if (!q) throw new Error(`no query ${refId} in panel "${title}" of ${dashboard}`);
  const variables: ResolvedVariable[] = variableDefs(d).map((def) => ({
    def,
    options: [],
    selection: pick[def.name] ?? { all: true },
  }));
  const sent = interpolate(q.query, { range: { from: nowMs - 6 * HOUR, to: nowMs }, variables });
  const res = await influx.query(sent, DB);
  return (res.results[0]?.series ?? []).flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );
}

/**
 * The fleet map's markers: query A (registry) joined to query B (latest state) by UAI, outer, as the
 * panel's joinByField does; a row with coordinates is a marker.
 */
async function markers(pick: Record<string, Selection> = {}) {
  const registry = await panelRows('fleet', 'Map of schools', 'A', pick);
  const states = await panelRows('fleet', 'Map of schools', 'B', pick);
  return registry
    .filter((r) => typeof r['lat'] === 'number' && typeof r['lon'] === 'number')
    .map((r) => ({
      uai: r['uai'],
      lat: r['lat'],
      lon: r['lon'],
      name: r['name'],
      code: states.find((s) => s['uai'] === r['uai'])?.['code'],
    }));
}

describe("after a school's ISP or commune changed in the registry", () => {
  it('the fleet map shows one marker per school, at its newest registry entry', async () => {
    const all = await markers();
    expect(all.map((m) => m.uai).sort()).toEqual([MOVED, STILL].sort());
    expect(all.find((m) => m.uai === MOVED)).toEqual({
      uai: MOVED,
      lat: 45.53,
      lon: 4.88,
      name: 'École Saint-Exupéry (nouvelle)',
      code: 0,
    });
    // One row per school in the registry query too (the school without coordinates has an empty one).
    const rows = await panelRows('fleet', 'Map of schools', 'A', {});
    expect(rows.map((r) => r['uai']).sort()).toEqual([MOVED, UNMAPPED, STILL].sort());
    expect(rows.find((r) => r['uai'] === UNMAPPED)).toMatchObject({ lat: null, lon: null });
  }, 60_000);

  it('the commune and ISP filters place the school where it is now, not where it was', async () => {
    const inOld = await markers({ commune: { values: ['Saint-Priest'] } });
    expect(inOld.map((m) => m.uai)).toEqual([]);
    const inNew = await markers({ commune: { values: ['Vienne'] }, isp: { values: ['SFR Business'] } });
    expect(inNew.map((m) => m.uai)).toEqual([MOVED]);
    const oldIsp = await markers({ isp: { values: ['Orange'] } });
    expect(oldIsp.map((m) => m.uai)).toEqual([STILL]);
  }, 60_000);

  it("the school dashboard's contracted rates are the newest entry's", async () => {
    const school = { uai: { values: [MOVED] } };
    const stat = await panelRows('school', 'Contracted bandwidth', 'A', school);
    expect(stat.map(({ down, up }) => ({ down, up }))).toEqual([{ down: 300e6, up: 60e6 }]);
    const line = await panelRows('school', 'WAN throughput, in and out', 'B', school);
    expect(line.map((r) => r['contracted_down'])).toEqual([300e6]);
  }, 60_000);
});
