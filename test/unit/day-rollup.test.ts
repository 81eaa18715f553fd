// The `school_day` encoding (collector/day-rollup-codec.ts) and the promise it carries: a report
// built from day rollups gives the same figures as one built from 5-minute slots (report/figures.ts).
import { describe, expect, it } from 'vitest';
import {
  DayRollupError,
  daySlots,
  decodeMeasured,
  decodePings,
  encodeMeasured,
  encodePings,
  SLOT_MS,
  type SlotPing,
} from '../../collector/day-rollup-codec.ts';
import { computeReport } from '../../report/figures.ts';
import { PingColumns, type PingSlot } from '../../report/quality.ts';
import type { ReportSchool, SchoolData } from '../../report/source.ts';
import {
  type Annotation,
  daysOf,
  type Interval,
  localDayStartMs,
  measuredFromBuckets,
  monthPeriod,
  normalize,
  schoolOpenTime,
} from '../../shared/availability/index.ts';
import { schoolCalendar } from '../../shared/school-hours.ts';

const TZ = 'Europe/Paris';
const wholeDay = (date: string) => {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { startMs: localDayStartMs(date, TZ), endMs: localDayStartMs(next, TZ) };
};

describe('day slots', () => {
  it('a local day has 288 five-minute slots, 276 on the spring DST day and 300 on the autumn one', () => {
    const count = (date: string) => {
      const d = wholeDay(date);
      return daySlots(d.startMs, d.endMs).count;
    };
    expect(count('2026-11-16')).toBe(288);
    expect(count('2026-03-29')).toBe(276);
    expect(count('2026-10-25')).toBe(300);
  });
});

describe('measured bitmap', () => {
  it('gives back the runs of slots that held a batch, as [start, end) ms clipped to the range', () => {
    const d = wholeDay('2026-11-16');
    const slots = daySlots(d.startMs, d.endMs);
    const text = encodeMeasured([0, 1, 2, 10, 287, 400, -1], slots.count);
    expect(Buffer.from(text, 'base64').length).toBe(36);
    expect(decodeMeasured(text, slots, d.startMs, d.endMs)).toEqual([
      [d.startMs, d.startMs + 3 * SLOT_MS],
      [d.startMs + 10 * SLOT_MS, d.startMs + 11 * SLOT_MS],
      [d.startMs + 287 * SLOT_MS, d.endMs],
    ]);
    expect(decodeMeasured(text, slots, d.startMs + SLOT_MS + 60_000, d.endMs)[0]).toEqual([
      d.startMs + SLOT_MS + 60_000,
      d.startMs + 3 * SLOT_MS,
    ]);
    expect(decodeMeasured(encodeMeasured([], slots.count), slots, d.startMs, d.endMs)).toEqual([]);
  });

  it('refuses a bitmap shorter than the day', () => {
    const d = wholeDay('2026-10-25');
    expect(() =>
      decodeMeasured(encodeMeasured([1], 288), daySlots(d.startMs, d.endMs), d.startMs, d.endMs),
    ).toThrow(DayRollupError);
  });
});

describe('anchor pings', () => {
  const d = wholeDay('2026-11-16');
  const slots = daySlots(d.startMs, d.endMs);

  it('round-trips values on the 0.1 ms / 0.01 % grid exactly, unknowns as null, in about a byte a slot', () => {
    const pings: SlotPing[] = [];
    for (let i = 0; i < 288; i++)
      pings.push({
        slot: i,
        latencyMs: i === 7 ? null : Math.round(120 + 40 * Math.sin(i)) / 10,
        lossPct: i === 9 ? null : i % 50 === 0 ? 0.57 : 0,
      });
    const text = encodePings(pings, slots.count);
    expect(text.length).toBeLessThan(700);
    const back = decodePings(text, slots);
    expect(back).toHaveLength(288);
    back.forEach((s, i) => {
      expect(s.t).toBe(d.startMs + i * SLOT_MS);
      expect(s.latencyMs).toBe(pings[i]!.latencyMs);
      expect(s.lossPct).toBe(pings[i]!.lossPct);
    });
  });

  it('rounds up: a value just over a threshold stays over it (50.04 ms → 50.1, 0.501 % → 0.51)', () => {
    const text = encodePings(
      [
        { slot: 3, latencyMs: 50.04, lossPct: 0.501 },
        { slot: 1, latencyMs: 50, lossPct: 0.5 },
        { slot: 2, latencyMs: 12.3, lossPct: 0.07 },
      ],
      slots.count,
    );
    expect(decodePings(text, slots).map((s) => [s.t - d.startMs, s.latencyMs, s.lossPct])).toEqual([
      [SLOT_MS, 50, 0.5],
      [2 * SLOT_MS, 12.3, 0.07],
      [3 * SLOT_MS, 50.1, 0.51],
    ]);
  });

  it('keeps only slots starting in the given intervals, and a day outside them is not decoded', () => {
    const pings = [0, 96, 97, 120, 200].map((slot) => ({ slot, latencyMs: 10, lossPct: 0 }));
    const text = encodePings(pings, slots.count);
    const open: Interval[] = [[d.startMs + 96 * SLOT_MS, d.startMs + 120 * SLOT_MS]];
    expect(decodePings(text, slots, open).map((s) => (s.t - d.startMs) / SLOT_MS)).toEqual([96, 97]);
    expect(decodePings('!!not base64 of anything!!', slots, [[0, d.startMs]])).toEqual([]);
  });

  it('refuses a truncated encoding', () => {
    const text = encodePings([{ slot: 5, latencyMs: 10, lossPct: 0 }], slots.count);
    const cut = Buffer.from(text, 'base64').subarray(0, 37).toString('base64');
    expect(() => decodePings(cut, slots)).toThrow(DayRollupError);
  });
});

/** A deterministic generator, so the test is the same at each run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('figures from day rollups = figures from 5-minute slots', () => {
  it('November 2026 with gaps, outages, a DST-free month and pings on the grid: every figure equal', () => {
    const month = monthPeriod(2026, 11, TZ);
    const calendar = schoolCalendar({ timezone: TZ });
    const rand = rng(7);
    const schools: ReportSchool[] = ['0690001B', '0690002C'].map((uai) => ({
      uai,
      name: uai,
      commune: 'Lyon',
      isp: 'Orange',
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'school',
    }));
    const slotLevel = new Map<string, SchoolData>();
    const fromRollups = new Map<string, SchoolData>();
    for (const s of schools) {
      const buckets: number[] = [];
      const pingSlots: PingSlot[] = [];
      for (let t = month.startMs; t < month.endMs; t += SLOT_MS) {
        // Silences of a few hours now and then; pings in most measured slots.
        if (rand() < 0.02) t += Math.floor(rand() * 40) * SLOT_MS;
        if (t >= month.endMs) break;
        buckets.push(t);
        if (rand() < 0.9)
          pingSlots.push({
            t,
            latencyMs: Math.round(100 + 600 * rand() ** 3) / 10,
            lossPct: rand() < 0.1 ? Math.round(200 * rand()) / 100 : 0,
          });
      }
      const outages = [
        {
          startMs: month.startMs + 3 * 86_400_000 + 7_200_000,
          endMs: month.startMs + 4 * 86_400_000,
          cause: 'wan_cut' as const,
        },
      ];
      const speedTests = [{ t: month.startMs + 36_000_000, downBps: 9e7, upBps: 1.5e7 }];
      slotLevel.set(s.uai, {
        outages,
        measured: measuredFromBuckets(buckets, SLOT_MS),
        speedTests,
        pingSlots,
      });
      // What the job writes per day, then what the report decodes from it.
      // Columns, as report/source.ts reads them; the slot-level side keeps one object per slot.
      const columns = new PingColumns();
      const rolled: SchoolData = { outages, measured: [], speedTests, pingSlots: columns };
      const open = schoolOpenTime(calendar, s.hours, month.startMs, month.endMs);
      for (const d of daysOf(month.startMs, month.endMs, TZ)) {
        const slots = daySlots(d.startMs, d.endMs);
        const slotOf = (t: number) => (t - slots.baseMs) / SLOT_MS;
        const measured = encodeMeasured(
          buckets.filter((t) => t >= d.startMs && t < d.endMs).map(slotOf),
          slots.count,
        );
        const pings = encodePings(
          pingSlots
            .filter((p) => p.t >= d.startMs && p.t < d.endMs)
            .map((p) => ({ slot: slotOf(p.t), latencyMs: p.latencyMs, lossPct: p.lossPct })),
          slots.count,
        );
        rolled.measured.push(...decodeMeasured(measured, slots, d.startMs, d.endMs));
        decodePings(pings, slots, open, (t, l, p) => columns.push(t, l, p));
      }
      rolled.measured = normalize(rolled.measured);
      fromRollups.set(s.uai, rolled);
    }
    const input = {
      period: month,
      calendar,
      asOfMs: month.endMs,
      nowMs: month.endMs,
    };
    const parts = [{ policy: 'autogen', startMs: month.startMs, endMs: month.endMs }];
    const a = computeReport({ ...input, data: { schools, bySchool: slotLevel, parts } });
    const b = computeReport({ ...input, data: { schools, bySchool: fromRollups, parts } });
    expect(a.schools[0]!.months[0]!.quality.pingSlots).toBeGreaterThan(1000);
    expect(a.schools[0]!.total.notMeasuredMs).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });
});

describe('quality and exclusion annotations', () => {
  it('leaves the pings and speed tests of an excluded window out of the quality figures, as from availability', () => {
    const month = monthPeriod(2026, 11, TZ);
    const calendar = schoolCalendar({ timezone: TZ });
    const school: ReportSchool = {
      uai: '0690001B',
      name: 'École',
      commune: 'Lyon',
      isp: 'Orange',
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'school',
    };
    const pingSlots: PingSlot[] = [];
    for (let t = month.startMs; t < month.endMs; t += SLOT_MS)
      pingSlots.push({ t, latencyMs: 20, lossPct: 0 });
    // Monday 9 November 2026, 08:00–17:00 Paris (UTC+1): planned works, every slot a bad one.
    const worksFrom = Date.UTC(2026, 10, 9, 7);
    const worksTo = Date.UTC(2026, 10, 9, 16);
    for (const p of pingSlots) if (p.t >= worksFrom && p.t < worksTo) p.latencyMs = 900;
    const data: SchoolData = {
      outages: [],
      measured: [[month.startMs, month.endMs]],
      speedTests: [{ t: Date.UTC(2026, 10, 9, 9), downBps: 1e6, upBps: 1e6 }],
      pingSlots,
    };
    const input = { period: month, calendar, asOfMs: month.endMs, nowMs: month.endMs };
    const parts = [{ policy: 'autogen', startMs: month.startMs, endMs: month.endMs }];
    const report = (annotations: Annotation[]) =>
      computeReport({
        ...input,
        annotations,
        data: { schools: [school], bySchool: new Map([[school.uai, data]]), parts },
      }).schools[0]!.months[0]!.quality;
    const plain = report([]);
    const excluded = report([
      {
        kind: 'exclude',
        fromMs: worksFrom,
        toMs: worksTo,
        uai: [school.uai],
        author: 'DSI',
        reason: 'travaux',
      },
    ]);
    expect(plain.videoFitPct).toBeLessThan(100);
    expect(plain.speedTests).toBe(1);
    expect(excluded.videoFitPct).toBe(100);
    expect(excluded.speedTests).toBe(0);
    expect(excluded.pingSlots).toBe(plain.pingSlots - (worksTo - worksFrom) / SLOT_MS);
  });
});
