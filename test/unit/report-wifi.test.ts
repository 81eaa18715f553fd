// Wi-Fi access points' availability (issue 15, quality): the `school_day` encoding of the polls
// (collector/day-rollup-codec.ts) and the figures in school hours (report/quality.ts, figures.ts),
// hand-computed.
import { describe, expect, it } from 'vitest';
import {
  DayRollupError,
  daySlots,
  decodeWifi,
  encodeWifi,
  SLOT_MS,
  type SlotWifi,
} from '../../collector/day-rollup-codec.ts';
import { computeReport, sumWifi } from '../../report/figures.ts';
import { WifiColumns, type WifiSlot, wifiFigures } from '../../report/quality.ts';
import type { ReportSchool, SchoolData } from '../../report/source.ts';
import { type Annotation, localDayStartMs, schoolOpenTime } from '../../shared/availability/index.ts';
import { at, CAL } from '../harness/availability.ts';

const TZ = 'Europe/Paris';
const dayStart = localDayStartMs('2026-11-02', TZ);
const day = daySlots(dayStart, localDayStartMs('2026-11-03', TZ));
const decode = (text: string, keep?: [number, number][]) => {
  const out: { slot: number; polls: number; up: number }[] = [];
  decodeWifi(text, day, keep, (t, polls, up) => out.push({ slot: (t - day.baseMs) / SLOT_MS, polls, up }));
  return out;
};

describe('Wi-Fi slots in a day rollup', () => {
  it('round-trips exact poll counts, in a few bytes past the bitmap for a steady day', () => {
    const slots: SlotWifi[] = [
      { slot: 0, polls: 15, up: 15 },
      { slot: 1, polls: 15, up: 15 },
      { slot: 2, polls: 15, up: 10 },
      { slot: 7, polls: 3, up: 0 },
      { slot: 287, polls: 200, up: 199 },
    ];
    expect(decode(encodeWifi(slots, day.count))).toEqual(slots);
    const steady = Array.from({ length: day.count }, (_, slot) => ({ slot, polls: 15, up: 15 }));
    const bytes = Buffer.from(encodeWifi(steady, day.count), 'base64').length;
    // The bitmap (288 bits), then one run: its length 288 (two varint bytes), 15 polls, 15 up.
    expect(bytes).toBe(36 + 2 + 1 + 1);
    expect(decode(encodeWifi(steady, day.count))).toEqual(steady);
  });

  it('leaves out slots without a poll and out of the day, clamps up to [0, polls], keeps one entry a slot', () => {
    const text = encodeWifi(
      [
        { slot: 3, polls: 0, up: 0 },
        { slot: -1, polls: 5, up: 5 },
        { slot: 288, polls: 5, up: 5 },
        { slot: 4, polls: 5, up: 9 },
        { slot: 4, polls: 6, up: 6 },
        { slot: 5, polls: 5, up: -2 },
      ],
      day.count,
    );
    expect(decode(text)).toEqual([
      { slot: 4, polls: 5, up: 5 },
      { slot: 5, polls: 5, up: 0 },
    ]);
  });

  it('keeps only slots starting in the given intervals', () => {
    const text = encodeWifi(
      [0, 96, 97, 120].map((slot) => ({ slot, polls: 3, up: 3 })),
      day.count,
    );
    const keep: [number, number][] = [[day.baseMs + 96 * SLOT_MS, day.baseMs + 120 * SLOT_MS]];
    expect(decode(text, keep).map((s) => s.slot)).toEqual([96, 97]);
    expect(decode('!!not base64 of anything!!', [[0, day.baseMs]])).toEqual([]);
  });

  it('refuses a truncated text, a run past the slots, more up than polls and trailing bytes', () => {
    const text = encodeWifi([{ slot: 5, polls: 3, up: 3 }], day.count);
    const bytes = Buffer.from(text, 'base64');
    const b64 = (b: number[] | Buffer) => Buffer.from(b).toString('base64');
    const head = [...bytes.subarray(0, 36)];
    expect(() => decode(b64(bytes.subarray(0, 37)))).toThrow(DayRollupError);
    expect(() => decode(b64([...head, 2, 3, 3]))).toThrow(/bad run/);
    expect(() => decode(b64([...head, 1, 3, 4]))).toThrow(/4 up of 3 polls/);
    expect(() => decode(b64([...head, 1, 3, 3, 0]))).toThrow(/trailing/);
    expect(() => decode(b64(bytes.subarray(0, 10)))).toThrow(/10 bytes for 288 slots/);
  });
});

/** Three access points polled once a minute over a day: 15 polls a slot; `down(ap, t)` says which are off. */
function pollDay(startMs: number, down: (ap: number, t: number) => boolean = () => false): WifiSlot[] {
  const slots: WifiSlot[] = [];
  for (let t = startMs; t < startMs + 86_400_000; t += SLOT_MS) {
    let up = 0;
    for (let ap = 1; ap <= 3; ap++) for (let m = 0; m < 5; m++) if (!down(ap, t + m * 60_000)) up++;
    slots.push({ t, polls: 15, up });
  }
  return slots;
}

describe('Wi-Fi access points’ availability in school hours', () => {
  const monday = at('2026-11-02T00:00');
  const open = schoolOpenTime(CAL, 'school', monday, at('2026-11-03T00:00'));
  // ap3 off 10:00–12:00, and all three off at 07:00–08:00 and 18:00–19:00 (closed: must not count).
  const off = (ap: number, t: number) =>
    (ap === 3 && t >= at('2026-11-02T10:00') && t < at('2026-11-02T12:00')) ||
    (t >= at('2026-11-02T07:00') && t < at('2026-11-02T08:00')) ||
    (t >= at('2026-11-02T18:00') && t < at('2026-11-02T19:00'));
  const slots = pollDay(monday, off);

  it('is the share of polls in open time finding the AP up: 1,500 of 1,620 = 92.59 %', () => {
    // Open 08:00–17:00: 108 slots × 15 polls = 1,620; ap3 off 2 h = 24 slots × 5 polls = 120 down.
    const w = wifiFigures(open, slots);
    expect(w).toEqual({ polls: 1620, upPolls: 1500, apAvailabilityPct: (100 * 1500) / 1620 });
    expect(w.apAvailabilityPct).toBeCloseTo(92.59, 2);
    const columns = new WifiColumns();
    for (const s of slots) columns.push(s.t, s.polls, s.up);
    expect(wifiFigures(open, columns)).toEqual(w);
  });

  it('is not measured (null, not 100 %) without polls: a closed Wednesday, a school without the probe', () => {
    const wednesday = at('2026-11-04T00:00');
    const closed = schoolOpenTime(CAL, 'school', wednesday, at('2026-11-05T00:00'));
    expect(closed).toEqual([]);
    expect(
      wifiFigures(
        closed,
        pollDay(wednesday, () => true),
      ),
    ).toEqual({
      polls: 0,
      upPolls: 0,
      apAvailabilityPct: null,
    });
    expect(wifiFigures(open, []).apAvailabilityPct).toBeNull();
  });

  const school = (uai: string): ReportSchool => ({
    uai,
    name: 'École',
    commune: 'Lyon',
    isp: 'Orange',
    contractedDownMbps: 100,
    contractedUpMbps: 20,
    hours: 'school',
  });
  const period = { label: '2026-11-02', startMs: monday, endMs: at('2026-11-03T00:00') };
  const data = (wifiSlots: WifiSlot[]): SchoolData => ({
    outages: [],
    measured: [[period.startMs, period.endMs]],
    speedTests: [],
    pingSlots: [],
    wifiSlots,
  });
  const report = (annotations: Annotation[], bySchool: [ReportSchool, SchoolData][]) =>
    computeReport({
      period,
      calendar: CAL,
      annotations,
      asOfMs: period.endMs,
      nowMs: period.endMs,
      data: {
        schools: bySchool.map(([s]) => s),
        bySchool: new Map(bySchool.map(([s, d]) => [s.uai, d])),
        parts: [{ policy: 'autogen', startMs: period.startMs, endMs: period.endMs }],
      },
    });

  it('leaves an excluded window out, as availability does: 1,260 polls, 100 %', () => {
    const excluded = report(
      [
        {
          kind: 'exclude',
          fromMs: at('2026-11-02T10:00'),
          toMs: at('2026-11-02T12:00'),
          uai: ['0690001B'],
          author: 'DSI',
          reason: 'travaux de câblage',
        },
      ],
      [[school('0690001B'), data(slots)]],
    ).schools[0]!;
    // 1,620 − 24 slots × 15 polls.
    expect(excluded.wifi).toEqual({ polls: 1260, upPolls: 1260, apAvailabilityPct: 100 });
    expect(excluded.months[0]!.quality.wifi).toEqual(excluded.wifi);
  });

  it('aggregates by summing polls (each school weighs its polls), never averaging percentages', () => {
    // B: one access point polled once in open time, down: 0 %. Fleet: 1,500 / 1,621 = 92.54 %, not 46.3 %.
    const b: WifiSlot[] = [{ t: at('2026-11-02T09:00'), polls: 1, up: 0 }];
    const r = report(
      [],
      [
        [school('0690001B'), data(slots)],
        [school('0690002C'), data(b)],
      ],
    );
    expect(r.schools[1]!.wifi.apAvailabilityPct).toBe(0);
    expect(r.fleet.wifi).toEqual({ polls: 1621, upPolls: 1500, apAvailabilityPct: (100 * 1500) / 1621 });
    expect(r.fleet.wifi).toEqual(sumWifi(r.schools.map((s) => s.wifi)));
    expect(r.communes[0]!.wifi).toEqual(r.fleet.wifi);
  });
});
