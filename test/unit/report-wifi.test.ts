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
import { at, CAL, reportSchool } from '../harness/availability.ts';

const TZ = 'Europe/Paris';
const dayStart = localDayStartMs('2026-11-02', TZ);
const day = daySlots(dayStart, localDayStartMs('2026-11-03', TZ));
const decode = (text: string, keep?: [number, number][]) => {
  const out: SlotWifi[] = [];
  decodeWifi(text, day, keep, (t, aps, upAps) => out.push({ slot: (t - day.baseMs) / SLOT_MS, aps, upAps }));
  return out;
};

describe('Wi-Fi slots in a day rollup', () => {
  it('round-trips access points and AP-slots up to 0.001, in a few bytes past the bitmap for a steady day', () => {
    const slots: SlotWifi[] = [
      { slot: 0, aps: 3, upAps: 3 },
      { slot: 1, aps: 3, upAps: 3 },
      { slot: 2, aps: 3, upAps: 2.6 },
      { slot: 7, aps: 1, upAps: 0 },
      { slot: 287, aps: 128, upAps: 127.333 },
    ];
    expect(decode(encodeWifi(slots, day.count))).toEqual(slots);
    const steady = Array.from({ length: day.count }, (_, slot) => ({ slot, aps: 3, upAps: 3 }));
    const bytes = Buffer.from(encodeWifi(steady, day.count), 'base64').length;
    // The bitmap (288 bits), then one run: its length 288 and 3000 thousandths (two varint bytes each), 3 APs.
    expect(bytes).toBe(36 + 2 + 1 + 2);
    expect(decode(encodeWifi(steady, day.count))).toEqual(steady);
  });

  it('leaves out slots without an AP and out of the day, clamps upAps to [0, aps], keeps one entry a slot', () => {
    const text = encodeWifi(
      [
        { slot: 3, aps: 0, upAps: 0 },
        { slot: -1, aps: 2, upAps: 2 },
        { slot: 288, aps: 2, upAps: 2 },
        { slot: 4, aps: 2, upAps: 9 },
        { slot: 4, aps: 1, upAps: 1 },
        { slot: 5, aps: 2, upAps: -2 },
      ],
      day.count,
    );
    expect(decode(text)).toEqual([
      { slot: 4, aps: 2, upAps: 2 },
      { slot: 5, aps: 2, upAps: 0 },
    ]);
  });

  it('keeps only slots starting in the given intervals', () => {
    const text = encodeWifi(
      [0, 96, 97, 120].map((slot) => ({ slot, aps: 3, upAps: 3 })),
      day.count,
    );
    const keep: [number, number][] = [[day.baseMs + 96 * SLOT_MS, day.baseMs + 120 * SLOT_MS]];
    expect(decode(text, keep).map((s) => s.slot)).toEqual([96, 97]);
    expect(decode('!!not base64 of anything!!', [[0, day.baseMs]])).toEqual([]);
  });

  it('refuses a truncated text, a run past the slots, more up than APs and trailing bytes', () => {
    const text = encodeWifi([{ slot: 5, aps: 1, upAps: 1 }], day.count);
    const bytes = Buffer.from(text, 'base64');
    const b64 = (b: number[] | Buffer) => Buffer.from(b).toString('base64');
    const head = [...bytes.subarray(0, 36)];
    expect(() => decode(b64(bytes.subarray(0, 37)))).toThrow(DayRollupError);
    expect(() => decode(b64([...head, 2, 1, 0]))).toThrow(/bad run/);
    // 1 AP, 1.001 AP-slots up: 1001 = 0xe9 0x07 as a varint.
    expect(() => decode(b64([...head, 1, 1, 0xe9, 0x07]))).toThrow(/1.001 AP-slots up of 1/);
    expect(() => decode(b64([...head, 1, 1, 0, 0]))).toThrow(/trailing/);
    expect(() => decode(b64(bytes.subarray(0, 10)))).toThrow(/10 bytes for 288 slots/);
  });
});

/**
 * Three access points over a day, as slots: each AP one AP-slot a slot, up for the share of its
 * `perSlot` polls (one a minute by default) that `down(ap, t)` does not say off.
 */
function pollDay(
  startMs: number,
  down: (ap: number, t: number) => boolean = () => false,
  perSlot = 5,
): WifiSlot[] {
  const slots: WifiSlot[] = [];
  for (let t = startMs; t < startMs + 86_400_000; t += SLOT_MS) {
    let upAps = 0;
    for (let ap = 1; ap <= 3; ap++) {
      let up = 0;
      for (let m = 0; m < perSlot; m++) if (!down(ap, t + (m * SLOT_MS) / perSlot)) up++;
      upAps += up / perSlot;
    }
    slots.push({ t, aps: 3, upAps });
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

  it('is the share of access-point time in open time the APs were up: 300 of 324 AP-slots = 92.59 %', () => {
    // Open 08:00–17:00: 108 slots × 3 APs = 324 AP-slots; ap3 off 2 h = 24 AP-slots down.
    const w = wifiFigures(open, slots);
    expect(w).toEqual({ apSlots: 324, upApSlots: 300, apAvailabilityPct: (100 * 300) / 324 });
    expect(w.apAvailabilityPct).toBeCloseTo(92.59, 2);
    const columns = new WifiColumns();
    for (const s of slots) columns.push(s.t, s.aps, s.upAps);
    expect(wifiFigures(open, columns)).toEqual(w);
  });

  it('an AP up for 3 of its 5 polls in a slot counts 0.6 of the slot', () => {
    const t = at('2026-11-02T09:00');
    expect(wifiFigures(open, [{ t, aps: 1, upAps: 3 / 5 }])).toEqual({
      apSlots: 1,
      upApSlots: 0.6,
      apAvailabilityPct: 60,
    });
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
      apSlots: 0,
      upApSlots: 0,
      apAvailabilityPct: null,
    });
    expect(wifiFigures(open, []).apAvailabilityPct).toBeNull();
  });

  const school = (uai: string) => reportSchool(uai);
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

  it('leaves an excluded window out, as availability does: 252 AP-slots, 100 %', () => {
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
    // 324 − 24 slots × 3 APs.
    expect(excluded.wifi).toEqual({ apSlots: 252, upApSlots: 252, apAvailabilityPct: 100 });
    expect(excluded.months[0]!.quality.wifi).toEqual(excluded.wifi);
  });

  it('weighs each school by its access-point time, whatever its probe interval; never averages percentages', () => {
    // A polls its three APs each minute, all up; B each 5 minutes, all down: 50 %, not 83.33 % (polls).
    const a = pollDay(monday, () => false, 5);
    const b = pollDay(monday, () => true, 1);
    const r = report(
      [],
      [
        [school('0690001B'), data(a)],
        [school('0690002C'), data(b)],
      ],
    );
    expect(r.schools[0]!.wifi.apAvailabilityPct).toBe(100);
    expect(r.schools[1]!.wifi.apAvailabilityPct).toBe(0);
    expect(r.fleet.wifi).toEqual({ apSlots: 648, upApSlots: 324, apAvailabilityPct: 50 });
    expect(r.fleet.wifi).toEqual(sumWifi(r.schools.map((s) => s.wifi)));
    expect(r.communes[0]!.wifi).toEqual(r.fleet.wifi);
  });
});
