// What `vigie report` costs for a school year: N schools (default 1,000), 30 outages each and a
// speed test a day, and what the collector leaves in the long policy after a year: one `school_day`
// point per school and local day (collector/day-rollup.ts: measured 5-minute slots wherever the
// school was not out, anchor pings in each), written into a fresh InfluxDB; then `vigie report
// --school-year 2025-2026` (the CLI as a child process) is timed and its peak RSS read from /proc.
// Goal (issue 15): ≤ 30 s and ≤ 500 MB on a 2-core machine.
//
// --no-wifi leaves the day rollups' Wi-Fi out (run with and without: what it costs).
// --slots also writes the long policy's 5-minute `batch` and `ping` points (what the report read
// before day rollups), and --vigie PATH runs another bin/vigie.js on the same data (e.g. main's, for
// a side-by-side with the slot-level code).
//
//   npm run bench:report -- [--schools 1000] [--pdf] [--slots] [--vigie /path/to/bin/vigie.js]
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { resolveCollectorConfig } from '../collector/config.ts';
import {
  DAY_ROLLUP_FORMAT,
  daySlots,
  encodeMeasured,
  encodePings,
  encodeWifi,
  type SlotPing,
  type SlotWifi,
} from '../collector/day-rollup-codec.ts';
import { InfluxHttp } from '../collector/influx-http.ts';
import { applyRetention } from '../collector/retention.ts';
import { daysOf, schoolYearPeriod } from '../shared/availability/index.ts';
import { uaiCheckLetter } from '../shared/uai.ts';
import { tempDir } from '../test/harness/daemon.ts';
import { startInfluxdb } from '../test/harness/influxdb.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const SCHOOLS = Number(arg('schools', '1000'));
const PDF = process.argv.includes('--pdf');
const SLOTS = process.argv.includes('--slots');
/** --no-wifi: day rollups without their `wifi` field (what Wi-Fi access points cost the report). */
const WIFI = !process.argv.includes('--no-wifi');
const ROOT_DIR = resolve(import.meta.dirname, '..');
const VIGIE = resolve(arg('vigie', join(ROOT_DIR, 'bin/vigie.js')));
const OUTAGES = 30;
const SLOT = 5 * 60_000;
const DB = 'vigie';
const YEAR = schoolYearPeriod(2025, 'Europe/Paris');
const DAYS = daysOf(YEAR.startMs, YEAR.endMs, 'Europe/Paris');

/** A deterministic generator, so two runs measure the same data. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** User + system CPU seconds a process has used so far (/proc/PID/stat, 100 ticks a second); 0 if gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const influx = await startInfluxdb();
try {
  const dir = tempDir('bench-report');
  const section = { influx: { url: influx.url, database: DB } };
  const config = resolveCollectorConfig(section);
  const http = new InfluxHttp({ url: influx.url, database: DB, gzip: true, timeoutMs: 300_000 });
  await applyRetention(http, DB, config.retention);
  const long = config.retention.rollup.name;
  // 10,000 lines a request, retried: InfluxDB's own write timeout is 10 s, on a loaded machine.
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

  const started = Date.now();
  let points = 0;
  const schoolLines: string[] = [];
  for (let i = 0; i < SCHOOLS; i++) {
    const digits = String(690_000 + i).padStart(7, '0');
    const uai = `${digits}${uaiCheckLetter(digits)}`;
    const commune = `Commune_${i % 60}`;
    const isp = ['Orange', 'Free', 'SFR', 'Bouygues'][i % 4]!;
    const tags = `uai=${uai},commune=${commune},isp=${isp}`;
    schoolLines.push(
      `school,${tags},label=${uai} name="École ${i}",lat=45,lon=4.8,contracted_down_bps=${isp === 'Orange' ? 1e8 : 5e7},contracted_up_bps=1e7,hours="school" ${Date.now()}`,
    );
    const rand = rng(i + 1);
    // 30 outages, 5 minutes to 3 days, one in each twelfth of the year at most... spread, never overlapping.
    const span = (YEAR.endMs - YEAR.startMs) / OUTAGES;
    const outages: [number, number][] = [];
    for (let k = 0; k < OUTAGES; k++) {
      const dur = Math.round((5 * 60_000 + rand() * 3 * 86_400_000 * rand()) / 60_000) * 60_000;
      const start = Math.round((YEAR.startMs + k * span + rand() * (span - dur - SLOT)) / 60_000) * 60_000;
      outages.push([start, start + dur]);
    }
    const lines: string[] = [];
    const cause = ['wan_cut', 'power_or_box', 'unknown'];
    for (const [a, b] of outages)
      lines.push(
        `outage,${tags},cause=${cause[a % 3]} duration_s=${(b - a) / 1000},end_ms=${b}i,school_hours_s=0 ${Math.floor(a / SLOT) * SLOT}`,
      );
    for (let d = YEAR.startMs + 10 * 3_600_000; d < YEAR.endMs; d += 86_400_000)
      lines.push(
        `speedtest,${tags},agent=box,target=collector down_bps=${(isp === 'Orange' ? 9e7 : 4.5e7) * (0.7 + 0.3 * rand())},up_bps=${8e6 * (0.7 + 0.3 * rand())} ${Math.floor(d / SLOT) * SLOT}`,
      );
    // Per local day: the slots the school was not out are measured, each with anchor pings.
    const baseRtt = 10 + 20 * rand();
    let o = 0;
    for (const day of DAYS) {
      const slots = daySlots(day.startMs, day.endMs);
      const measured: number[] = [];
      const pings: SlotPing[] = [];
      const wifi: SlotWifi[] = [];
      for (let k = 0; k < slots.count; k++) {
        const t = slots.baseMs + k * SLOT;
        while (o < outages.length && outages[o]![1] <= t) o++;
        if (o < outages.length && outages[o]![0] <= t) continue;
        measured.push(k);
        // A line's median RTT moves little from one 5-minute slot to the next, with spikes now and then.
        const latencyMs = baseRtt + 0.8 * rand() + (rand() < 0.03 ? 20 + 60 * rand() : 0);
        const lossPct = rand() < 0.03 ? 10 * rand() : 0;
        pings.push({ slot: k, latencyMs, lossPct });
        // Three access points polled each minute; now and then one is off for the slot.
        const ap1Up = rand() < 0.02 ? 0 : 5;
        wifi.push({ slot: k, aps: 3, upAps: 2 + ap1Up / 5 });
        if (SLOTS)
          lines.push(
            `batch,${tags},agent=box batches=5i,samples=40i ${t}`,
            `ping,${tags},agent=box,target=anchor,role=anchor median_ms=${latencyMs},loss_pct=${lossPct} ${t}`,
            `wifi,${tags},agent=box,ap=ap1 up_n=5i,up_true=${ap1Up}i ${t}`,
            `wifi,${tags},agent=box,ap=ap2 up_n=5i,up_true=5i ${t}`,
            `wifi,${tags},agent=box,ap=ap3 up_n=5i,up_true=5i ${t}`,
          );
      }
      lines.push(
        `school_day,uai=${uai} measured="${encodeMeasured(measured, slots.count)}",pings="${encodePings(pings, slots.count)}",${WIFI ? `wifi="${encodeWifi(wifi, slots.count)}",` : ''}slots=${slots.count}i,format=${DAY_ROLLUP_FORMAT}i ${day.startMs}`,
      );
    }
    points += lines.length;
    await write(lines, long);
    if (i % 50 === 49)
      process.stderr.write(`bench:report: written ${i + 1}/${SCHOOLS} schools, ${points} points\n`);
  }
  await write(schoolLines);
  const writeS = (Date.now() - started) / 1000;
  const configFile = join(dir, 'vigie.yaml');
  writeFileSync(configFile, stringify({ collector: section }));

  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...(process.env['BENCH_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROF']}`] : []),
      VIGIE,
      'report',
      '--config',
      configFile,
      '--school-year',
      '2025-2026',
      '--out',
      join(dir, 'out'),
      ...(PDF ? [] : ['--no-pdf']),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // The report's progress lines, each with the seconds since it started: where the time goes.
  let pending = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split(/[\r\n]/);
    pending = lines.pop()!;
    for (const l of lines)
      if (l.trim())
        process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${l.replace(/\x1b\[K/g, '')}\n`);
  });
  let peak = 0;
  let reportCpu = 0;
  const influxCpu0 = cpuSeconds(influx.daemon.pid);
  const sample = setInterval(() => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (kb) peak = Math.max(peak, Number(kb) * 1024);
      reportCpu = Math.max(reportCpu, cpuSeconds(child.pid));
    } catch {}
  }, 100);
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  clearInterval(sample);
  const seconds = (Date.now() - t0) / 1000;
  const influxCpu = cpuSeconds(influx.daemon.pid) - influxCpu0;
  const csv =
    readFileSync(join(dir, 'out', 'schools-monthly.csv'), 'utf8')
      .trim()
      .split('\n').length - 1;
  console.log(
    JSON.stringify({
      vigie: VIGIE,
      slots: SLOTS,
      wifi: WIFI,
      schools: SCHOOLS,
      pointsWritten: points,
      writeSeconds: writeS,
      exitCode: code,
      reportSeconds: seconds,
      peakRssMB: Math.round(peak / 1e6),
      // CPU seconds (user + system) of the report process (up to its last sample) and of InfluxDB while
      // it ran: what the report costs whatever else loads the machine. load1: the load average then.
      reportCpuSeconds: Math.round(reportCpu * 10) / 10,
      influxCpuSeconds: Math.round(influxCpu * 10) / 10,
      load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      csvRows: csv,
      goal: { seconds: 30, rssMB: 500 },
      met: seconds <= 30 && peak <= 500e6,
    }),
  );
  await http.close();
} finally {
  await influx.daemon.dispose();
}
