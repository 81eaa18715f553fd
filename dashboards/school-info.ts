// The dashboards read the `school` measurement the collector writes from the registry
// (collector/school-points.ts) without a time filter: the latest point per school.

/** Grafana variable regex: the value is the UAI, the text the whole label. */
export const SCHOOL_LABEL_REGEX = '/^(?<text>(?<value>[0-9]{7}[A-Z]) .*)$/';
