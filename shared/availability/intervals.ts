// Interval arithmetic on [start, end) ms intervals, the only geometry the availability engine needs:
// open time, outages, measured time and excluded windows are all sets of intervals.
import type { Interval } from '../school-hours.ts';

export type { Interval };

/** Sorted, disjoint, non-empty intervals; overlapping or touching ones merged. Does not modify `list`. */
export function normalize(list: readonly Interval[]): Interval[] {
  const sorted = list.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: Interval[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

export function union(...lists: readonly Interval[][]): Interval[] {
  return normalize(lists.flat());
}

/** a ∩ b, both normalized. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const [a0, a1] = a[i]!;
    const [b0, b1] = b[j]!;
    const s = Math.max(a0, b0);
    const e = Math.min(a1, b1);
    if (e > s) out.push([s, e]);
    if (a1 < b1) i++;
    else j++;
  }
  return out;
}

/** a − b, both normalized. */
export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const [a0, a1] of a) {
    let s = a0;
    while (j < b.length && b[j]![1] <= s) j++;
    for (let k = j; k < b.length && b[k]![0] < a1; k++) {
      const [b0, b1] = b[k]!;
      if (b0 > s) out.push([s, b0]);
      s = Math.max(s, b1);
      if (s >= a1) break;
    }
    if (s < a1) out.push([s, a1]);
  }
  return out;
}

/** Total length in ms. */
export function totalMs(list: readonly Interval[]): number {
  let sum = 0;
  for (const [a, b] of list) sum += b - a;
  return sum;
}

/** The part of normalized `list` inside [start, end), found by bisection (long lists, many days). */
export function clip(list: readonly Interval[], start: number, end: number): Interval[] {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]![1] <= start) lo = mid + 1;
    else hi = mid;
  }
  const out: Interval[] = [];
  for (let i = lo; i < list.length && list[i]![0] < end; i++)
    out.push([Math.max(list[i]![0], start), Math.min(list[i]![1], end)]);
  return out.filter(([a, b]) => b > a);
}
