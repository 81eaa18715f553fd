// The dashboards read the `school` measurement the collector writes from the registry
// (collector/school-points.ts) without a time filter: the latest point per school.
import { f, m, schoolFilter, t } from './kit.ts';

/**
 * Grafana variable regex: the value is the UAI, the text the whole label ("UAI name"), or the bare UAI
 * of a school the registry lacks.
 */
export const SCHOOL_LABEL_REGEX = '/^(?<text>(?<value>[0-9]{7}[A-Z])(?: .*)?)$/';

/** The registry tags the fleet filters on, as fields of the newest point (tags of a subquery's row). */
const COMMUNE = 'registry_commune';
const ISP = 'registry_isp';

/**
 * Each school's newest registry point, whole, one row per UAI stamped with its own time: `fields`
 * (field name → alias) of that point only. A school whose commune, ISP or name changed has a series per
 * tag set; last() per field would merge them with time 0 and fill a field the newest point lacks from
 * an older one (InfluxDB 1.x, see report/source.ts readSchools), and the fleet filter on the points'
 * tags would still find the school under the commune or ISP it left. So the newest point is taken
 * across series (GROUP BY "uai" ORDER BY time DESC LIMIT 1) and the filter applies to its tags, read as
 * values. `scope`: 'fleet' filters on the `$commune` and `$isp` variables (regexes, as kit.ts
 * fleetFilter), 'school' takes the `$uai` variable's school. Raises (at build time) if a field is not
 * in collector/schema.ts.
 */
export function latestSchoolPoints(fields: Record<string, string>, scope: 'fleet' | 'school'): string {
  const select = Object.entries(fields)
    .map(([field, alias]) => `${f('school', field)} AS "${alias}"`)
    .join(', ');
  const aliases = Object.values(fields)
    .map((alias) => `"${alias}"`)
    .join(', ');
  if (scope === 'school') {
    // One UAI: every series of the school, merged, newest point first.
    return `SELECT ${select} FROM ${m('school')} WHERE ${schoolFilter('school')} ORDER BY time DESC LIMIT 1`;
  }
  const newest = `SELECT ${select}, ${t('school', 'commune')} AS "${COMMUNE}", ${t('school', 'isp')} AS "${ISP}"
     FROM ${m('school')} GROUP BY ${t('school', 'uai')} ORDER BY time DESC LIMIT 1`;
  return `SELECT ${aliases} FROM (${newest})
     WHERE "${COMMUNE}" =~ /^$commune$/ AND "${ISP}" =~ /^$isp$/ GROUP BY "uai" ORDER BY time DESC`;
}
