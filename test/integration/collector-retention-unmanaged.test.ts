// `retention.manage: false`: the operator creates the database and the policies, the collector only
// writes. Its long-policy points (`policy: 'long'`: monthly availability, outages older than the raw
// policy keeps) went to the database's default policy, while the Continuity dashboard and the report
// read the long one (`retention.rollup.name`): the monthly figures were written where nobody reads
// them, and an old outage was refused by the raw policy. Now they go to the long policy in that mode
// too; while it does not exist they wait in the long lane's write-ahead log, the error names it, and
// nothing else is held up.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { int } from '../../collector/point.ts';
import { outagePoint } from '../../collector/presence/points.ts';
import type { CollectorHandle } from '../../collector/service.ts';
import { buildDashboards, DEFAULT_BUILD } from '../../dashboards/build.ts';
import { type CollectorProcess, collectorProcess, startTestCollector } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { dashboardQueries } from '../harness/grafana-queries.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const HOUR = 3_600_000;
const SCHOOL = '0381234K';
const TAGS = { commune: 'Saint-Priest', isp: 'Orange' };
const REGISTRY = `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${SCHOOL},École Saint-Exupéry,Saint-Priest,45.69,4.94,Orange,100,20,school\n`;

let influx: InfluxHandle;
let dir: string;
let schools: string;

/** What the operator runs instead of the collector: the database and the policies it names. */
async function operatorCreates(db: string, what: 'raw' | 'long', rawDuration = '90d') {
  if (what === 'raw') {
    await influx.query(`CREATE DATABASE "${db}"`);
    await influx.query(
      `CREATE RETENTION POLICY "raw" ON "${db}" DURATION ${rawDuration} REPLICATION 1 SHARD DURATION 1h DEFAULT`,
    );
  } else await influx.query(`CREATE RETENTION POLICY "long" ON "${db}" DURATION INF REPLICATION 1`);
}

const count = async (q: string, db: string) =>
  (await influx.rows(q, db).catch(() => [])).map((r) => r['count'] as number)[0] ?? 0;

beforeAll(async () => {
  influx = await startInfluxdb();
  dir = tempDir('retention-unmanaged');
  schools = join(dir, 'schools.csv');
  writeFileSync(schools, REGISTRY);
}, 60_000);

afterAll(async () => {
  await influx?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('retention.manage false, in process', () => {
  const DB = 'unmanaged_sink';
  let collector: CollectorHandle;

  afterAll(async () => {
    await collector?.stop();
  });

  it('long-policy points wait for the long policy, named in the error, then go there; raw points go on', {
    timeout: 90_000,
  }, async () => {
    await operatorCreates(DB, 'raw', '3h');
    collector = await startTestCollector({
      influxUrl: influx.url,
      database: DB,
      schools,
      extra: { retention: { manage: false, raw: { duration: '3h', shardDuration: '1h' } } },
    });
    const now = Date.now();
    const monthStart = now - 2 * HOUR;
    collector.points.write([
      {
        measurement: 'availability_month',
        tags: { uai: SCHOOL, ...TAGS, month: '2026-11' },
        fields: { open_h: 12.5, up_h: 12, lost_h: 0.5, end_ms: int(now + HOUR) },
        time: monthStart,
        policy: 'long',
      },
      // Older than the raw policy keeps (3 h): only the long policy can take it.
      outagePoint(
        { uai: SCHOOL, start: now - 5 * HOUR, end: now - 30 * 60_000, cause: 'wan_cut', schoolHoursS: 0 },
        TAGS,
      ),
      outagePoint(
        {
          uai: SCHOOL,
          start: now - 20 * 60_000,
          end: now - 10 * 60_000,
          cause: 'power_or_box',
          schoolHoursS: 0,
        },
        TAGS,
      ),
    ]);
    // The raw lane is not held up: the recent outage and the registry are in.
    await waitFor(
      'raw points in',
      async () => (await count('SELECT count("duration_s") FROM "raw"."outage"', DB)) === 1,
    );
    await waitFor('the missing long policy named', async () =>
      (collector.counters().lastWriteError ?? '').includes(
        'retention policy "long" (retention.rollup.name) not found',
      ),
    );
    // Nothing of the long points in the default policy, where nobody reads them.
    expect(await count('SELECT count("open_h") FROM "raw"."availability_month"', DB)).toBe(0);

    await operatorCreates(DB, 'long');
    await collector.drained();
    expect(collector.deadLetters()).toEqual([]);
    expect(await influx.rows('SELECT "open_h", "uai", "month" FROM "long"."availability_month"', DB)).toEqual(
      [{ time: monthStart, open_h: 12.5, uai: SCHOOL, month: '2026-11' }],
    );
    expect(await count('SELECT count("duration_s") FROM "long"."outage"', DB)).toBe(1);
    expect(collector.counters().longPolicyOutages).toBe(1);
  });
});

describe('retention.manage false, the collector process and its monthly job', () => {
  const DB = 'unmanaged_job';
  let collector: CollectorProcess;

  afterAll(async () => {
    await collector?.daemon.dispose();
  });

  it('writes the monthly availability points where the Continuity dashboard reads them', {
    timeout: 120_000,
  }, async () => {
    await operatorCreates(DB, 'raw');
    await operatorCreates(DB, 'long');
    collector = collectorProcess({
      influxUrl: influx.url,
      database: DB,
      schools,
      extra: { retention: { manage: false } },
    });
    await collector.daemon.start();
    // The Continuity dashboard reads the long policy's copy, by its default name.
    const continuity = dashboardQueries(
      buildDashboards({ lang: 'en', thresholds: DEFAULT_BUILD.thresholds }).continuity!,
    );
    expect(continuity.some((q) => q.query.includes('"long"."availability_month"'))).toBe(true);
    await waitFor(
      'the monthly points in the long policy',
      async () => (await count('SELECT count("open_h") FROM "long"."availability_month"', DB)) > 0,
      90_000,
    );
    expect(await count('SELECT count("open_h") FROM "raw"."availability_month"', DB)).toBe(0);
    // The operator's policies are left alone: no continuous query created.
    const cqs = await influx.query('SHOW CONTINUOUS QUERIES');
    expect(cqs.results[0]?.series?.find((s) => s.name === DB)?.values ?? []).toEqual([]);
  });
});

describe('retention.manage false, an account that may write but not list the policies', () => {
  const DB = 'unmanaged_writer';
  let locked: InfluxHandle;
  let collector: CollectorHandle;

  afterAll(async () => {
    await collector?.stop();
    await locked?.daemon.dispose();
  });

  it('is not held up by the policy check: raw and long points go in', { timeout: 90_000 }, async () => {
    locked = await startInfluxdb({ authEnabled: true });
    const admin = async (q: string) => {
      const res = await fetch(`${locked.url}/query?u=admin&p=admin-pw`, {
        method: 'POST',
        body: new URLSearchParams({ q }),
      });
      const json = (await res.json()) as { error?: string; results?: { error?: string }[] };
      const error = json.error ?? json.results?.find((r) => r.error)?.error;
      if (!res.ok || error) throw new Error(`${q}: ${error ?? res.status}`);
    };
    // The first user of a locked InfluxDB may be created without logging in.
    await admin("CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES");
    await admin(`CREATE DATABASE "${DB}"`);
    await admin(
      `CREATE RETENTION POLICY "raw" ON "${DB}" DURATION 90d REPLICATION 1 SHARD DURATION 1d DEFAULT`,
    );
    await admin(`CREATE RETENTION POLICY "long" ON "${DB}" DURATION INF REPLICATION 1`);
    await admin("CREATE USER writer WITH PASSWORD 'writer-pw'");
    await admin(`GRANT WRITE ON "${DB}" TO writer`);
    collector = await startTestCollector({
      influxUrl: locked.url,
      database: DB,
      schools,
      extra: { retention: { manage: false }, influx: { username: 'writer', password: 'writer-pw' } },
    });
    const now = Date.now();
    collector.points.write([
      {
        measurement: 'availability_month',
        tags: { uai: SCHOOL, ...TAGS, month: '2026-11' },
        fields: { open_h: 3, end_ms: int(now + HOUR) },
        time: now - HOUR,
        policy: 'long',
      },
    ]);
    await collector.drained();
    expect(collector.deadLetters()).toEqual([]);
    const count = async (q: string) => {
      const body = new URLSearchParams({ q, db: DB, epoch: 'ms' });
      const json = (await (
        await fetch(`${locked.url}/query?u=admin&p=admin-pw`, { method: 'POST', body })
      ).json()) as {
        results: { series?: { values: unknown[][] }[] }[];
      };
      return (json.results[0]?.series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
    };
    expect(await count('SELECT count("open_h") FROM "long"."availability_month"')).toBe(1);
    expect(await count('SELECT count("name") FROM "raw"."school"')).toBe(1);
  });
});
