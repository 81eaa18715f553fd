// Issue 15: the production collector (`vigie collector`, its composition root) writes the Continuity
// dashboard's monthly figures by itself at start: one `availability_month` point per school of the
// registry for the previous and the current calendar month (the school year so far on the first
// run), in the long policy, stamped at local midnight on the 1st.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { monthsToWrite, writeAvailabilityPoints } from '../../collector/availability-points.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { reportInflux } from '../../report/influx.ts';
import { type CollectorProcess, collectorProcess, startTestCollector } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'availability_job';
const SCHOOLS = ['0381234K', '0381517T'];
let influx: InfluxHandle;
let collector: CollectorProcess;
let dir: string;
let schoolsFile: string;
const registry = (ispOfA: string) =>
  `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${SCHOOLS[0]},École A,Vienne,45.5,4.8,${ispOfA},100,20,school\n${SCHOOLS[1]},École B,Bron,45.7,4.9,Free Pro,50,10,school\n`;

beforeAll(async () => {
  influx = await startInfluxdb();
  dir = tempDir('availability-job');
  schoolsFile = join(dir, 'schools.csv');
  writeFileSync(schoolsFile, registry('Orange'));
  // The embedded broker: nothing to publish here.
  collector = collectorProcess({ influxUrl: influx.url, database: DB, schools: schoolsFile });
  await collector.daemon.start();
}, 120_000);

afterAll(async () => {
  await collector?.daemon.dispose();
  await influx?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('writes a point per school and month at start, in the long policy, at the local month start', {
  timeout: 90_000,
}, async () => {
  const startedAt = Date.now();
  const tz = resolveCollectorConfig({}).alerts.timezone;
  const rows = () =>
    influx
      .rows(`SELECT "end_ms", "open_h", "uai", "month" FROM "long"."availability_month"`, DB)
      .catch(() => []);
  await waitFor('the monthly points', async () => (await rows()).length > 0, 60_000);
  const months = monthsToWrite(startedAt, tz, true);
  const got = await rows();
  expect(got.map((r) => `${r['uai']} ${r['month']} ${r['time']} ${r['end_ms']}`).sort()).toEqual(
    SCHOOLS.flatMap((uai) => months.map((m) => `${uai} ${m.label} ${m.startMs} ${m.endMs}`)).sort(),
  );
  for (const r of got) expect(r['open_h'] as number).toBeGreaterThanOrEqual(0);
  expect(collector.daemon.logTail(100_000)).toContain(
    'availability figures written for the Continuity dashboard',
  );
  // Nothing of it in the raw policy.
  expect(await influx.rows(`SELECT count("open_h") FROM "raw"."availability_month"`, DB)).toEqual([]);
});

// The report reads a school's commune and ISP from the registry's latest `school` point; when they
// change, the school's months are rewritten under the new tags, and the old series are deleted so
// that no sum counts the school twice. (Through the real collector this needs the report to pick the
// newest registry point: see the branch report.)
it('a school that changed ISP: its months under the new tags only, never twice', {
  timeout: 60_000,
}, async () => {
  const db = 'retagged';
  const sink = await startTestCollector({ influxUrl: influx.url, database: db });
  // The collector creates its policies in the background: the job reads the long one.
  await waitFor('the long policy', async () =>
    JSON.stringify(await influx.query(`SHOW RETENTION POLICIES ON "${db}"`).catch(() => '')).includes(
      '"long"',
    ),
  );
  try {
    const tz = resolveCollectorConfig({}).alerts.timezone;
    const months = monthsToWrite(Date.now(), tz, false);
    const source = (isp: string) => ({
      timeZone: tz,
      figures: async () => ({
        schools: [
          {
            uai: SCHOOLS[0],
            commune: 'Vienne',
            isp,
            months: months.map((m) => ({
              month: m.label,
              figures: { ...FIGURES, startMs: m.startMs, endMs: m.startMs + 3_600_000 },
            })),
          },
        ],
      }),
    });
    const stored = { influx: reportInflux({ url: influx.url, database: db }), policy: 'long' };
    await writeAvailabilityPoints(source('Orange'), sink.points, months, stored);
    await sink.drained();
    await writeAvailabilityPoints(source('SFR Business'), sink.points, months, stored);
    await sink.drained();
    const rows = await influx.rows(`SELECT "open_h", "isp", "month" FROM "long"."availability_month"`, db);
    expect(rows.map((r) => `${r['month']} ${r['isp']}`).sort()).toEqual(
      months.map((m) => `${m.label} SFR Business`),
    );
  } finally {
    await sink.stop();
  }
});

const FIGURES = {
  openMs: 3_600_000,
  upMs: 3_600_000,
  lostMs: 0,
  notMeasuredMs: 0,
  excludedOpenMs: 0,
  lostMsByCause: { wan_cut: 0, power_or_box: 0, unknown: 0 },
  calendarMs: 3_600_000,
  calendarUpMs: 3_600_000,
  calendarDownMs: 0,
  calendarNotMeasuredMs: 0,
  calendarExcludedMs: 0,
  calendarDownMsByCause: { wan_cut: 0, power_or_box: 0, unknown: 0 },
  availabilityPct: 100,
  coveragePct: 100,
  calendarUptimePct: 100,
  calendarCoveragePct: 100,
  outageCount: 0,
  outageCountCalendar: 0,
  longestOutageMs: 0,
  longestOutageLostMs: 0,
};
