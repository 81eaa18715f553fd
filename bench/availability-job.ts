// What one run of the collector's hourly availability job (collector/availability-points.ts) costs
// at N schools (default 1,000): the previous and the current local calendar month around the real
// now, as the collector leaves them — one `school_day` point per school and whole local day in the
// long policy (collector/day-rollup.ts), today's 5-minute `batch` and anchor `ping` points in the raw
// policy, a few outages and a speed test a day — in a fresh InfluxDB. Then, on the same data, side by
// side: the run as it was every hour (previous + current month) and the run as it is now every hour
// (the current month; the previous one only at the first run of the day or after late batches,
// monthsForRun). The kinds take turns `--runs` times (default 3); medians printed, with the CPU seconds
// of this process and of InfluxDB (steadier than wall time on a shared machine).
//
//   npm run bench:availability-job -- [--schools 1000] [--runs 3]
import { readFileSync } from 'node:fs';
import {
  monthsForRun,
  monthsToWrite,
  type StoredPoints,
  writeAvailabilityPoints,
} from '../collector/availability-points.ts';
import { resolveCollectorConfig } from '../collector/config.ts';
import {
  DAY_ROLLUP_FORMAT,
  daySlots,
  encodeMeasured,
  encodePings,
  type SlotPing,
} from '../collector/day-rollup-codec.ts';
import { InfluxHttp } from '../collector/influx-http.ts';
import type { Point } from '../collector/point.ts';
import { applyRetention } from '../collector/retention.ts';
import { reportService } from '../report/api.ts';
import { reportInflux } from '../report/influx.ts';
import { daysOf } from '../shared/availability/index.ts';
import { uaiCheckLetter } from '../shared/uai.ts';
import { startInfluxdb } from '../test/harness/influxdb.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const SCHOOLS = Number(arg('schools', '1000'));
const RUNS = Number(arg('runs', '3'));
const SLOT = 5 * 60_000;
const DAY = 86_400_000;
const DB = 'vigie';

/** A deterministic generator, so two runs measure the same data. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** User + system CPU seconds of a process so far (/proc/PID/stat, 100 ticks a second). */
function cpuSeconds(pid: number | undefined | 'self'): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;

const influx = await startInfluxdb();
try {
  const config = resolveCollectorConfig({ influx: { url: influx.url, database: DB } });
  const tz = config.alerts.timezone;
  const http = new InfluxHttp({ url: influx.url, database: DB, gzip: true, timeoutMs: 300_000 });
  await applyRetention(http, DB, config.retention);
  const write = async (lines: string[], rp?: string) => {
    for (let i = 0; i < lines.length; i += 10_000) {
      const body = await http.encode(Buffer.from(`${lines.slice(i, i + 10_000).join('\n')}\n`));
      for (let attempt = 1; ; attempt++) {
        const out = await http.write(body, rp);
        if (out.ok) break;
        if (attempt >= 5) throw new Error(`write failed: ${out.message}`);
      }
    }
  };

  const nowMs = Date.now();
  const previous = monthsToWrite(nowMs, tz, false)[0]!;
  const days = daysOf(previous.startMs, nowMs, tz);
  const today = days[days.length - 1]!;
  const started = Date.now();
  let points = 0;
  const schoolLines: string[] = [];
  for (let i = 0; i < SCHOOLS; i++) {
    const digits = String(690_000 + i).padStart(7, '0');
    const uai = `${digits}${uaiCheckLetter(digits)}`;
    const isp = ['Orange', 'Free', 'SFR', 'Bouygues'][i % 4]!;
    const tags = `uai=${uai},commune=Commune_${i % 60},isp=${isp}`;
    schoolLines.push(
      `school,${tags},label=${uai} name="École ${i}",lat=45,lon=4.8,contracted_down_bps=1e8,contracted_up_bps=1e7,hours="school" ${nowMs - 3_600_000}`,
    );
    const rand = rng(i + 1);
    // Five outages over the two months, 5 minutes to a day, never overlapping; written raw.
    const span = (nowMs - previous.startMs) / 5;
    const outages: [number, number][] = [];
    for (let k = 0; k < 5; k++) {
      const dur = Math.round((SLOT + rand() * DAY * rand()) / 60_000) * 60_000;
      const start =
        Math.round((previous.startMs + k * span + rand() * (span - dur - SLOT)) / 60_000) * 60_000;
      outages.push([start, start + dur]);
    }
    const raw: string[] = [];
    const long: string[] = [];
    const cause = ['wan_cut', 'power_or_box', 'unknown'];
    for (const [a, b] of outages)
      raw.push(
        `outage,${tags},cause=${cause[a % 3]} duration_s=${(b - a) / 1000},end_ms=${b}i,school_hours_s=0 ${a}`,
      );
    for (let d = previous.startMs + 10 * 3_600_000; d < nowMs; d += DAY)
      raw.push(
        `speedtest,${tags},agent=box,target=collector down_bps=${9e7 * (0.7 + 0.3 * rand())},up_bps=${8e6} ${d}`,
      );
    const baseRtt = 10 + 20 * rand();
    let o = 0;
    for (const day of days) {
      const slots = daySlots(day.startMs, day === today ? nowMs : day.endMs);
      const measured: number[] = [];
      const pings: SlotPing[] = [];
      for (let k = 0; k < slots.count; k++) {
        const t = slots.baseMs + k * SLOT;
        while (o < outages.length && outages[o]![1] <= t) o++;
        if (o < outages.length && outages[o]![0] <= t) continue;
        const latencyMs = baseRtt + 0.8 * rand();
        if (day === today)
          // Today has no day rollup yet: the job reads it slot by slot from the raw policy.
          raw.push(
            `batch,${tags},agent=box seq=${k}i,samples=40i,clock_offset_ms=0 ${t}`,
            `ping,${tags},agent=box,target=anchor,role=anchor median_ms=${latencyMs},loss_pct=0 ${t}`,
          );
        else {
          measured.push(k);
          pings.push({ slot: k, latencyMs, lossPct: 0 });
        }
      }
      if (day !== today)
        long.push(
          `school_day,uai=${uai} measured="${encodeMeasured(measured, slots.count)}",pings="${encodePings(pings, slots.count)}",slots=${slots.count}i,format=${DAY_ROLLUP_FORMAT}i ${day.startMs}`,
        );
    }
    points += raw.length + long.length;
    await write(raw, config.retention.raw.name);
    await write(long, config.retention.rollup.name);
    if (i % 100 === 99)
      process.stderr.write(`bench:availability-job: written ${i + 1}/${SCHOOLS} schools, ${points} points\n`);
  }
  await write(schoolLines, config.retention.raw.name);
  const writeSeconds = (Date.now() - started) / 1000;

  const source = reportService({ influx: config.influx, retention: config.retention, alerts: config.alerts });
  const stored: StoredPoints = { influx: reportInflux(config.influx), policy: config.retention.rollup.name };
  let written = 0;
  const sink = {
    write: (list: Point[]) => {
      written += list.length;
    },
  };
  const fullDay = daysOf(nowMs, nowMs + 1, tz)[0]!.label;
  const kinds = {
    // What every hourly run did before: both months.
    hourlyBefore: monthsToWrite(nowMs, tz, false),
    // What an hourly run does now, the previous month done earlier the same day and no late batch.
    hourlyNow: monthsForRun(nowMs, tz, false, { fullDay, lateFrom: Number.POSITIVE_INFINITY }),
  };
  // The kinds take turns, run after run, so both see the same load from whatever else runs here.
  const samples = Object.fromEntries(
    Object.keys(kinds).map((k) => [
      k,
      { seconds: [] as number[], cpu: [] as number[], influxCpu: [] as number[] },
    ]),
  );
  const pointsOf: Record<string, number> = {};
  for (let r = 0; r < RUNS; r++)
    for (const [kind, months] of Object.entries(kinds)) {
      written = 0;
      const [t0, c0, i0] = [performance.now(), cpuSeconds('self'), cpuSeconds(influx.daemon.pid)];
      await writeAvailabilityPoints(source, sink, months, stored);
      const s = samples[kind]!;
      s.seconds.push((performance.now() - t0) / 1000);
      s.cpu.push(cpuSeconds('self') - c0);
      s.influxCpu.push(cpuSeconds(influx.daemon.pid) - i0);
      pointsOf[kind] = written;
    }
  const figures = Object.fromEntries(
    Object.entries(kinds).map(([kind, months]) => {
      const s = samples[kind]!;
      return [
        kind,
        {
          months: months.map((m) => m.label),
          points: pointsOf[kind],
          seconds: round1(median(s.seconds)),
          cpuSeconds: round1(median(s.cpu)),
          influxCpuSeconds: round1(median(s.influxCpu)),
          allSeconds: s.seconds.map(round1),
        },
      ];
    }),
  );
  console.log(
    JSON.stringify({
      schools: SCHOOLS,
      now: new Date(nowMs).toISOString(),
      pointsWritten: points,
      writeSeconds: round1(writeSeconds),
      runs: RUNS,
      ...figures,
      load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    }),
  );
  await http.close();
} finally {
  await influx.daemon.dispose();
}
