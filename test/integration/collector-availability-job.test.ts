// Issue 15: the production collector (`vigie collector`, its composition root) writes the Continuity
// dashboard's monthly figures by itself at start: one `availability_month` point per school of the
// registry for the previous and the current calendar month (the school year so far on the first
// run), in the long policy, stamped at local midnight on the 1st.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { monthsToWrite } from '../../collector/availability-points.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'availability_job';
const SCHOOLS = ['0381234K', '0381517T'];
let influx: InfluxHandle;
let collector: CollectorProcess;
let dir: string;

beforeAll(async () => {
  influx = await startInfluxdb();
  dir = tempDir('availability-job');
  const schools = join(dir, 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${SCHOOLS[0]},École A,Vienne,45.5,4.8,Orange,100,20,school\n${SCHOOLS[1]},École B,Bron,45.7,4.9,Free Pro,50,10,school\n`,
  );
  // The embedded broker: nothing to publish here.
  collector = collectorProcess({ influxUrl: influx.url, database: DB, schools });
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
