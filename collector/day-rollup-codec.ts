// The `school_day` point's fields: one school's local day of 5-minute slots in a few hundred bytes.
// `measured` says which slots held at least one batch (a bitmap: exact). `pings` holds, for the slots
// with anchor pings, the mean median RTT and mean loss quantized UP to 0.1 ms and 0.01 % (so a slot
// is judged against a threshold that is a multiple of the quantum — 50 ms, 0.5 % — exactly as the
// unquantized value would be; a percentile is at most 0.1 ms high). `wifi` holds, for the slots where
// access points were polled, how many APs were and how many of them were up (each AP counting the
// share of its polls that found it up, to 0.001). Pure; used by the collector's day-rollup job to
// write and by the report to read (report/source.ts).
import type { Interval } from '../shared/availability/index.ts';

/** The slot length of everything the report reads (the long policy's interval, presence's round). */
export const SLOT_MS = 5 * 60_000;
/**
 * Bumped when the encoding changes; a reader refuses a format it does not know (it reads that day
 * slot by slot) and the collector's backfill rewrites the days it still keeps raw. 2: `wifi` added.
 */
export const DAY_ROLLUP_FORMAT = 2;

/** The slots of a local day: slot i starts at `baseMs + i × SLOT_MS` (baseMs = dayStart floored to 5 min). */
export interface DaySlots {
  baseMs: number;
  /** 276, 288 or 300 for a whole day (23, 24, 25 h). */
  count: number;
}

/** The slots covering [dayStartMs, dayEndMs), aligned on InfluxDB's 5-minute buckets (epoch-aligned). */
export function daySlots(dayStartMs: number, dayEndMs: number): DaySlots {
  const baseMs = Math.floor(dayStartMs / SLOT_MS) * SLOT_MS;
  return { baseMs, count: Math.ceil((dayEndMs - baseMs) / SLOT_MS) };
}

/** One slot's anchor pings: mean of the targets' median RTT (ms) and of their loss (%), null unknown. */
export interface SlotPing {
  slot: number;
  latencyMs: number | null;
  lossPct: number | null;
}

/**
 * The access points whose polls count in the Wi-Fi figures: the agent's own wireless interfaces
 * (`box:wlan0`, agent/probes/box-wifi.ts) are not access points (a wired box with an unused radio
 * would read as a Wi-Fi down all year).
 */
export const WIFI_APS = `"ap" !~ /^box:/`;

/**
 * One slot's Wi-Fi access points (the agent's wifi probe, `box:` interfaces left out): each AP polled
 * in the slot weighs one AP-slot whatever its probe interval, so a school polling every minute does
 * not outweigh one polling every five.
 */
export interface SlotWifi {
  slot: number;
  /** Access points polled in the slot. */
  aps: number;
  /** AP-slots up: Σ over those APs of (polls finding it up / its polls), in [0, aps]. */
  upAps: number;
}

export class DayRollupError extends Error {
  override name = 'DayRollupError';
}

/**
 * Slots holding a batch, as a base64 bitmap (bit i of byte i >> 3, LSB first).
 * @param slots slot indexes in [0, count); others are ignored
 */
export function encodeMeasured(slots: Iterable<number>, count: number): string {
  const bytes = new Uint8Array((count + 7) >> 3);
  for (const i of slots) if (i >= 0 && i < count) bytes[i >> 3]! |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

/**
 * The measured intervals of a day: runs of set bits as [start, end) ms, clipped to [fromMs, toMs).
 * @throws DayRollupError when the bitmap is shorter than the day's slots
 */
export function decodeMeasured(text: string, day: DaySlots, fromMs: number, toMs: number): Interval[] {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < (day.count + 7) >> 3)
    throw new DayRollupError(`measured: ${bytes.length} bytes for ${day.count} slots`);
  const out: Interval[] = [];
  let runStart = -1;
  for (let i = 0; i <= day.count; i++) {
    const set = i < day.count && (bytes[i >> 3]! & (1 << (i & 7))) !== 0;
    if (set && runStart < 0) runStart = i;
    else if (!set && runStart >= 0) {
      const a = Math.max(fromMs, day.baseMs + runStart * SLOT_MS);
      const b = Math.min(toMs, day.baseMs + i * SLOT_MS);
      if (b > a) out.push([a, b]);
      runStart = -1;
    }
  }
  return out;
}

// Quantized UP: the epsilon absorbs binary noise (12.3 × 10 = 123.00000000000001 must stay 123).
const quantize = (v: number | null, per: number, max: number): number =>
  v === null || !Number.isFinite(v) ? 0 : Math.min(max, Math.max(0, Math.ceil(v * per - 1e-6))) + 1;
const LATENCY_PER_MS = 10;
const LOSS_PER_PCT = 100;
const MAX_LATENCY_Q = 0xfffff; // 104,857.5 ms: longer is a wrong reading, clamped
const MAX_LOSS_Q = 100 * LOSS_PER_PCT;

function pushVarint(out: number[], v: number): void {
  let x = v;
  while (x >= 0x80) {
    out.push((x & 0x7f) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
}
const zigzag = (v: number) => (v < 0 ? -2 * v - 1 : 2 * v);
const unzigzag = (v: number) => (v & 1 ? -(v + 1) / 2 : v / 2);

/**
 * Anchor-ping slots as base64: a presence bitmap, then each present slot's latency (0.1 ms units + 1,
 * 0 = unknown) as zigzag varint deltas from the previous slot's, then the losses (0.01 % units + 1) as
 * runs (varint length, varint value). About 1 byte a slot: RTT moves little, loss is mostly 0.
 */
export function encodePings(slots: readonly SlotPing[], count: number): string {
  const sorted = slots.filter((s) => s.slot >= 0 && s.slot < count).sort((a, b) => a.slot - b.slot);
  const unique = sorted.filter((s, i) => i === 0 || sorted[i - 1]!.slot !== s.slot);
  const bitmap = new Uint8Array((count + 7) >> 3);
  for (const s of unique) bitmap[s.slot >> 3]! |= 1 << (s.slot & 7);
  const body: number[] = [];
  let prev = 0;
  for (const s of unique) {
    const q = quantize(s.latencyMs, LATENCY_PER_MS, MAX_LATENCY_Q);
    pushVarint(body, zigzag(q - prev));
    prev = q;
  }
  for (let i = 0; i < unique.length; ) {
    const q = quantize(unique[i]!.lossPct, LOSS_PER_PCT, MAX_LOSS_Q);
    let j = i + 1;
    while (j < unique.length && quantize(unique[j]!.lossPct, LOSS_PER_PCT, MAX_LOSS_Q) === q) j++;
    pushVarint(body, j - i);
    pushVarint(body, q);
    i = j;
  }
  return Buffer.concat([bitmap, Uint8Array.from(body)]).toString('base64');
}

// Scratch space for decoding (a day has at most 300 slots; a 25-hour day of a zone off by 5 min: 301).
const SCRATCH_SLOTS = new Int32Array(320);
const SCRATCH_A = new Float64Array(320);
const SCRATCH_B = new Float64Array(320);

/** The index of the first kept interval ending after the day's first slot; -1 when none overlaps the day. */
function firstKept(keep: readonly Interval[], day: DaySlots): number {
  let k = 0;
  let hi = keep.length;
  while (k < hi) {
    const mid = (k + hi) >> 1;
    if (keep[mid]![1] <= day.baseMs) k = mid + 1;
    else hi = mid;
  }
  return k >= keep.length || keep[k]![0] >= day.baseMs + day.count * SLOT_MS ? -1 : k;
}

/**
 * A field's presence bitmap read into SCRATCH_SLOTS and a varint reader over the rest.
 * @throws DayRollupError when the text is shorter than the bitmap
 */
function openSlots(
  text: string,
  day: DaySlots,
  field: string,
): { n: number; varint: () => number; done: () => boolean } {
  if (day.count > SCRATCH_SLOTS.length) throw new DayRollupError(`${field}: ${day.count} slots in a day`);
  // A plain Uint8Array view: indexing a Buffer is several times slower (measured: 40 ns a byte).
  const buf = Buffer.from(text, 'base64');
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  const head = (day.count + 7) >> 3;
  if (bytes.length < head) throw new DayRollupError(`${field}: ${bytes.length} bytes for ${day.count} slots`);
  let n = 0;
  for (let i = 0; i < day.count; i++) if (bytes[i >> 3]! & (1 << (i & 7))) SCRATCH_SLOTS[n++] = i;
  let pos = head;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) throw new DayRollupError(`${field}: truncated`);
      const b = bytes[pos++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 128;
    }
  };
  return { n, varint, done: () => pos === bytes.length };
}

/** Calls `visit(t, j)` for the decoded slots j in [0, n) starting inside `keep` (all when undefined). */
function eachKept(
  n: number,
  day: DaySlots,
  keep: readonly Interval[] | undefined,
  k0: number,
  visit: (t: number, j: number) => void,
): void {
  let k = k0;
  for (let j = 0; j < n; j++) {
    const t = day.baseMs + SCRATCH_SLOTS[j]! * SLOT_MS;
    if (keep) {
      while (k < keep.length && keep[k]![1] <= t) k++;
      if (k >= keep.length) break;
      if (t < keep[k]![0]) continue;
    }
    visit(t, j);
  }
}

/**
 * The slots encodePings() wrote, in slot order, values quantized (latency to 0.1 ms, loss to 0.01 %).
 * @param keep sorted, disjoint intervals (ms): only slots starting inside one are returned (the
 *   report passes the school's open time, since quality figures look at no other slot); a day with
 *   none of it is not even decoded. Undefined: every slot.
 * @param sink when given, called with each slot instead of building objects (a year of slots for
 *   a fleet is millions of them); the returned list is then empty
 * @throws DayRollupError on a truncated or inconsistent encoding
 */
export function decodePings(
  text: string,
  day: DaySlots,
  keep?: readonly Interval[],
  sink?: (tMs: number, latencyMs: number | null, lossPct: number | null) => void,
): { t: number; latencyMs: number | null; lossPct: number | null }[] {
  const out: { t: number; latencyMs: number | null; lossPct: number | null }[] = [];
  const k = keep ? firstKept(keep, day) : 0;
  if (k < 0) return out;
  const { n, varint } = openSlots(text, day, 'pings');
  let prev = 0;
  for (let j = 0; j < n; j++) {
    prev += unzigzag(varint());
    SCRATCH_A[j] = prev;
  }
  for (let j = 0; j < n; ) {
    const run = varint();
    const q = varint();
    if (run < 1 || j + run > n) throw new DayRollupError('pings: bad loss run');
    SCRATCH_B.fill(q, j, j + run);
    j += run;
  }
  eachKept(n, day, keep, k, (t, j) => {
    const l = SCRATCH_A[j]!;
    const p = SCRATCH_B[j]!;
    const latencyMs = l === 0 ? null : (l - 1) / LATENCY_PER_MS;
    const lossPct = p === 0 ? null : (p - 1) / LOSS_PER_PCT;
    if (sink) sink(t, latencyMs, lossPct);
    else out.push({ t, latencyMs, lossPct });
  });
  return out;
}

/** AP-slots up are stored in thousandths (exact for 1 to 5 polls a slot, and 8, 10, 20…). */
const UP_PER_AP = 1000;

/**
 * One access point's part of a slot that it was up: the share of its `polls` in the slot that found
 * it up, to the encoding's 0.001 (so the rollup and a slot-by-slot read add up to the same figures).
 */
export const apUpShare = (up: number, polls: number): number =>
  Math.round((UP_PER_AP * Math.min(up, polls)) / polls) / UP_PER_AP;

/**
 * Wi-Fi slots as base64: a presence bitmap, then (aps, thousandths of AP-slots up) pairs as runs
 * (varint length, varint aps, varint up): a school's APs are mostly all up, so a day is a few bytes
 * past its bitmap. Slots with no AP, or outside [0, count), are left out; upAps is clamped to [0, aps].
 */
export function encodeWifi(slots: readonly SlotWifi[], count: number): string {
  const sorted = slots
    .filter((s) => s.slot >= 0 && s.slot < count && Math.round(s.aps) > 0)
    .sort((a, b) => a.slot - b.slot);
  const unique = sorted.filter((s, i) => i === 0 || sorted[i - 1]!.slot !== s.slot);
  const bitmap = new Uint8Array((count + 7) >> 3);
  for (const s of unique) bitmap[s.slot >> 3]! |= 1 << (s.slot & 7);
  const pair = (s: SlotWifi) => {
    const aps = Math.round(s.aps);
    return [aps, Math.min(aps * UP_PER_AP, Math.max(0, Math.round(s.upAps * UP_PER_AP)))] as const;
  };
  const body: number[] = [];
  for (let i = 0; i < unique.length; ) {
    const [aps, up] = pair(unique[i]!);
    let j = i + 1;
    while (j < unique.length && pair(unique[j]!)[0] === aps && pair(unique[j]!)[1] === up) j++;
    pushVarint(body, j - i);
    pushVarint(body, aps);
    pushVarint(body, up);
    i = j;
  }
  return Buffer.concat([bitmap, Uint8Array.from(body)]).toString('base64');
}

/**
 * The slots encodeWifi() wrote, in slot order: `sink(t, aps, upAps)` for each slot starting inside
 * `keep` (every slot when undefined; a day with none of it is not decoded). upAps to 0.001.
 * @throws DayRollupError on a truncated or inconsistent encoding (a run past the slots, more up than APs)
 */
export function decodeWifi(
  text: string,
  day: DaySlots,
  keep: readonly Interval[] | undefined,
  sink: (tMs: number, aps: number, upAps: number) => void,
): void {
  const k = keep ? firstKept(keep, day) : 0;
  if (k < 0) return;
  const { n, varint, done } = openSlots(text, day, 'wifi');
  for (let j = 0; j < n; ) {
    const run = varint();
    const aps = varint();
    const up = varint();
    if (run < 1 || j + run > n) throw new DayRollupError('wifi: bad run');
    if (up > aps * UP_PER_AP) throw new DayRollupError(`wifi: ${up / UP_PER_AP} AP-slots up of ${aps}`);
    SCRATCH_A.fill(aps, j, j + run);
    SCRATCH_B.fill(up / UP_PER_AP, j, j + run);
    j += run;
  }
  if (!done()) throw new DayRollupError('wifi: trailing bytes');
  eachKept(n, day, keep, k, (t, j) => sink(t, SCRATCH_A[j]!, SCRATCH_B[j]!));
}
