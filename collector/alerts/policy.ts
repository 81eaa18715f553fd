// The alert policy: when to tell the team, once, and when to say it is over. Deterministic: every
// method takes `now`; the schedule (hours, maintenance, silences) comes in through PolicyContext.
import type { PresenceState } from '../presence/state.ts';

/** Every alert kind, as silences name them (`kinds`). */
export const ALERT_KINDS = [
  'school_offline',
  'school_degraded',
  'loss',
  'latency',
  'ap_down',
  'wan_saturation',
  /** An agent's clock off by more than clockDriftMs (its subject is the agent id). */
  'clock_drift',
  'mass_outage',
  'collector_broker',
  /** Two boxes use one UAI and agent id (presence/identity.ts): subject = the agent id. */
  'duplicate_identity',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
/** Alert kinds judged on rounds of measurements (bad rounds in a row fire, as many good ones resolve). */
export const METRIC_KINDS = ['loss', 'latency', 'ap_down', 'wan_saturation', 'clock_drift'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];
export type Severity = 'critical' | 'warning';
export interface Threshold {
  value: number;
  level: Severity;
}

export interface Alert {
  key: string;
  kind: AlertKind;
  severity: Severity;
  uai?: string;
  /** What inside the school: an access point, a ping target, an interface. */
  subject?: string;
  /** Mass outage: what the schools share, and which schools. */
  group?: { by: 'isp' | 'commune'; value: string };
  members?: string[];
  /** When the problem began (an outage's start is the school's last sign of life). */
  since: number;
  /** Set once the team has been told; a resolution is sent only then. */
  notifiedAt: number | null;
  lastSentAt: number | null;
  /** The mass alert this school's alert is folded into. */
  groupKey?: string;
  /** The last bad round's measured value: % for loss and WAN use, ms for latency, s for clock drift (+ ahead). */
  value?: number;
  /** The threshold that value crossed, and which one. */
  threshold?: Threshold;
  /** WAN saturation: the throughput behind the percentage, bits per second. */
  rateBps?: number;
  reason?: string;
  /** Why it is due but not yet sent (outside hours, maintenance...): said when it is finally sent. */
  heldBy?: MuteReason;
}

export type NotificationType = 'firing' | 'reminder' | 'resolved';

export interface Notification {
  type: NotificationType;
  alert: Alert;
  at: number;
  /** For resolved: how long the problem lasted. */
  durationMs?: number;
  /** Fired late because it began outside school hours, in maintenance or while silenced. */
  delayedBy?: MuteReason;
}

export type MuteReason =
  | 'outside_hours'
  | 'maintenance'
  | 'silenced'
  | 'parent_down'
  | 'collector_disconnected';

/** Something muted, counted by reason (the record stays: outages are still written). */
export interface Muted {
  alert: Alert;
  reason: MuteReason;
}

export interface SchoolInfo {
  uai: string;
  name: string;
  commune: string;
  isp: string;
  hours: string;
}

export interface PolicyContext {
  school(uai: string): SchoolInfo | undefined;
  /** Within the school's opening hours (and not on holiday). */
  isOpen(uai: string, now: number): boolean;
  /** Maintenance window or silence matching this alert now. */
  muted(alert: Alert, school: SchoolInfo | undefined, now: number): 'maintenance' | 'silenced' | null;
}

export interface PolicyRules {
  graceMs: number;
  /** Consecutive bad rounds before a metric alert, and good rounds before it resolves. */
  rounds: number;
  /** 0 = no reminders. */
  reminderMs: number;
  mass: { windowMs: number; minSchools: number };
  /** After the collector's broker connection comes back, hold school alerts this long (retained statuses arrive). */
  brokerSettleMs: number;
  /** Bound on per-(school, metric, subject) round counters. */
  maxTrackedSeries: number;
}

export type PolicyEvent =
  | {
      kind: 'school';
      uai: string;
      state: PresenceState;
      reason: string;
      /** For offline: the outage start; otherwise the change time. */
      since: number;
    }
  | {
      kind: 'round';
      uai: string;
      metric: MetricKind;
      subject: string;
      bad: boolean;
      severity: Severity;
      value?: number;
      threshold?: Threshold;
      rateBps?: number;
      /** When the agent measured it (its clock): a round from before the school's last recovery is ignored. */
      t?: number;
    }
  /** Two boxes under one identity: detected (since = the first takeover), or over. */
  | { kind: 'identity'; uai: string; agent: string; duplicated: boolean; since: number };

/**
 * An alert a previous run of the collector sent and never resolved, as read back from InfluxDB
 * (alerts/records.ts). notifiedAt: when it was first sent; lastSentAt: its last firing or reminder (ms).
 */
export type PagedAlert = Pick<
  Alert,
  'key' | 'kind' | 'severity' | 'uai' | 'subject' | 'group' | 'members' | 'since' | 'value'
> & { notifiedAt: number; lastSentAt: number };

const METRIC_KIND_SET: ReadonlySet<AlertKind> = new Set(METRIC_KINDS);

interface Series {
  bad: number;
  good: number;
}

const schoolAlertKey = (kind: AlertKind, uai: string) => `${kind}/${uai}`;
const metricKey = (metric: MetricKind, uai: string, subject: string) => `${metric}/${uai}/${subject}`;
const BROKER_KEY = 'collector_broker';

export class AlertPolicy {
  readonly alerts = new Map<string, Alert>();
  private readonly series = new Map<string, Series>();
  /** When each school last came back from offline or degraded: rounds measured before describe the outage. */
  private readonly recoveredAt = new Map<string, number>();
  private brokerDownSince: number | null = null;
  private brokerUpAt = Number.NEGATIVE_INFINITY;
  readonly mutedCount: Record<MuteReason, number> = {
    outside_hours: 0,
    maintenance: 0,
    silenced: 0,
    parent_down: 0,
    collector_disconnected: 0,
  };
  droppedSeries = 0;

  constructor(
    private readonly rules: PolicyRules,
    private readonly ctx: PolicyContext,
  ) {}

  open(): Alert[] {
    return [...this.alerts.values()];
  }

  /** A presence change or a metric round. Returns notifications due now (resolutions mostly). */
  handle(ev: PolicyEvent, now: number): Notification[] {
    if (ev.kind === 'identity') return this.onIdentity(ev, now);
    return ev.kind === 'school' ? this.onSchool(ev, now) : this.onRound(ev, now);
  }

  /**
   * After a restart: the alerts the previous run sent and never resolved count as sent, so they are never
   * paged again and are resolved like any other. Called before the rebuilt presence is replayed, or later
   * when InfluxDB answered after the hold: an alert this run has not sent yet takes the record's start and
   * counts as sent; one this run already sent again stays as it is. A mass outage brings its member
   * schools back as folded into it. Returns what is due now (the broker alert, when the broker is back).
   */
  restore(paged: readonly PagedAlert[], now: number): Notification[] {
    const out: Notification[] = [];
    for (const r of paged) {
      const current = this.alerts.get(r.key);
      if (current) {
        if (current.notifiedAt === null) {
          current.notifiedAt = r.notifiedAt;
          current.lastSentAt = r.lastSentAt;
          current.since = Math.min(current.since, r.since);
          delete current.heldBy;
        }
        continue;
      }
      this.alerts.set(r.key, { ...r, ...(r.members ? { members: [...r.members] } : {}) });
      // Resolved after as many good rounds as any metric alert, not at the first good one.
      if (METRIC_KIND_SET.has(r.kind)) this.series.set(r.key, { bad: this.rules.rounds, good: 0 });
      if (r.kind !== 'mass_outage') continue;
      for (const uai of r.members ?? []) {
        const key = schoolAlertKey('school_offline', uai);
        const m = this.alerts.get(key);
        if (!m)
          this.alerts.set(key, {
            key,
            kind: 'school_offline',
            severity: 'critical',
            uai,
            since: r.since,
            notifiedAt: null,
            lastSentAt: null,
            groupKey: r.key,
          });
        else if (m.notifiedAt === null && !m.groupKey) m.groupKey = r.key;
      }
      // Members this run already paged or grouped elsewhere (InfluxDB answered late) have left it.
      const group = this.alerts.get(r.key)!;
      const gone = group.members!.filter(
        (u) => this.alerts.get(schoolAlertKey('school_offline', u))?.groupKey !== r.key,
      );
      if (gone.length) {
        group.members = group.members!.filter((u) => !gone.includes(u));
        if (group.members.length < this.rules.mass.minSchools) {
          for (const u of group.members)
            delete this.alerts.get(schoolAlertKey('school_offline', u))!.groupKey;
          out.push(...this.resolve(r.key, now));
        }
      }
    }
    if (
      this.alerts.has(BROKER_KEY) &&
      this.brokerDownSince === null &&
      this.brokerUpAt > Number.NEGATIVE_INFINITY
    )
      out.push(...this.resolve(BROKER_KEY, now));
    return out;
  }

  broker(up: boolean, now: number): Notification[] {
    if (!up) {
      this.brokerDownSince ??= now;
      if (!this.alerts.has(BROKER_KEY))
        this.alerts.set(BROKER_KEY, {
          key: BROKER_KEY,
          kind: 'collector_broker',
          severity: 'critical',
          since: now,
          notifiedAt: null,
          lastSentAt: null,
        });
      return [];
    }
    this.brokerDownSince = null;
    this.brokerUpAt = now;
    // Schools that went silent while we were cut off are judged afresh once the retained statuses are in.
    return this.resolve(BROKER_KEY, now);
  }

  private onSchool(ev: Extract<PolicyEvent, { kind: 'school' }>, now: number): Notification[] {
    const out: Notification[] = [];
    const offKey = schoolAlertKey('school_offline', ev.uai);
    const degKey = schoolAlertKey('school_degraded', ev.uai);
    // The school's own state explains its loss and latency: streaks start afresh on each side of it.
    if (ev.state !== 'online' || this.alerts.has(offKey) || this.alerts.has(degKey))
      this.forgetUnsentMetrics(ev.uai);
    if (ev.state === 'online' && (this.alerts.has(offKey) || this.alerts.has(degKey))) {
      this.recoveredAt.delete(ev.uai);
      this.recoveredAt.set(ev.uai, now);
      if (this.recoveredAt.size > this.rules.maxTrackedSeries)
        this.recoveredAt.delete(this.recoveredAt.keys().next().value!);
    }
    if (ev.state === 'offline') {
      out.push(...this.resolve(degKey, now));
      if (!this.alerts.has(offKey))
        this.alerts.set(offKey, {
          key: offKey,
          kind: 'school_offline',
          severity: 'critical',
          uai: ev.uai,
          since: ev.since,
          notifiedAt: null,
          lastSentAt: null,
          reason: ev.reason,
        });
    } else if (ev.state === 'degraded') {
      out.push(...this.resolve(offKey, now));
      if (!this.alerts.has(degKey))
        this.alerts.set(degKey, {
          key: degKey,
          kind: 'school_degraded',
          severity: 'warning',
          uai: ev.uai,
          since: ev.since,
          notifiedAt: null,
          lastSentAt: null,
          reason: ev.reason,
        });
    } else {
      out.push(...this.resolve(offKey, now), ...this.resolve(degKey, now));
    }
    return out;
  }

  /** A duplicated identity is told once (no grace: the takeover loop is already proven), and closed when over. */
  private onIdentity(ev: Extract<PolicyEvent, { kind: 'identity' }>, now: number): Notification[] {
    const key = `duplicate_identity/${ev.uai}/${ev.agent}`;
    if (!ev.duplicated) return this.resolve(key, now);
    if (!this.alerts.has(key))
      this.alerts.set(key, {
        key,
        kind: 'duplicate_identity',
        severity: 'warning',
        uai: ev.uai,
        subject: ev.agent,
        since: ev.since,
        notifiedAt: null,
        lastSentAt: null,
      });
    return [];
  }

  /** Metric streaks of a school and its metric alerts nobody has heard of yet. */
  private forgetUnsentMetrics(uai: string): void {
    for (const key of this.series.keys()) if (key.split('/', 2)[1] === uai) this.series.delete(key);
    for (const [key, a] of this.alerts)
      if (a.uai === uai && METRIC_KIND_SET.has(a.kind) && a.notifiedAt === null) this.alerts.delete(key);
  }

  private onRound(ev: Extract<PolicyEvent, { kind: 'round' }>, now: number): Notification[] {
    // Replayed or late rounds from an outage the school alert already covered: no second page for it.
    if (ev.bad && ev.t !== undefined && ev.t < (this.recoveredAt.get(ev.uai) ?? Number.NEGATIVE_INFINITY))
      return [];
    const key = metricKey(ev.metric, ev.uai, ev.subject);
    let s = this.series.get(key);
    if (!s) {
      if (!ev.bad) return this.resolve(key, now);
      if (this.series.size >= this.rules.maxTrackedSeries) {
        this.droppedSeries++;
        return [];
      }
      s = { bad: 0, good: 0 };
      this.series.set(key, s);
    }
    if (ev.bad) {
      s.bad++;
      s.good = 0;
    } else {
      s.good++;
      s.bad = 0;
    }
    const existing = this.alerts.get(key);
    if (ev.bad && s.bad >= this.rules.rounds) {
      // The value, its threshold and its rate always come from the same round.
      const figures = { value: ev.value, threshold: ev.threshold, rateBps: ev.rateBps };
      if (existing) {
        Object.assign(existing, figures);
        if (ev.severity === 'critical') existing.severity = 'critical';
      } else
        this.alerts.set(key, {
          key,
          kind: ev.metric,
          severity: ev.severity,
          uai: ev.uai,
          subject: ev.subject,
          since: now,
          notifiedAt: null,
          lastSentAt: null,
          ...figures,
        });
    }
    if (!ev.bad && s.good >= this.rules.rounds) {
      this.series.delete(key);
      return this.resolve(key, now);
    }
    return [];
  }

  /** Close an alert: the team hears of it only if they heard it begin. */
  private resolve(key: string, now: number): Notification[] {
    const a = this.alerts.get(key);
    if (!a) return [];
    this.alerts.delete(key);
    const out: Notification[] = [];
    if (a.notifiedAt !== null) out.push({ type: 'resolved', alert: a, at: now, durationMs: now - a.since });
    if (a.groupKey) out.push(...this.leaveGroup(a, now));
    return out;
  }

  private leaveGroup(member: Alert, now: number): Notification[] {
    const g = this.alerts.get(member.groupKey!);
    if (!g?.members) return [];
    g.members = g.members.filter((u) => u !== member.uai);
    if (g.members.length >= this.rules.mass.minSchools) return [];
    // Too few left to call it a mass outage: close it; the schools still down get their own alert now.
    for (const uai of g.members) {
      const m = this.alerts.get(schoolAlertKey('school_offline', uai));
      if (m) delete m.groupKey;
    }
    return this.resolve(g.key, now);
  }

  private muteReason(a: Alert, now: number): MuteReason | null {
    const cutOff = this.brokerDownSince !== null || now - this.brokerUpAt < this.rules.brokerSettleMs;
    if (cutOff && a.kind !== 'collector_broker') return 'collector_disconnected';
    const school = a.uai ? this.ctx.school(a.uai) : undefined;
    if (a.uai && a.kind !== 'school_offline' && a.kind !== 'school_degraded') {
      // Parent and child: an offline or cut-off school explains its access points, loss and latency.
      if (this.alerts.has(schoolAlertKey('school_offline', a.uai))) return 'parent_down';
      if (a.kind !== 'ap_down' && this.alerts.has(schoolAlertKey('school_degraded', a.uai)))
        return 'parent_down';
    }
    const window = this.ctx.muted(a, school, now);
    if (window) return window;
    const uais = a.members ?? (a.uai ? [a.uai] : []);
    if (uais.length && !uais.some((u) => this.ctx.isOpen(u, now))) return 'outside_hours';
    return null;
  }

  private due(a: Alert, now: number): boolean {
    if (a.kind === 'school_offline' || a.kind === 'school_degraded' || a.kind === 'collector_broker')
      return now - a.since >= this.rules.graceMs;
    return true;
  }

  /** Form mass outages from offline schools that are due and share an ISP or a commune. */
  private group(now: number): void {
    const loose = [...this.alerts.values()].filter(
      (a) => a.kind === 'school_offline' && a.notifiedAt === null && !a.groupKey,
    );
    for (const a of loose) {
      if (a.groupKey || !this.due(a, now)) continue;
      const school = this.ctx.school(a.uai!);
      if (!school) continue;
      for (const by of ['isp', 'commune'] as const) {
        const value = school[by];
        const openGroup = [...this.alerts.values()].find(
          (g) => g.kind === 'mass_outage' && g.group?.by === by && g.group.value === value,
        );
        if (openGroup && a.since <= (openGroup.value ?? openGroup.since) + this.rules.mass.windowMs) {
          a.groupKey = openGroup.key;
          openGroup.members!.push(a.uai!);
          openGroup.value = Math.max(openGroup.value ?? 0, a.since);
          break;
        }
        const peers = loose.filter(
          (p) =>
            !p.groupKey &&
            this.ctx.school(p.uai!)?.[by] === value &&
            Math.abs(p.since - a.since) <= this.rules.mass.windowMs,
        );
        if (peers.length < this.rules.mass.minSchools) continue;
        const since = Math.min(...peers.map((p) => p.since));
        const key = `mass_outage/${by}/${value}/${since}`;
        this.alerts.set(key, {
          key,
          kind: 'mass_outage',
          severity: 'critical',
          group: { by, value },
          members: peers.map((p) => p.uai!),
          since,
          notifiedAt: null,
          lastSentAt: null,
          // The latest member start: later drops within the window still join.
          value: Math.max(...peers.map((p) => p.since)),
        });
        for (const p of peers) p.groupKey = key;
        break;
      }
    }
  }

  /** Time passes: fire what is due, remind what stays open, report what hours had held back. */
  tick(now: number): { notifications: Notification[]; muted: Muted[] } {
    this.group(now);
    const notifications: Notification[] = [];
    const muted: Muted[] = [];
    for (const a of this.alerts.values()) {
      if (a.groupKey || !this.due(a, now)) continue;
      const why = this.muteReason(a, now);
      if (a.notifiedAt === null) {
        if (why) {
          if (a.heldBy !== why) {
            this.mutedCount[why]++;
            muted.push({ alert: a, reason: why });
            a.heldBy = why;
          }
          continue;
        }
        const delayedBy = a.heldBy;
        delete a.heldBy;
        a.notifiedAt = now;
        a.lastSentAt = now;
        notifications.push({ type: 'firing', alert: { ...a }, at: now, ...(delayedBy ? { delayedBy } : {}) });
      } else if (
        !why &&
        this.rules.reminderMs > 0 &&
        now - (a.lastSentAt ?? a.notifiedAt) >= this.rules.reminderMs
      ) {
        a.lastSentAt = now;
        notifications.push({ type: 'reminder', alert: { ...a }, at: now });
      }
    }
    return { notifications, muted };
  }
}
