// What the team was told, as InfluxDB points, and read back after a restart. One point per alert,
// stamped with the problem's start: its reminders and its resolution rewrite the same point (same
// measurement, tags and time), so the newest point of each series says whether that alert is still open.
import type { QueryResult } from '../influx-http.ts';
import { int, type Point } from '../point.ts';
import { COLLECTOR_MEASUREMENTS } from '../schema.ts';
import {
  ALERT_KINDS,
  type AlertKind,
  METRIC_KINDS,
  type Notification,
  type PagedAlert,
  type Severity,
} from './policy.ts';

const MEASUREMENT = COLLECTOR_MEASUREMENTS.alert.measurement;

const KINDS: ReadonlySet<string> = new Set<AlertKind>(ALERT_KINDS);
const METRICS: ReadonlySet<string> = new Set<AlertKind>(METRIC_KINDS);

/** A firing, reminder or resolution as the `alert` point (fields in collector/schema.ts). */
export function alertPoint(n: Notification): Point {
  const a = n.alert;
  const tags: Record<string, string> = { kind: a.kind };
  if (a.uai) tags['uai'] = a.uai;
  // InfluxDB has no empty tag values: an empty subject lives in the key only.
  if (a.subject) tags['subject'] = a.subject;
  if (a.group) {
    tags['group_by'] = a.group.by;
    tags['group_value'] = a.group.value;
  }
  const resolved = n.type === 'resolved';
  const fields: Point['fields'] = {
    state: resolved ? 'resolved' : 'firing',
    key: a.key,
    severity: a.severity,
    paged_ms: int(a.notifiedAt ?? n.at),
    last_sent_ms: int(resolved ? (a.lastSentAt ?? n.at) : n.at),
  };
  if (resolved) fields['resolved_ms'] = int(n.at);
  if (a.members) fields['members'] = a.members.join(',');
  if (a.kind === 'mass_outage' && a.value !== undefined) fields['latest_member_ms'] = int(a.value);
  return { measurement: MEASUREMENT, tags, fields, time: a.since };
}

/** The newest point of every alert series: one InfluxQL statement, parsed by pagedAlerts. */
export const PAGED_ALERTS_QUERY = `SELECT * FROM "${MEASUREMENT}" GROUP BY * ORDER BY time DESC LIMIT 1`;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The alerts still open (newest point `firing`) in the answer to PAGED_ALERTS_QUERY, statement `i` of `r`.
 * Points that do not read as an alert (hand-written, another version's) are skipped.
 */
export function pagedAlerts(r: QueryResult, i = 0): PagedAlert[] {
  const out: PagedAlert[] = [];
  for (const s of r.results[i]?.series ?? []) {
    const row = Object.fromEntries(s.columns.map((c, j) => [c, s.values?.[0]?.[j]]));
    const tags = s.tags ?? {};
    const kind = tags['kind'] ?? '';
    const since = num(row['time']);
    const notifiedAt = num(row['paged_ms']);
    const key = row['key'];
    if (row['state'] !== 'firing' || !KINDS.has(kind) || typeof key !== 'string') continue;
    if (since === null || notifiedAt === null) continue;
    const a: PagedAlert = {
      key,
      kind: kind as AlertKind,
      severity: row['severity'] === 'warning' ? 'warning' : ('critical' as Severity),
      since,
      notifiedAt,
      lastSentAt: num(row['last_sent_ms']) ?? notifiedAt,
    };
    if (tags['uai']) a.uai = tags['uai'];
    if (METRICS.has(kind)) a.subject = tags['subject'] ?? '';
    if (kind === 'mass_outage') {
      const by = tags['group_by'];
      if ((by !== 'isp' && by !== 'commune') || !tags['group_value']) continue;
      a.group = { by, value: tags['group_value'] };
      a.members = String(row['members'] ?? '')
        .split(',')
        .filter(Boolean);
      const latest = num(row['latest_member_ms']);
      if (latest !== null) a.value = latest;
    }
    out.push(a);
  }
  return out;
}
