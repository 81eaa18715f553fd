// Quality beyond up/down, per school and month, in school hours only: speed tests against the
// contract, latency and loss to the internet anchors, and the share of 5-minute slots fit for a
// video class. Pure: the open time, the tests and the slots come in.
import type { Interval } from '../shared/availability/index.ts';
import { PingColumns, WifiColumns } from './slot-columns.ts';

export { PingColumns, WifiColumns };

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

/** One 5-minute slot of Wi-Fi access points (`box:` interfaces left out): collector/day-rollup-codec.ts SlotWifi. */
export interface WifiSlot {
  t: number;
  /** Access points polled in the slot. */
  aps: number;
  /** AP-slots up: Σ over those APs of the share of their polls that found them up. */
  upAps: number;
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
  /** Wi-Fi access points in school hours (wifiFigures()). */
  wifi: WifiFigures;
}

/** Wi-Fi access points' availability over open time, from the agent's polls. */
export interface WifiFigures {
  /** Access-point time observed in open time, in 5-minute AP-slots (an AP polled in a slot: one). */
  apSlots: number;
  /** Of it, AP-slots the APs were up (reachable, and a radio up where radios are seen). */
  upApSlots: number;
  /** 100 × upApSlots / apSlots: the share of AP-time the APs served Wi-Fi; null without polls ("not measured"). */
  apAvailabilityPct: number | null;
}

/**
 * Wi-Fi access points' availability: over the 5-minute slots starting in open time, each access
 * point polled in the slot weighs one AP-slot, up for the share of its polls that found it up
 * (agent/probes/wifi.ts apUp()): AP-time availability, whatever each school's probe interval. Slots
 * with no poll (no data: box off, probe not configured) count neither up nor down. Adds across
 * schools and months by summing AP-slots, never by averaging percents.
 * @param open sorted, disjoint intervals (ms)
 */
export function wifiFigures(
  open: readonly Interval[],
  slots: readonly WifiSlot[] | WifiColumns,
): WifiFigures {
  let apSlots = 0;
  // In thousandths (the rollup's unit), summed as integers: months and schools add up exactly.
  let upMilli = 0;
  if (slots instanceof WifiColumns)
    eachOpen(open, slots.t, slots.length, (i) => {
      apSlots += slots.a[i]!;
      upMilli += Math.round(slots.b[i]! * 1000);
    });
  else
    for (const s of slots)
      if (inIntervals(open, s.t)) {
        apSlots += s.aps;
        upMilli += Math.round(s.upAps * 1000);
      }
  return wifiOf(apSlots, upMilli);
}

/** The figures from AP-slots and thousandths of AP-slots up. */
export const wifiOf = (apSlots: number, upMilli: number): WifiFigures => ({
  apSlots,
  upApSlots: upMilli / 1000,
  apAvailabilityPct: apSlots > 0 ? upMilli / (10 * apSlots) : null,
});

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

/**
 * Calls `visit(i)` for each i < n whose time `t[i]` lies in the sorted, disjoint intervals, in one
 * walk of both (t ascending, as columns are): a year of slots against hundreds of open intervals
 * without a binary search each.
 */
export function eachOpen(
  open: readonly Interval[],
  t: Float64Array,
  n: number,
  visit: (i: number) => void,
): void {
  let k = 0;
  for (let i = 0; i < n && k < open.length; i++) {
    const ti = t[i]!;
    while (k < open.length && open[k]![1] <= ti) k++;
    if (k < open.length && ti >= open[k]![0]) visit(i);
  }
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
 * @param wifi access points per slot (wifiFigures())
 */
export function qualityFigures(opts: {
  open: readonly Interval[];
  tests: readonly { t: number; downBps: number | null; upBps: number | null }[];
  slots: readonly PingSlot[] | PingColumns;
  /** Wi-Fi access points per slot; those starting outside open time are left out. */
  wifi?: readonly WifiSlot[] | WifiColumns;
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
  const count = (l: number | null, p: number | null) => {
    slots++;
    if (l !== null) latency.push(l);
    if (p !== null) loss.push(p);
    if (l === null || p === null) return;
    judged++;
    if (l <= th.videoLatencyMs && p <= th.videoLossPct) fit++;
  };
  const columns = opts.slots;
  if (columns instanceof PingColumns)
    eachOpen(opts.open, columns.t, columns.length, (i) => {
      const l = columns.a[i]!;
      const p = columns.b[i]!;
      count(Number.isNaN(l) ? null : l, Number.isNaN(p) ? null : p);
    });
  else for (const s of columns) if (inIntervals(opts.open, s.t)) count(s.latencyMs, s.lossPct);
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
    wifi: wifiFigures(opts.open, opts.wifi ?? []),
  };
}
