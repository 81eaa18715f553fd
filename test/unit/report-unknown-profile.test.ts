// A registry school naming an hours profile the report's config lacks (a typo, a profile removed
// from collector.alerts.hours): it was reported open 24 h a day, its nights and weekends counted as
// teaching hours lost, and it weighed ~5× in its commune, ISP and fleet. Now it has no school-hours
// figures ("not measured"), weighs nothing in the totals, and the report names it.
import { describe, expect, it } from 'vitest';
import { calendarFrom } from '../../collector/alerts/schedule.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { computeReport } from '../../report/figures.ts';
import { unknownProfilesText } from '../../report/run.ts';
import type { SchoolData } from '../../report/source.ts';
import { monthPeriod } from '../../shared/availability/index.ts';
import { reportSchool } from '../harness/availability.ts';

const TZ = 'Europe/Paris';
const calendar = calendarFrom(resolveCollectorConfig({ alerts: { timezone: TZ } }).alerts);
const period = monthPeriod(2026, 11, TZ);
const school = (uai: string, hours: string) =>
  reportSchool(uai, { hours, contractedDownMbps: null, contractedUpMbps: null });
// Both schools down the whole month.
const down: SchoolData = {
  outages: [{ startMs: period.startMs, endMs: period.endMs, cause: 'wan_cut' }],
  measured: [],
  speedTests: [],
  pingSlots: [],
};

describe('a school whose hours profile the config lacks', () => {
  const schools = [school('0690001B', 'school'), school('0690002C', 'ecole-mercredi')];
  const report = computeReport({
    period,
    calendar,
    asOfMs: period.endMs,
    nowMs: period.endMs,
    data: {
      schools,
      bySchool: new Map(schools.map((s) => [s.uai, down])),
      parts: [{ policy: 'raw', startMs: period.startMs, endMs: period.endMs }],
    },
  });
  const [known, typo] = report.schools;

  it('has no open time (school-hours figures not measured), not 720 h open and lost', () => {
    expect(known!.total.openMs).toBeGreaterThan(100 * 3_600_000);
    expect(typo!.total.openMs).toBe(0);
    expect(typo!.total.lostMs).toBe(0);
    expect(typo!.total.availabilityPct).toBeNull();
    // Its calendar figures, which need no hours profile, stand.
    expect(typo!.total.calendarUptimePct).toBe(0);
  });

  it('weighs nothing in the totals: the fleet is the other school', () => {
    expect(report.fleet.total.openMs).toBe(known!.total.openMs);
    expect(report.fleet.total.lostMs).toBe(known!.total.lostMs);
  });

  it('is named in the report, with the key to fix, in English and French', () => {
    expect(report.unknownHoursProfiles).toEqual([{ profile: 'ecole-mercredi', uais: ['0690002C'] }]);
    const text = unknownProfilesText(report);
    expect(text).toContain('"ecole-mercredi" (0690002C)');
    expect(text).toContain('collector.alerts.hours');
    expect(text).toContain("pas de chiffres en heures d'ouverture");
    expect(unknownProfilesText({ unknownHoursProfiles: [] })).toBe('');
  });

  it('any name the config lacks, a prototype key included (toString), each named with its schools', () => {
    const three = [
      school('0690001B', 'school'),
      school('0690003D', 'toString'),
      school('0690004E', 'ecole-mercredi'),
      school('0690005F', 'toString'),
    ];
    const r = computeReport({
      period,
      calendar,
      asOfMs: period.endMs,
      nowMs: period.endMs,
      data: {
        schools: three,
        bySchool: new Map(three.map((s) => [s.uai, down])),
        parts: [{ policy: 'raw', startMs: period.startMs, endMs: period.endMs }],
      },
    });
    expect(r.unknownHoursProfiles).toEqual([
      { profile: 'toString', uais: ['0690003D', '0690005F'] },
      { profile: 'ecole-mercredi', uais: ['0690004E'] },
    ]);
    expect(r.schools.slice(1).every((s) => s.total.openMs === 0)).toBe(true);
    expect(r.fleet.total.openMs).toBe(r.schools[0]!.total.openMs);
  });
});
