// Day rollups end to end, with a real InfluxDB: batches and pings in the raw policy → the collector's
// day-rollup job (collector/day-rollup.ts) writes `school_day` points in the long policy → the report
// built from them gives exactly the figures of the slot-by-slot path. And once the days have left the
// raw policy (a report asked 120 days later, when only the long policy holds them and no 5-minute
// `batch` slot was rolled up there), the report still finds them measured: on the code before day
// rollups it saw nothing measured at all.
//
// Times are relative to the real clock (the raw policy refuses points older than its 90 days): the
// seven local days ending four days ago, Paris time; every expectation compares two computations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarFrom } from '../../collector/alerts/schedule.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { startDayRollups } from '../../collector/day-rollup.ts';
import { daySlots, SLOT_MS } from '../../collector/day-rollup-codec.ts';
import { InfluxHttp } from '../../collector/influx-http.ts';
import { applyRetention, rollupStatement, rollups } from '../../collector/retention.ts';
import { reportJson, reportService } from '../../report/api.ts';
import { computeReportFromInflux } from '../../report/compute.ts';
import { sumWifi } from '../../report/figures.ts';
import { reportInflux } from '../../report/influx.ts';
import { inIntervals } from '../../report/quality.ts';
import { unreadableText } from '../../report/run.ts';
import { daysOf, type Period, schoolOpenTime } from '../../shared/availability/index.ts';
import { createLogger } from '../../shared/log.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'day_rollup';
const TZ = 'Europe/Paris';
const SCHOOLS = ['0690001B', '0690002C'];
let influx: InfluxHandle;
let http: InfluxHttp;
const nowMs = Date.now();
const config = resolveCollectorConfig({
  influx: { database: DB },
  alerts: { timezone: TZ },
});
let days: Period[];
let period: Period;
/** School 0's Wi-Fi polls as generated: (time, AP, up) of each access-point poll, `box:` left out. */
const polls: { t: number; ap: string; up: boolean }[] = [];

/** A deterministic generator: the same data at each run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

beforeAll(async () => {
  influx = await startInfluxdb();
  const cfg = { ...config, influx: { ...config.influx, url: influx.url } };
  http = new InfluxHttp({ url: influx.url, database: DB, gzip: false, timeoutMs: 60_000 });
  await applyRetention(http, DB, cfg.retention);
  const all = daysOf(nowMs - 12 * 86_400_000, nowMs, TZ);
  days = all.slice(1, -4).slice(-7);
  period = { label: 'week', startMs: days[0]!.startMs, endMs: days[days.length - 1]!.endMs };
  const rand = rng(3);
  const lines: string[] = [];
  for (const [n, uai] of SCHOOLS.entries()) {
    const tags = `uai=${uai},commune=Lyon,isp=Orange`;
    lines.push(
      `school,${tags},label=${uai} name="École ${n}",contracted_down_bps=1e8,contracted_up_bps=2e7,hours="school" ${nowMs - 3_600_000}`,
    );
    // Batches every minute, with silences; one anchor ping per slot on the 0.1 ms grid, a gateway one
    // that must not count; an outage on the third day; a speed test a day.
    for (let t = period.startMs; t < period.endMs; t += 60_000) {
      if (rand() < 0.001) t += Math.floor(rand() * 300) * 60_000;
      if (t >= period.endMs) break;
      lines.push(`batch,${tags},agent=box seq=${t / 60_000}i,samples=3i ${t}`);
      if (t % SLOT_MS === 0 && rand() < 0.95) {
        const rtt = Math.round(80 + 700 * rand() ** 4) / 10;
        const loss = rand() < 0.1 ? [0.5, 0.51, 1, 10][Math.floor(rand() * 4)] : 0;
        lines.push(
          `ping,${tags},agent=box,target=anchor1,role=anchor median_ms=${rtt},loss_pct=${loss} ${t + 1000}`,
          `ping,${tags},agent=box,target=gw,role=gateway median_ms=900,loss_pct=50 ${t + 2000}`,
        );
      }
    }
    // Wi-Fi, school 0 only: ap1 and ap3 polled each minute, ap2 every 5 minutes; ap3 off 10:02–12:03
    // on the first open day (slots partly down); the box's own radio (`box:wlan0`, never associated)
    // is not an access point and must not count.
    const open = schoolOpenTime(calendarFrom(config.alerts), 'school', period.startMs, period.endMs);
    const openDay = days.find((d) => inIntervals(open, d.startMs + 10.5 * 3_600_000))!;
    const apDown = [openDay.startMs + 10 * 3_600_000 + 120_000, openDay.startMs + 12 * 3_600_000 + 180_000];
    for (let t = period.startMs; n === 0 && t < period.endMs; t += 60_000) {
      for (const ap of ['ap1', 'ap2', 'ap3']) {
        if (ap === 'ap2' && (t / 60_000) % 5 !== 0) continue;
        const up = !(ap === 'ap3' && t >= apDown[0]! && t < apDown[1]!);
        polls.push({ t: t + 3000, ap, up });
        lines.push(`wifi,${tags},agent=box,ap=${ap} up=${up},reachable=${up} ${t + 3000}`);
      }
      lines.push(`wifi,${tags},agent=box,ap=box:wlan0 up=false,reachable=false ${t + 3000}`);
    }
    const d3 = days[2]!.startMs;
    lines.push(
      `outage,uai=${uai},commune=Lyon,isp=Orange,cause=wan_cut duration_s=${3 * 3600 + n * 600},end_ms=${d3 + 13 * 3_600_000 + n * 600_000}i,school_hours_s=0 ${d3 + 10 * 3_600_000}`,
    );
    for (const d of days)
      lines.push(
        `speedtest,${tags},agent=box,target=collector ok=true,down_bps=${6e7 + 1e7 * n},up_bps=1.5e7 ${d.startMs + 11 * 3_600_000}`,
      );
  }
  for (let i = 0; i < lines.length; i += 5000)
    await influx.write(lines.slice(i, i + 5000).join('\n'), DB, 'ms');
}, 120_000);

afterAll(async () => {
  await http?.close();
  await influx?.daemon.dispose();
});

/** The week's report from the day rollups (a school a chunk) and slot by slot, as the job left InfluxDB. */
async function bothPaths() {
  const source = {
    influx: reportInflux({ url: influx.url, database: DB }),
    retention: config.retention,
    timeZone: TZ,
    startMs: period.startMs,
    endMs: period.endMs,
    nowMs,
  };
  const input = { period, calendar: calendarFrom(config.alerts), asOfMs: period.endMs, nowMs };
  return {
    rolled: await computeReportFromInflux(source, input, 1),
    slotLevel: await computeReportFromInflux({ ...source, useDayRollups: false }, input),
  };
}

describe('day rollups (collector job → school_day → report)', () => {
  it('the job writes one point per school and day; the report from them equals the slot-level one', async () => {
    const job = startDayRollups({
      http,
      database: DB,
      retention: config.retention,
      timeZone: TZ,
      log: createLogger('day-rollup-test', process.env['VIGIE_LOG_LEVEL'] ?? 'silent'),
      now: () => nowMs,
    });
    await job.ready;
    await job.stop();
    expect(job.counters().failures).toBe(0);
    const rows = await influx.rows(
      `SELECT "slots", "uai" FROM "${config.retention.rollup.name}"."school_day" WHERE time >= ${period.startMs}ms AND time < ${period.endMs}ms`,
      DB,
    );
    expect(rows).toHaveLength(SCHOOLS.length * days.length);
    expect(rows.map((r) => r['time']).sort()).toEqual(
      days.flatMap((d) => SCHOOLS.map(() => d.startMs)).sort(),
    );
    // Idempotent: a second run rewrites the same points.
    const again = startDayRollups({
      http,
      database: DB,
      retention: config.retention,
      timeZone: TZ,
      log: createLogger('day-rollup-test', 'silent'),
      now: () => nowMs,
    });
    const run = await again.runOnce(false);
    await again.stop();
    expect(run.points).toBe(SCHOOLS.length * 3);
    expect(
      await influx.rows(`SELECT count("slots") FROM "${config.retention.rollup.name}"."school_day"`, DB),
    ).toEqual([expect.objectContaining({ count: job.counters().points })]);

    const calendar = calendarFrom(config.alerts);
    const source = {
      influx: reportInflux({ url: influx.url, database: DB }),
      retention: config.retention,
      timeZone: TZ,
      startMs: period.startMs,
      endMs: period.endMs,
      nowMs,
    };
    const input = { period, calendar, asOfMs: period.endMs, nowMs };
    const rolled = await computeReportFromInflux(source, input, 1);
    const slots = await computeReportFromInflux({ ...source, useDayRollups: false }, input);
    expect(rolled.stats).toEqual({
      rollupDays: SCHOOLS.length * days.length,
      slotDays: 0,
      unreadable: { count: 0, first: [] },
    });
    expect(slots.stats).toMatchObject({ rollupDays: 0, slotDays: SCHOOLS.length * days.length });
    const b = slots.report.schools[0]!;
    expect(b.total.openMs).toBeGreaterThan(0);
    expect(b.total.notMeasuredMs).toBeGreaterThan(0);
    expect(b.total.lostMs + b.total.calendarDownMs).toBeGreaterThan(0);
    expect(b.months[0]!.quality.pingSlots).toBeGreaterThan(100);
    expect(b.months[0]!.quality.videoFitPct).toBeLessThan(100);
    expect(rolled.report).toEqual(slots.report);

    // Wi-Fi access points' availability against the polls as generated, counted one by one: each AP
    // polled in a slot starting in open time is one AP-slot, up for the share of its polls found up.
    const open = schoolOpenTime(calendar, 'school', period.startMs, period.endMs);
    const perApSlot = new Map<string, { n: number; up: number }>();
    for (const p of polls) {
      const slot = Math.floor(p.t / SLOT_MS) * SLOT_MS;
      if (!inIntervals(open, slot)) continue;
      const e = perApSlot.get(`${slot}/${p.ap}`) ?? { n: 0, up: 0 };
      e.n++;
      if (p.up) e.up++;
      perApSlot.set(`${slot}/${p.ap}`, e);
    }
    const upMilli = [...perApSlot.values()].reduce((a, e) => a + Math.round((1000 * e.up) / e.n), 0);
    const expected = {
      apSlots: perApSlot.size,
      upApSlots: upMilli / 1000,
      apAvailabilityPct: upMilli / (10 * perApSlot.size),
    };
    expect(expected.apSlots).toBeGreaterThan(1000);
    expect(expected.apAvailabilityPct).toBeLessThan(100);
    expect(rolled.report.schools[0]!.wifi).toEqual(expected);
    expect(sumWifi(rolled.report.schools[0]!.months.map((m) => m.quality.wifi))).toEqual(expected);
    // A school without polled access points: not measured, not 100 %.
    expect(rolled.report.schools[1]!.wifi).toEqual({ apSlots: 0, upApSlots: 0, apAvailabilityPct: null });
    expect(rolled.report.fleet.wifi).toEqual(expected);
  }, 240_000);

  it('120 days later, with the days only in the long policy, the API still reads them measured', async () => {
    // What the long policy holds for those days then: the outage and speed-test rollups (the
    // collector's continuous queries, run here as their backfill statements) and the day rollups;
    // no 5-minute batch or ping slots, which the report no longer needs.
    for (const r of rollups().filter((r) => ['outage', 'speedtest', 'wifi'].includes(r.measurement)))
      await http.query(
        rollupStatement(DB, config.retention, r, `time >= ${period.startMs}ms AND time < ${period.endMs}ms`),
      );
    const later = nowMs + 120 * 86_400_000;
    const service = reportService({
      influx: { url: influx.url, database: DB },
      retention: config.retention,
      alerts: config.alerts,
      now: () => later,
    });
    const fromLong = await service.figures({ period });
    const calendar = calendarFrom(config.alerts);
    const slots = await computeReportFromInflux(
      {
        influx: reportInflux({ url: influx.url, database: DB }),
        retention: config.retention,
        timeZone: TZ,
        startMs: period.startMs,
        endMs: period.endMs,
        nowMs,
        useDayRollups: false,
      },
      { period, calendar, asOfMs: period.endMs, nowMs: later },
    );
    const expected = reportJson(slots.report);
    expect(fromLong.schools).toEqual(expected.schools);
    expect(fromLong.fleet).toEqual(expected.fleet);
    // Without day rollups, the long policy's Wi-Fi counts (its continuous query's up_n and up_true per
    // access point and slot) give the same Wi-Fi figures as the raw polls.
    const longOnly = await computeReportFromInflux(
      {
        influx: reportInflux({ url: influx.url, database: DB }),
        retention: config.retention,
        timeZone: TZ,
        startMs: period.startMs,
        endMs: period.endMs,
        nowMs: later,
        useDayRollups: false,
      },
      { period, calendar, asOfMs: period.endMs, nowMs: later },
    );
    expect(longOnly.report.sources.map((s) => s.policy)).toEqual([config.retention.rollup.name]);
    expect(longOnly.report.schools[0]!.wifi).toEqual(slots.report.schools[0]!.wifi);
    expect(longOnly.report.schools[0]!.wifi.apSlots).toBeGreaterThan(1000);
  }, 240_000);

  it('judges quality by the thresholds of collector.report (config), and says which', async () => {
    const strict = resolveCollectorConfig({
      influx: { database: DB },
      alerts: { timezone: TZ },
      report: { targetPct: 95, quality: { videoLatencyMs: 1 } },
    });
    expect(strict.report.quality).toEqual({ videoLatencyMs: 1, videoLossPct: 0.5, contractSharePct: 80 });
    const figures = (report?: typeof strict.report) =>
      reportService({
        influx: { url: influx.url, database: DB },
        retention: config.retention,
        alerts: config.alerts,
        ...(report ? { report } : {}),
      }).figures({ period });
    const [byDefault, byConfig] = await Promise.all([figures(), figures(strict.report)]);
    expect(byDefault.quality.videoLatencyMs).toBe(50);
    expect(byConfig.quality.videoLatencyMs).toBe(1);
    expect(byConfig.targetPct).toBe(95);
    // Quality is per school and month (SchoolMonth.quality).
    const schoolFit = (r: typeof byDefault) =>
      (r.schools as { months: { quality: { videoFitPct: number | null } }[] }[]).flatMap((s) =>
        s.months.map((m) => m.quality.videoFitPct),
      );
    expect(schoolFit(byDefault).some((v) => v !== null && v > 0)).toBe(true);
    // No anchor answers within 1 ms: no slot fits a video class.
    expect(schoolFit(byConfig).every((v) => v === null || v === 0)).toBe(true);
  }, 240_000);

  it('a day rolled up before Wi-Fi (format 1) gives its measured time and pings; its Wi-Fi is read slot by slot', async () => {
    const open = schoolOpenTime(calendarFrom(config.alerts), 'school', period.startMs, period.endMs);
    const openDay = days.find((d) => inIntervals(open, d.startMs + 10.5 * 3_600_000))!;
    const [p] = await influx.rows(
      `SELECT * FROM "${config.retention.rollup.name}"."school_day" WHERE "uai" = '${SCHOOLS[0]}' AND time = ${openDay.startMs}ms`,
      DB,
    );
    expect(typeof p!['wifi']).toBe('string');
    // The point as the previous collector wrote it: no wifi field, format 1 (a new series of fields:
    // the old point is dropped first).
    await influx.query(
      `DELETE FROM "school_day" WHERE "uai" = '${SCHOOLS[0]}' AND time >= ${openDay.startMs}ms AND time <= ${openDay.startMs}ms`,
      DB,
    );
    const line = `school_day,uai=${SCHOOLS[0]} measured="${p!['measured']}",pings="${p!['pings']}",slots=${p!['slots']}i,format=1i ${openDay.startMs}\n`;
    expect((await http.write(await http.encode(Buffer.from(line)), config.retention.rollup.name)).ok).toBe(
      true,
    );
    const { rolled, slotLevel } = await bothPaths();
    expect(rolled.stats.rollupDays).toBe(SCHOOLS.length * days.length);
    expect(rolled.report.schools[0]!.wifi.apSlots).toBeGreaterThan(1000);
    expect(rolled.report.schools).toEqual(slotLevel.report.schools);
  }, 240_000);

  it('a school_day point that does not decode is read slot by slot, counted and named; nothing else changes', async () => {
    // School 1's rollup of an open day gets a truncated wifi field (a day outside open time is not
    // even decoded: quality reads no slot of it), school 0's of day 4 a short bitmap.
    const open = schoolOpenTime(calendarFrom(config.alerts), 'school', period.startMs, period.endMs);
    const openDay = days.find((d) => inIntervals(open, d.startMs + 10.5 * 3_600_000))!;
    const point = async (uai: string, day: Period) =>
      (
        await influx.rows(
          `SELECT * FROM "${config.retention.rollup.name}"."school_day" WHERE "uai" = '${uai}' AND time = ${day.startMs}ms`,
          DB,
        )
      )[0]!;
    const slots = daySlots(openDay.startMs, openDay.endMs);
    const truncated = Buffer.concat([Buffer.alloc((slots.count + 7) >> 3, 0xff), Buffer.from([0x7f, 1])]);
    const rewrite = async (uai: string, day: Period, field: 'wifi' | 'measured', value: string) => {
      const p = await point(uai, day);
      const fields = { measured: p['measured'], pings: p['pings'], wifi: p['wifi'] ?? '', [field]: value };
      const line = `school_day,uai=${uai} measured="${fields.measured}",pings="${fields.pings}",wifi="${fields.wifi}",slots=${p['slots']}i,format=${p['format']}i ${day.startMs}\n`;
      expect((await http.write(await http.encode(Buffer.from(line)), config.retention.rollup.name)).ok).toBe(
        true,
      );
    };
    await rewrite(SCHOOLS[1]!, openDay, 'wifi', truncated.toString('base64'));
    await rewrite(SCHOOLS[0]!, days[3]!, 'measured', Buffer.alloc(3).toString('base64'));
    const { rolled, slotLevel } = await bothPaths();
    expect(rolled.stats.rollupDays).toBe(SCHOOLS.length * days.length - 2);
    expect(rolled.stats.slotDays).toBe(2);
    expect(rolled.report.schools).toEqual(slotLevel.report.schools);
    expect(rolled.report.fleet).toEqual(slotLevel.report.fleet);
    expect(rolled.report.unreadableDayRollups).toEqual({
      count: 2,
      first: expect.arrayContaining([
        { uai: SCHOOLS[1], day: openDay.startMs, problem: 'wifi: truncated' },
        {
          uai: SCHOOLS[0],
          day: days[3]!.startMs,
          problem: expect.stringMatching(/^measured: 3 bytes for \d+ slots$/),
        },
      ]),
    });
    const said = unreadableText(rolled.report);
    expect(said).toContain(
      `${SCHOOLS[1]} ${new Date(openDay.startMs + 12 * 3_600_000).toISOString().slice(0, 10)} (wifi: truncated)`,
    );
    expect(said).toContain('relus tranche par tranche');
    expect(reportJson(rolled.report).unreadableDayRollups.count).toBe(2);
  }, 240_000);

  it('refuses a threshold out of range, naming the key', () => {
    expect(() =>
      resolveCollectorConfig({ influx: { database: DB }, report: { quality: { videoLossPct: 150 } } }),
    ).toThrow(/report\/quality\/videoLossPct|report\.quality\.videoLossPct/);
  });
});
