// Quality beyond up/down, per school and month, in school hours only: speed tests against the
// contract, latency and loss to the internet anchors, and the share of 5-minute slots fit for a
// video class. Pure: the open time, the tests and the slots come in.
import type { Interval } from '../shared/availability/index.ts';

/**
 * Thresholds. Video class: M-Lab's Internet Quality Barometer (IQB) use case "video conferencing"
 * asks for latency ≤ 50 ms and packet loss ≤ 0.5 % (https://www.measurementlab.net/blog/iqb/).
 * A test "meets the contract" at ≥ 80 % of the contracted rate (the share French ISPs' business
 * offers commonly guarantee; configurable).
 */
export interface QualityThresholds {
  videoLatencyMs: number;
  videoLossPct: number;
  contractSharePct: number;
}
export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  videoLatencyMs: 50,
  videoLossPct: 0.5,
  contractSharePct: 80,
};

/** One 5-minute slot of pings to the anchors (role ≠ gateway): mean of the targets' medians and losses. */
export interface PingSlot {
  t: number;
  latencyMs: number | null;
  lossPct: number | null;
}

/**
 * Ping slots as columns, sorted by time: a year of a school's open-time slots (~16,000) without an
 * object each (allocating them was most of a 1,000-school report's time). Unknown values are NaN.
 */
export class PingColumns {
  t: Float64Array;
  latencyMs: Float64Array;
  lossPct: Float64Array;
  length = 0;
  constructor(capacity = 256) {
    this.t = new Float64Array(capacity);
    this.latencyMs = new Float64Array(capacity);
    this.lossPct = new Float64Array(capacity);
  }
  /** Appends one slot (t in ms; null = unknown). */
  push(t: number, latencyMs: number | null, lossPct: number | null): void {
    if (this.length === this.t.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.t = grow(this.t);
      this.latencyMs = grow(this.latencyMs);
      this.lossPct = grow(this.lossPct);
    }
    this.t[this.length] = t;
    this.latencyMs[this.length] = latencyMs ?? Number.NaN;
    this.lossPct[this.length] = lossPct ?? Number.NaN;
    this.length++;
  }
  forEach(f: (t: number, latencyMs: number | null, lossPct: number | null) => void): void {
    for (let i = 0; i < this.length; i++) {
      const l = this.latencyMs[i]!;
      const p = this.lossPct[i]!;
      f(this.t[i]!, Number.isNaN(l) ? null : l, Number.isNaN(p) ? null : p);
    }
  }
  /** Sorts by time in place (slots appended out of order, e.g. slot-level days after rollup days). */
  sort(): void {
    let sorted = true;
    for (let i = 1; i < this.length && sorted; i++) sorted = this.t[i - 1]! <= this.t[i]!;
    if (sorted) return;
    const order = Array.from({ length: this.length }, (_, i) => i).sort((a, b) => this.t[a]! - this.t[b]!);
    const pick = (a: Float64Array) => Float64Array.from(order, (i) => a[i]!);
    [this.t, this.latencyMs, this.lossPct] = [pick(this.t), pick(this.latencyMs), pick(this.lossPct)];
  }
  /** The slots with t in [startMs, endMs), sharing this one's memory (binary search; sorted first). */
  within(startMs: number, endMs: number): PingColumns {
    const first = (bound: number) => {
      let lo = 0;
      let hi = this.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.t[mid]! < bound) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const a = first(startMs);
    const b = Math.max(a, first(endMs));
    const out = new PingColumns(0);
    out.t = this.t.subarray(a, b);
    out.latencyMs = this.latencyMs.subarray(a, b);
    out.lossPct = this.lossPct.subarray(a, b);
    out.length = b - a;
    return out;
  }
}

export interface QualityFigures {
  /** Successful speed tests in school hours. */
  speedTests: number;
  downMedianMbps: number | null;
  /** 10th percentile (nearest rank): 9 tests in 10 did at least this. */
  downP10Mbps: number | null;
  upMedianMbps: number | null;
  upP10Mbps: number | null;
  /** 100 × tests with download ≥ contractSharePct % of the contract / tests (null without contract or tests). */
  testsMeetingContractPct: number | null;
  /** Over the school-hour slots with anchor pings. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  lossMeanPct: number | null;
  pingSlots: number;
  /** 100 × slots with latency ≤ videoLatencyMs and loss ≤ videoLossPct / slots with both known. */
  videoFitPct: number | null;
}

/** Nearest-rank percentile (p in 0–100) of an unsorted list; null when empty. */
export function percentile(xs: readonly number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

/** Nearest-rank percentile (p in 0–100) of an ascending array, as percentile(); null when empty. */
export function sortedPercentile(sorted: Float64Array | readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Whether t lies in the sorted, disjoint intervals (binary search). */
export function inIntervals(sorted: readonly Interval[], t: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = sorted[mid]!;
    if (t < a) hi = mid - 1;
    else if (t >= b) lo = mid + 1;
    else return true;
  }
  return false;
}

const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);
const defined = (xs: (number | null)[]) => xs.filter((v): v is number => v !== null);

/**
 * @param open the school's open time, sorted and disjoint (schoolOpenTime())
 * @param tests speed tests (bit/s); those outside open time are left out
 * @param slots anchor ping slots; those starting outside open time are left out
 */
export function qualityFigures(opts: {
  open: readonly Interval[];
  tests: readonly { t: number; downBps: number | null; upBps: number | null }[];
  slots: readonly PingSlot[] | PingColumns;
  contractedDownMbps: number | null;
  thresholds?: QualityThresholds;
}): QualityFigures {
  const th = opts.thresholds ?? DEFAULT_QUALITY_THRESHOLDS;
  const tests = opts.tests.filter((t) => inIntervals(opts.open, t.t));
  const down = defined(tests.map((t) => (t.downBps === null ? null : t.downBps / 1e6)));
  const up = defined(tests.map((t) => (t.upBps === null ? null : t.upBps / 1e6)));
  // One pass over the slots in open time, objects or columns alike.
  const latency: number[] = [];
  const loss: number[] = [];
  let slots = 0;
  let judged = 0;
  let fit = 0;
  const visit = (t: number, l: number | null, p: number | null) => {
    if (!inIntervals(opts.open, t)) return;
    slots++;
    if (l !== null) latency.push(l);
    if (p !== null) loss.push(p);
    if (l === null || p === null) return;
    judged++;
    if (l <= th.videoLatencyMs && p <= th.videoLossPct) fit++;
  };
  if (opts.slots instanceof PingColumns) opts.slots.forEach(visit);
  else for (const s of opts.slots) visit(s.t, s.latencyMs, s.lossPct);
  // Sorted once, natively (a month holds ~1,300 school-hour slots; a comparator sort took most of the time).
  const sortedLatency = Float64Array.from(latency).sort();
  const contract = opts.contractedDownMbps;
  return {
    speedTests: tests.length,
    downMedianMbps: percentile(down, 50),
    downP10Mbps: percentile(down, 10),
    upMedianMbps: percentile(up, 50),
    upP10Mbps: percentile(up, 10),
    testsMeetingContractPct: contract
      ? pct(down.filter((d) => d >= (contract * th.contractSharePct) / 100).length, down.length)
      : null,
    latencyP50Ms: sortedPercentile(sortedLatency, 50),
    latencyP95Ms: sortedPercentile(sortedLatency, 95),
    lossMeanPct: loss.length ? loss.reduce((a, b) => a + b, 0) / loss.length : null,
    pingSlots: slots,
    videoFitPct: pct(fit, judged),
  };
}
