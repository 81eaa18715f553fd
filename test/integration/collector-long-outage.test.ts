// Issue 15, storage: an outage is stamped with its start and written when it ends, so one longer than
// the raw policy keeps (here 3 h instead of 90 days) was refused by InfluxDB ("points beyond retention
// policy") and lost. The real collector, on a real InfluxDB with a 3 h raw policy, writes it straight
// to the long policy in the rollup's shape, and the report reads it; a recent outage still goes raw.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { outagePoint } from '../../collector/presence/points.ts';
import type { CollectorHandle } from '../../collector/service.ts';
import { reportService } from '../../report/api.ts';
import { collectorSection, startTestCollector } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'longoutage';
const HOUR = 3_600_000;
const FIVE_MIN = 300_000;
const SCHOOL = '0381234K';
const TAGS = { commune: 'Saint-Priest', isp: 'Orange' };
const RETENTION = { raw: { duration: '3h', shardDuration: '1h' } };

let influx: InfluxHandle;
let collector: CollectorHandle;
let schools: string;

beforeAll(async () => {
  influx = await startInfluxdb();
  schools = join(tempDir('long-outage'), 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${SCHOOL},École Saint-Exupéry,Saint-Priest,45.69,4.94,Orange,100,20,school\n`,
  );
  collector = await startTestCollector({
    influxUrl: influx.url,
    database: DB,
    schools,
    extra: { retention: RETENTION },
  });
  // The registry's `school` point is written at start: the report lists the schools it names.
  await waitFor(
    'the registry is written',
    async () => (await influx.rows('SELECT * FROM "school"', DB)).length === 1,
  );
}, 60_000);

afterAll(async () => {
  await collector?.stop();
  await influx?.daemon.dispose();
});

describe('an outage longer than the raw policy keeps', () => {
  it('reaches the long policy in the rollup shape, the report reads it, a recent one stays raw', async () => {
    const now = Date.now();
    const long = {
      uai: SCHOOL,
      start: now - 5 * HOUR - 7 * 60_000,
      end: now - 30 * 60_000,
      cause: 'wan_cut' as const,
    };
    const recent = {
      uai: SCHOOL,
      start: now - 20 * 60_000,
      end: now - 10 * 60_000,
      cause: 'power_or_box' as const,
    };
    collector.points.write([
      outagePoint({ ...long, schoolHoursS: 0 }, TAGS),
      outagePoint({ ...recent, schoolHoursS: 0 }, TAGS),
    ]);
    await collector.drained();

    // Nothing refused, the long one counted.
    expect(collector.deadLetters()).toEqual([]);
    expect(collector.counters().longPolicyOutages).toBe(1);

    const inLong = await influx.rows('SELECT * FROM "long"."outage"', DB);
    expect(inLong).toEqual([
      expect.objectContaining({
        time: Math.floor(long.start / FIVE_MIN) * FIVE_MIN,
        uai: SCHOOL,
        cause: 'wan_cut',
        commune: TAGS.commune,
        isp: TAGS.isp,
        duration_s: (long.end - long.start) / 1000,
        end_ms: long.end,
      }),
    ]);
    const inRaw = await influx.rows('SELECT * FROM "raw"."outage"', DB);
    expect(inRaw.map((r) => r['end_ms'])).toEqual([recent.end]);

    // The report's outage query finds both, at their exact start and end.
    const config = resolveCollectorConfig(
      collectorSection({ influxUrl: influx.url, database: DB, extra: { retention: RETENTION } }),
    );
    const report = reportService({
      influx: config.influx,
      retention: config.retention,
      alerts: config.alerts,
    });
    const figures = await report.figures({
      period: { label: 'test', startMs: now - 6 * HOUR, endMs: now },
    });
    const school = (
      figures.schools as { uai: string; outages: { startMs: number; endMs: number; cause: string }[] }[]
    ).find((s) => s.uai === SCHOOL);
    expect(school?.outages.map(({ startMs, endMs, cause }) => ({ startMs, endMs, cause }))).toEqual([
      { startMs: long.start, endMs: long.end, cause: 'wan_cut' },
      { startMs: recent.start, endMs: recent.end, cause: 'power_or_box' },
    ]);
  }, 60_000);
});
