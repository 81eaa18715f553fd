// Day rollups and data that arrives late: a box's spool flushed after days offline (or a collector
// back after days down) brings batches for days the job already rolled up; those days are rolled up
// again once the late batches stop coming. Today, still going on, is never rolled up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { startDayRollups } from '../../collector/day-rollup.ts';
import { InfluxHttp } from '../../collector/influx-http.ts';
import { applyRetention } from '../../collector/retention.ts';
import { daysOf } from '../../shared/availability/index.ts';
import { createLogger } from '../../shared/log.ts';
import { waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const DB = 'day_rollup_late';
const TZ = 'Europe/Paris';
const ON_TIME = '0690001B';
const FLUSHED = '0690002C';
let influx: InfluxHandle;
let http: InfluxHttp;
const nowMs = Date.now();
const config = resolveCollectorConfig({ influx: { database: DB }, alerts: { timezone: TZ } });
const all = daysOf(nowMs - 10 * 86_400_000, nowMs, TZ);
/** A whole day a week ago: outside the nightly redo window (3 days). */
const old = all[3]!;
const today = all[all.length - 1]!;

const batches = (uai: string, from: number, to: number) => {
  const lines: string[] = [];
  for (let t = from; t < to; t += 60_000)
    lines.push(`batch,uai=${uai},commune=Lyon,isp=Orange,agent=box seq=${t / 60_000}i,samples=3i ${t}`);
  return lines;
};

beforeAll(async () => {
  influx = await startInfluxdb();
  http = new InfluxHttp({ url: influx.url, database: DB, gzip: false, timeoutMs: 60_000 });
  await applyRetention(http, DB, config.retention);
  const lines = [ON_TIME, FLUSHED].map(
    (uai) =>
      `school,uai=${uai},commune=Lyon,isp=Orange,label=${uai} name="École",contracted_down_bps=1e8,contracted_up_bps=2e7,hours="school" ${nowMs - 3_600_000}`,
  );
  // The on-time school: every day, today's morning included. The other one: nothing yet.
  lines.push(...batches(ON_TIME, all[1]!.startMs, nowMs));
  for (let i = 0; i < lines.length; i += 5000)
    await influx.write(lines.slice(i, i + 5000).join('\n'), DB, 'ms');
}, 120_000);

afterAll(async () => {
  await http?.close();
  await influx?.daemon.dispose();
});

/** The 5-minute slots of the day the school's point says were measured (bits set), undefined: no point. */
const slotsOn = async (uai: string, dayStartMs: number): Promise<number | undefined> => {
  const [row] = await influx.rows(
    `SELECT "measured" FROM "${config.retention.rollup.name}"."school_day" WHERE "uai" = '${uai}' AND time = ${dayStartMs}ms`,
    DB,
  );
  if (!row) return undefined;
  let bits = 0;
  for (const byte of Buffer.from(String(row['measured'] ?? ''), 'base64'))
    for (let b = byte; b; b >>= 1) bits += b & 1;
  return bits;
};

describe('day rollups and late data', () => {
  it('rolls up no part of today, and redoes an old day once its late batches have come', async () => {
    const job = startDayRollups({
      http,
      database: DB,
      retention: config.retention,
      timeZone: TZ,
      log: createLogger('day-rollup-late', process.env['VIGIE_LOG_LEVEL'] ?? 'silent'),
      now: () => nowMs,
      lateQuietMs: 200,
    });
    try {
      await job.ready;
      expect(await slotsOn(ON_TIME, old.startMs)).toBe(288);
      // Today is going on: a point for it would say "measured so far" for ever after a long stop.
      expect(await slotsOn(ON_TIME, today.startMs)).toBeUndefined();
      expect(await slotsOn(FLUSHED, old.startMs)).toBe(0);

      // The second box's spool, flushed a week late: InfluxDB has it, the collector saw it go by.
      const late = batches(FLUSHED, old.startMs, old.endMs);
      await influx.write(late.join('\n'), DB, 'ms');
      job.late(old.startMs + 3_600_000);
      job.late(old.startMs + 7_200_000);
      await waitFor(
        'the late day rolled up again',
        async () => (await slotsOn(FLUSHED, old.startMs)) === 288,
        60_000,
        100,
      );
      expect(job.lateDays()).toEqual([]);
      expect(await slotsOn(ON_TIME, old.startMs)).toBe(288);
      expect(job.counters().failures).toBe(0);
    } finally {
      await job.stop();
    }
  }, 240_000);

  it('waits while the write-ahead log still refills InfluxDB', async () => {
    let backlog = true;
    const job = startDayRollups({
      http,
      database: DB,
      retention: config.retention,
      timeZone: TZ,
      log: createLogger('day-rollup-late', 'silent'),
      now: () => nowMs,
      lateQuietMs: 50,
      retryMs: 100,
      backlog: () => backlog,
    });
    try {
      await job.ready;
      expect(job.counters().runs).toBe(0);
      job.late(all[2]!.startMs + 3_600_000);
      backlog = false;
      await waitFor(
        'the late day redone once the log is empty',
        async () => job.counters().runs >= 1,
        60_000,
        50,
      );
    } finally {
      await job.stop();
    }
  }, 120_000);
});
