// The report's registry is each school's latest `school` point, whole: a school whose ISP or commune
// changed (new tags, a new series) is reported under the new ones, and a column left empty in the
// newest point is not filled from an older one. InfluxQL's last() with several selectors answers
// with time 0, so picking "the newest series" from it picked the first series instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { InfluxHttp } from '../../collector/influx-http.ts';
import { applyRetention } from '../../collector/retention.ts';
import { reportInflux } from '../../report/influx.ts';
import { readSchools } from '../../report/source.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'registry_latest';
let influx: InfluxHandle;
let http: InfluxHttp;
const nowMs = Date.now();
const config = resolveCollectorConfig({ influx: { database: DB }, alerts: { timezone: 'Europe/Paris' } });

beforeAll(async () => {
  influx = await startInfluxdb();
  http = new InfluxHttp({ url: influx.url, database: DB, gzip: false, timeoutMs: 60_000 });
  await applyRetention(http, DB, config.retention);
  const day = 86_400_000;
  const lines = [
    // 0690001B moved from Free to Orange yesterday (Free sorts first: the old code kept it).
    `school,uai=0690001B,commune=Vienne,isp=Free,label=0690001B name="École A",contracted_down_bps=5e7,contracted_up_bps=1e7,hours="school" ${(nowMs - 3 * day) * 1e6}`,
    `school,uai=0690001B,commune=Vienne,isp=Orange,label=0690001B name="École A",contracted_down_bps=1e8,hours="school-wednesday" ${(nowMs - day) * 1e6}`,
    // 0690002C: one series, renamed.
    `school,uai=0690002C,commune=Lyon,isp=SFR,label=0690002C name="Ancien nom",contracted_down_bps=2e7,contracted_up_bps=2e6,hours="school" ${(nowMs - 2 * day) * 1e6}`,
    `school,uai=0690002C,commune=Lyon,isp=SFR,label=0690002C name="Nouveau nom",contracted_down_bps=3e7,contracted_up_bps=3e6,hours="school" ${(nowMs - day) * 1e6}`,
  ];
  const res = await fetch(`${influx.url}/write?db=${DB}`, { method: 'POST', body: `${lines.join('\n')}\n` });
  expect(res.status).toBe(204);
}, 120_000);

afterAll(async () => {
  await http?.close();
  await influx?.daemon.dispose();
});

describe('the report reads the registry', () => {
  it("takes each school's newest point whole, under its newest tags", async () => {
    const schools = await readSchools({
      influx: reportInflux({ url: influx.url, database: DB }),
      retention: config.retention,
      timeZone: 'Europe/Paris',
      startMs: nowMs - 30 * 86_400_000,
      endMs: nowMs,
      nowMs,
    });
    expect(schools).toEqual([
      {
        uai: '0690001B',
        name: 'École A',
        commune: 'Vienne',
        isp: 'Orange',
        contractedDownMbps: 100,
        contractedUpMbps: null,
        hours: 'school-wednesday',
      },
      {
        uai: '0690002C',
        name: 'Nouveau nom',
        commune: 'Lyon',
        isp: 'SFR',
        contractedDownMbps: 30,
        contractedUpMbps: 3,
        hours: 'school',
      },
    ]);
  });
});
