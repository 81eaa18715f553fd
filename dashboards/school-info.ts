// The dashboards read the `school` measurement the collector writes from the registry
// (collector/school-points.ts) without a time filter: the latest point per school.

/**
 * Grafana variable regex: the value is the UAI, the text the whole label ("UAI name"), or the bare UAI
 * of a school the registry lacks.
 */
export const SCHOOL_LABEL_REGEX = '/^(?<text>(?<value>[0-9]{7}[A-Z])(?: .*)?)$/';
