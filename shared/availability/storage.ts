// What is stored for reports that outlive the raw data (90 days): per school and local day, the
// engine's additive totals in ms, never a percentage. A month, a school year, a commune, an ISP or
// the fleet is then a sum of stored days and schools, and its rates are computed from the sums
// (availabilityRates), so stored figures reproduce the engine's exactly. Counts and the longest
// outage do not add across days (one outage spans several): they come from the outage records,
// which the long policy keeps for ever.

import {
  type AvailabilityTotals,
  addTotals,
  emptyTotals,
  type SchoolAvailabilityInput,
  schoolAvailability,
  totalsOf,
} from './engine.ts';
import { clip, normalize } from './intervals.ts';
import { daysOf } from './periods.ts';

export interface DailyTotals extends AvailabilityTotals {
  /** Local date, YYYY-MM-DD in the calendar's zone. */
  date: string;
  startMs: number;
  endMs: number;
}

/**
 * The totals of each local day of the input's period (days cut at local midnight in `timeZone`, the
 * first and last clipped to the period). Recompute the days an annotation touches when one is added.
 */
export function dailyTotals(input: SchoolAvailabilityInput, timeZone: string): DailyTotals[] {
  const endMs = input.asOfMs === undefined ? input.endMs : Math.min(input.endMs, input.asOfMs);
  // A year of minute batches makes long lists: sort them once, hand each day its slice.
  const open = normalize(input.open);
  const measured = normalize(input.measured);
  return daysOf(input.startMs, endMs, timeZone).map((day) => ({
    date: day.label,
    startMs: day.startMs,
    endMs: day.endMs,
    ...totalsOf(
      schoolAvailability({
        ...input,
        startMs: day.startMs,
        endMs: day.endMs,
        open: clip(open, day.startMs, day.endMs),
        measured: clip(measured, day.startMs, day.endMs),
      }),
    ),
  }));
}

/** The sum of stored totals (days of a month, months of a year, schools of a group). */
export function sumTotals(list: readonly AvailabilityTotals[]): AvailabilityTotals {
  return list.reduce<AvailabilityTotals>((sum, t) => addTotals(sum, t), emptyTotals());
}
