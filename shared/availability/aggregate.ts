// Figures for a commune, an ISP or the whole fleet: the schools' millisecond totals are summed and
// the rates computed once from the sums. A school open 153 h weighs 153 h; averaging the schools'
// percentages would give a school open 4 h as much say as one open all month.
import type { SchoolRef } from './annotations.ts';
import {
  type AvailabilityRates,
  type AvailabilityTotals,
  addTotals,
  availabilityRates,
  emptyTotals,
  type SchoolAvailability,
} from './engine.ts';

export interface SchoolRow {
  school: SchoolRef;
  figures: SchoolAvailability;
}

export interface AggregateAvailability extends AvailabilityTotals, AvailabilityRates {
  schoolCount: number;
  /** Sum of the schools' outage counts. */
  outageCount: number;
  outageCountCalendar: number;
  /** The longest outage of any school in the group, and its school (null without outages). */
  longestOutageMs: number;
  longestOutageUai: string | null;
}

/**
 * One group's figures: totals summed, then `availabilityPct = 100 × Σ upMs / Σ (upMs + lostMs)`,
 * i.e. each school's availability weighted by its measured open time (its open time when fully
 * measured), and `coveragePct = 100 × Σ (upMs + lostMs) / Σ openMs`.
 */
export function aggregate(rows: readonly SchoolRow[]): AggregateAvailability {
  let totals = emptyTotals();
  let outageCount = 0;
  let outageCountCalendar = 0;
  let longestOutageMs = 0;
  let longestOutageUai: string | null = null;
  for (const { school, figures } of rows) {
    totals = addTotals(totals, figures);
    outageCount += figures.outageCount;
    outageCountCalendar += figures.outageCountCalendar;
    if (figures.longestOutageMs > longestOutageMs) {
      longestOutageMs = figures.longestOutageMs;
      longestOutageUai = school.uai;
    }
  }
  return {
    ...totals,
    ...availabilityRates(totals),
    schoolCount: rows.length,
    outageCount,
    outageCountCalendar,
    longestOutageMs,
    longestOutageUai,
  };
}

/**
 * Figures per commune or per ISP, sorted by name; schools the registry gives none are grouped under
 * `null`, never dropped.
 */
export function aggregateBy(
  rows: readonly SchoolRow[],
  by: 'commune' | 'isp',
): { key: string | null; figures: AggregateAvailability }[] {
  const groups = new Map<string | null, SchoolRow[]>();
  for (const row of rows) {
    const key = row.school[by] ?? null;
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  }
  return [...groups]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b, 'fr')))
    .map(([key, list]) => ({ key, figures: aggregate(list) }));
}
