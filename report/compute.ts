// The report from InfluxDB a chunk of schools at a time: read a chunk's data (report/source.ts),
// compute its schools' figures (report/figures.ts), drop the data, go on. Only per-school figures
// (a few KB each) are held for the whole fleet; communes, ISPs and the fleet are aggregated from
// them at the end (weighted by open time). Peak memory follows the chunk, not the fleet.
import type { Interval } from '../shared/availability/index.ts';
import {
  assembleReport,
  type Report,
  type ReportInput,
  reportOpenTime,
  type SchoolReport,
  schoolReport,
} from './figures.ts';
import {
  noReadStats,
  type ReadStats,
  readSchools,
  readSchoolsData,
  type SourceOptions,
  sourceParts,
  UNREADABLE_NAMED,
} from './source.ts';

/** Schools read per chunk: 25 × a year of open-time ping slots (~16,000 each, ~1 MB) and its answers. */
export const SCHOOLS_PER_CHUNK = 25;

export interface ComputedReport {
  report: Report;
  /** Local school-days read from day rollups vs slot by slot. */
  stats: ReadStats;
}

/**
 * Reads and computes the report for `source`'s period, `schoolsPerChunk` schools at a time.
 * @param input everything computeReport() takes but the data (period, calendar, annotations, clocks)
 * @throws ReportQueryError when InfluxDB cannot answer (a day rollup that does not decode is read slot
 *   by slot and named in report.unreadableDayRollups)
 */
export async function computeReportFromInflux(
  source: SourceOptions,
  input: Omit<ReportInput, 'data'>,
  schoolsPerChunk = SCHOOLS_PER_CHUNK,
): Promise<ComputedReport> {
  const schools = await readSchools(source);
  source.onProgress?.('schools', 1, 1);
  const { period, calendar } = input;
  const stats = noReadStats();
  const reports: SchoolReport[] = [];
  // While a chunk's figures are computed, the next chunk is read: InfluxDB and Node work side by side.
  const read = (i: number) => {
    const chunk = schools.slice(i, i + schoolsPerChunk);
    const open = new Map<string, Interval[]>(
      chunk.map((s) => [
        s.uai,
        reportOpenTime(calendar, s, period.startMs, period.endMs, input.publicHolidays),
      ]),
    );
    // Quality figures look only at slots starting in open time: the others are never kept.
    const data = readSchoolsData(
      source,
      chunk.map((c) => c.uai),
      (uai) => open.get(uai) ?? [],
    );
    data.catch(() => {}); // awaited below; not an unhandled rejection while the previous chunk computes
    return { chunk, open, data };
  };
  let next = schools.length ? read(0) : null;
  for (let i = 0; next; i += schoolsPerChunk) {
    const { chunk, open, data } = next;
    const { bySchool, stats: s } = await data;
    next = i + schoolsPerChunk < schools.length ? read(i + schoolsPerChunk) : null;
    stats.rollupDays += s.rollupDays;
    stats.slotDays += s.slotDays;
    stats.unreadable.count += s.unreadable.count;
    stats.unreadable.first.push(
      ...s.unreadable.first.slice(0, UNREADABLE_NAMED - stats.unreadable.first.length),
    );
    for (const school of chunk)
      reports.push(schoolReport(input, school, bySchool.get(school.uai), open.get(school.uai)));
    source.onProgress?.(
      'schools read and computed',
      Math.min(i + schoolsPerChunk, schools.length),
      schools.length,
    );
  }
  return { report: assembleReport(input, reports, sourceParts(source), stats.unreadable), stats };
}
