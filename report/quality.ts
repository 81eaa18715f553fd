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
  slots: readonly PingSlot[];
  contractedDownMbps: number | null;
  thresholds?: QualityThresholds;
}): QualityFigures {
  const th = opts.thresholds ?? DEFAULT_QUALITY_THRESHOLDS;
  const tests = opts.tests.filter((t) => inIntervals(opts.open, t.t));
  const down = defined(tests.map((t) => (t.downBps === null ? null : t.downBps / 1e6)));
  const up = defined(tests.map((t) => (t.upBps === null ? null : t.upBps / 1e6)));
  const slots = opts.slots.filter((s) => inIntervals(opts.open, s.t));
  const latency = defined(slots.map((s) => s.latencyMs));
  const loss = defined(slots.map((s) => s.lossPct));
  const judged = slots.filter((s) => s.latencyMs !== null && s.lossPct !== null);
  const fit = judged.filter((s) => s.latencyMs! <= th.videoLatencyMs && s.lossPct! <= th.videoLossPct);
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
    latencyP50Ms: percentile(latency, 50),
    latencyP95Ms: percentile(latency, 95),
    lossMeanPct: loss.length ? loss.reduce((a, b) => a + b, 0) / loss.length : null,
    pingSlots: slots.length,
    videoFitPct: pct(fit.length, judged.length),
  };
}
