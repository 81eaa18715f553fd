import { describe, expect, it } from 'vitest';
import {
  AlertPolicy,
  type PagedAlert,
  type PolicyRules,
  type SchoolInfo,
} from '../../collector/alerts/policy.ts';
import { policyContext } from '../../collector/alerts/schedule.ts';
import { uaiCheckLetter } from '../../shared/uai.ts';

const S = 1000;
const MIN = 60 * S;
const uai = (n: number) => {
  const d = String(690000 + n).padStart(7, '0');
  return d + uaiCheckLetter(d);
};
const A = uai(1);
// Tuesday 18 November 2025, 10:00 in Paris (09:00 UTC): a school day.
const TUE_10H = Date.parse('2025-11-18T09:00:00Z');
// Tuesday 18 November 2025, 20:00 in Paris.
const TUE_20H = Date.parse('2025-11-18T19:00:00Z');
const WED_NEXT_8H = Date.parse('2025-11-19T07:00:00Z');
const THU_8H = Date.parse('2025-11-20T07:00:00Z');

const RULES: PolicyRules = {
  graceMs: 2 * MIN,
  rounds: 3,
  reminderMs: 60 * MIN,
  mass: { windowMs: 60 * S, minSchools: 5 },
  brokerSettleMs: 10 * S,
  maxTrackedSeries: 1000,
};

function schools(n: number, isp = (i: number) => (i <= 20 ? 'Orange' : 'Free')): Map<string, SchoolInfo> {
  const m = new Map<string, SchoolInfo>();
  for (let i = 1; i <= n; i++)
    m.set(uai(i), {
      uai: uai(i),
      name: `École ${i}`,
      commune: `Commune ${i % 7}`,
      isp: isp(i),
      hours: 'school',
    });
  return m;
}

function policy(
  over: Partial<PolicyRules> = {},
  cfg: Partial<Parameters<typeof policyContext>[0]> = {},
  reg = schools(30),
) {
  const ctx = policyContext(
    {
      timezone: 'Europe/Paris',
      hours: {
        school: {
          mon: ['08:00-12:00', '13:30-16:30'],
          tue: ['08:00-12:00', '13:30-16:30'],
          thu: ['08:00-12:00', '13:30-16:30'],
          fri: ['08:00-12:00', '13:30-16:30'],
          holidays: ['zone-a'],
        },
      },
      calendars: { 'zone-a': [{ name: 'Noël', from: '2025-12-20', to: '2026-01-04' }] },
      maintenance: [],
      silences: [],
      ...cfg,
    },
    (u) => reg.get(u),
  );
  return new AlertPolicy({ ...RULES, ...over }, ctx);
}

const offline = (u: string, since: number) => ({
  kind: 'school' as const,
  uai: u,
  state: 'offline' as const,
  reason: 'will',
  since,
});
const online = (u: string, at: number) => ({
  kind: 'school' as const,
  uai: u,
  state: 'online' as const,
  reason: 'birth',
  since: at,
});

/** Tick every second from `from` to `to`, collecting what was sent. */
function run(p: AlertPolicy, from: number, to: number, step = S) {
  const sent = [];
  for (let t = from; t <= to; t += step) sent.push(...p.tick(t).notifications);
  return sent;
}

describe('alert policy: grace, resolution, reminders', () => {
  it('fires one offline alert once the grace has passed since the last sign of life, and one resolution with the duration', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    p.handle(offline(A, TUE_10H), TUE_10H + 30 * S);
    expect(run(p, TUE_10H + 30 * S, TUE_10H + 2 * MIN - S)).toEqual([]);
    const fired = run(p, TUE_10H + 2 * MIN, TUE_10H + 10 * MIN);
    expect(fired.map((n) => [n.type, n.alert.kind, n.at])).toEqual([
      ['firing', 'school_offline', TUE_10H + 2 * MIN],
    ]);
    const resolved = p.handle(online(A, TUE_10H + 10 * MIN), TUE_10H + 10 * MIN);
    expect(resolved.map((n) => [n.type, n.durationMs])).toEqual([['resolved', 10 * MIN]]);
    expect(run(p, TUE_10H + 10 * MIN, TUE_10H + 20 * MIN, 10 * S)).toEqual([]);
  });

  it('fires nothing for a school flapping every 20 s for 5 minutes under a 2-minute grace', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    const sent = [];
    for (let t = TUE_10H; t < TUE_10H + 5 * MIN; t += 40 * S) {
      sent.push(...p.handle(offline(A, t), t + 5 * S), ...run(p, t + 5 * S, t + 20 * S));
      sent.push(...p.handle(online(A, t + 20 * S), t + 20 * S), ...run(p, t + 20 * S, t + 40 * S));
    }
    expect(sent).toEqual([]);
  });

  it('reminds at the configured interval while the alert stays open', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    p.handle(offline(A, TUE_10H), TUE_10H);
    const sent = run(p, TUE_10H, TUE_10H + 2 * MIN + 65 * MIN, 10 * S);
    expect(sent.map((n) => [n.type, n.at - TUE_10H])).toEqual([
      ['firing', 2 * MIN],
      ['reminder', 62 * MIN],
    ]);
    // 12:02 falls in the lunch break: no reminder until 13:30.
    const later = run(p, TUE_10H + 67 * MIN, TUE_10H + 4 * 60 * MIN, 10 * S);
    expect(later.map((n) => [n.type, n.at - TUE_10H])).toEqual([['reminder', 210 * MIN]]);
  });
});

/** What the previous run sent for school `u`, as alerts/records.ts reads it back after a restart. */
const pagedOffline = (u: string, since: number, notifiedAt: number, lastSentAt = notifiedAt): PagedAlert => ({
  key: `school_offline/${u}`,
  kind: 'school_offline',
  severity: 'critical',
  uai: u,
  since,
  notifiedAt,
  lastSentAt,
});

describe('alert policy: restarts (what the previous run sent is restored, never sent again)', () => {
  it('does not send a duplicate after a collector restart, and resolves with the whole duration', () => {
    const p = policy();
    p.broker(true, TUE_10H);
    expect(p.restore([pagedOffline(A, TUE_10H - 30 * MIN, TUE_10H - 28 * MIN)], TUE_10H)).toEqual([]);
    p.handle(offline(A, TUE_10H - 30 * MIN), TUE_10H);
    expect(run(p, TUE_10H + 10 * S, TUE_10H + 5 * MIN)).toEqual([]);
    expect(
      p.handle(online(A, TUE_10H + 6 * MIN), TUE_10H + 6 * MIN).map((n) => [n.type, n.durationMs]),
    ).toEqual([['resolved', 36 * MIN]]);
  });

  it('pages an outage older than the grace that the previous run held back (outside hours): not taken as sent', () => {
    const p = policy();
    // Down since Tuesday 20:00 (nobody paged at night); the collector restarts on Thursday at 07:50.
    p.broker(true, THU_8H - 10 * MIN);
    p.restore([], THU_8H - 10 * MIN);
    p.handle(offline(A, TUE_20H), THU_8H - 10 * MIN);
    const sent = run(p, THU_8H - 10 * MIN, THU_8H + MIN);
    expect(sent.map((n) => [n.type, n.at, n.alert.since])).toEqual([['firing', THU_8H, TUE_20H]]);
  });

  it('sends only the resolution for a school that came back while the collector was down', () => {
    const p = policy();
    p.broker(true, TUE_10H);
    p.restore([pagedOffline(A, TUE_10H - 30 * MIN, TUE_10H - 28 * MIN)], TUE_10H);
    p.handle(offline(A, TUE_10H - 30 * MIN), TUE_10H);
    // The retained birth replaces the remembered offline.
    const back = p.handle(online(A, TUE_10H + S), TUE_10H + S);
    expect(back.map((n) => [n.type, n.alert.since, n.durationMs])).toEqual([
      ['resolved', TUE_10H - 30 * MIN, 30 * MIN + S],
    ]);
    expect(run(p, TUE_10H + S, TUE_10H + 5 * MIN)).toEqual([]);
  });

  it('keeps the reminder rhythm of the previous run', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    p.restore([pagedOffline(A, TUE_10H - 40 * MIN, TUE_10H - 38 * MIN, TUE_10H - 38 * MIN)], TUE_10H);
    p.handle(offline(A, TUE_10H - 40 * MIN), TUE_10H);
    const sent = run(p, TUE_10H, TUE_10H + 30 * MIN, 10 * S);
    expect(sent.map((n) => [n.type, n.at - TUE_10H])).toEqual([['reminder', 22 * MIN]]);
  });

  it('adopts a record read late (InfluxDB answered after the hold): the alert this run had not sent yet is not sent', () => {
    const p = policy();
    p.broker(true, TUE_10H);
    // Gone on from unknown: the retained will made the school offline "since the restart".
    p.handle(offline(A, TUE_10H), TUE_10H);
    expect(run(p, TUE_10H, TUE_10H + MIN)).toEqual([]);
    p.restore([pagedOffline(A, TUE_10H - 30 * MIN, TUE_10H - 28 * MIN)], TUE_10H + MIN);
    expect(run(p, TUE_10H + MIN, TUE_10H + 5 * MIN)).toEqual([]);
    const back = p.handle(online(A, TUE_10H + 6 * MIN), TUE_10H + 6 * MIN);
    expect(back.map((n) => [n.type, n.alert.since])).toEqual([['resolved', TUE_10H - 30 * MIN]]);
  });

  it('leaves an alert this run already sent again as it is when the record comes later still', () => {
    const p = policy();
    p.broker(true, TUE_10H);
    p.handle(offline(A, TUE_10H), TUE_10H);
    expect(run(p, TUE_10H, TUE_10H + 3 * MIN).map((n) => n.type)).toEqual(['firing']);
    p.restore([pagedOffline(A, TUE_10H - 30 * MIN, TUE_10H - 28 * MIN)], TUE_10H + 4 * MIN);
    const back = p.handle(online(A, TUE_10H + 6 * MIN), TUE_10H + 6 * MIN);
    expect(back.map((n) => [n.type, n.alert.since])).toEqual([['resolved', TUE_10H]]);
  });

  it('restores a mass outage with its members: no school paged on its own, one grouped resolution', () => {
    const p = policy();
    p.broker(true, TUE_10H);
    const members = [1, 2, 3, 4, 5, 6].map(uai);
    p.restore(
      [
        {
          key: `mass_outage/isp/Orange/${TUE_10H - 20 * MIN}`,
          kind: 'mass_outage',
          severity: 'critical',
          group: { by: 'isp', value: 'Orange' },
          members,
          since: TUE_10H - 20 * MIN,
          value: TUE_10H - 19 * MIN,
          notifiedAt: TUE_10H - 18 * MIN,
          lastSentAt: TUE_10H - 18 * MIN,
        },
      ],
      TUE_10H,
    );
    for (const u of members) p.handle(offline(u, TUE_10H - 20 * MIN), TUE_10H);
    expect(run(p, TUE_10H, TUE_10H + 5 * MIN)).toEqual([]);
    const back = members.flatMap((u) => p.handle(online(u, TUE_10H + 6 * MIN), TUE_10H + 6 * MIN));
    expect(back.map((n) => [n.type, n.alert.kind, n.durationMs])).toEqual([
      ['resolved', 'mass_outage', 26 * MIN],
    ]);
    expect(run(p, TUE_10H + 6 * MIN, TUE_10H + 10 * MIN)).toEqual([]);
  });

  it('restores a metric alert: bad rounds do not page it again, K good rounds resolve it', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    p.restore(
      [
        {
          key: `loss/${A}/anchor`,
          kind: 'loss',
          severity: 'warning',
          uai: A,
          subject: 'anchor',
          since: TUE_10H - 10 * MIN,
          notifiedAt: TUE_10H - 10 * MIN,
          lastSentAt: TUE_10H - 10 * MIN,
        },
      ],
      TUE_10H,
    );
    const round = (bad: boolean) =>
      ({
        kind: 'round',
        uai: A,
        metric: 'loss',
        subject: 'anchor',
        bad,
        severity: 'warning',
        value: 1,
      }) as const;
    for (let i = 0; i < 4; i++) p.handle(round(true), TUE_10H + i * MIN);
    expect(run(p, TUE_10H, TUE_10H + 4 * MIN, 10 * S)).toEqual([]);
    expect(p.handle(round(false), TUE_10H + 5 * MIN)).toEqual([]);
    expect(p.handle(round(false), TUE_10H + 6 * MIN)).toEqual([]);
    expect(p.handle(round(false), TUE_10H + 7 * MIN).map((n) => [n.type, n.durationMs])).toEqual([
      ['resolved', 17 * MIN],
    ]);
  });

  it('resolves a restored broker alert once this run has its broker', () => {
    const p = policy();
    const broker: PagedAlert = {
      key: 'collector_broker',
      kind: 'collector_broker',
      severity: 'critical',
      since: TUE_10H - 5 * MIN,
      notifiedAt: TUE_10H - 3 * MIN,
      lastSentAt: TUE_10H - 3 * MIN,
    };
    expect(p.restore([broker], TUE_10H)).toEqual([]);
    expect(p.broker(true, TUE_10H + S).map((n) => [n.type, n.alert.kind])).toEqual([
      ['resolved', 'collector_broker'],
    ]);
    const q = policy();
    q.broker(true, TUE_10H);
    expect(q.restore([broker], TUE_10H + S).map((n) => [n.type, n.alert.kind])).toEqual([
      ['resolved', 'collector_broker'],
    ]);
  });
});

describe('alert policy: school hours and holidays', () => {
  it('pages nobody outside hours, then reports the outage when hours begin if it is still going on', () => {
    const p = policy();
    p.broker(true, TUE_20H - 10 * MIN);
    p.handle(offline(A, TUE_20H), TUE_20H);
    const out = p.tick(TUE_20H + 3 * MIN);
    expect(out.notifications).toEqual([]);
    expect(out.muted.map((m) => m.reason)).toEqual(['outside_hours']);
    // Wednesday: closed all day.
    expect(run(p, WED_NEXT_8H, WED_NEXT_8H + 4 * MIN)).toEqual([]);
    const atOpening = run(p, THU_8H - MIN, THU_8H + MIN);
    expect(atOpening.map((n) => [n.type, n.at, n.delayedBy, n.alert.since])).toEqual([
      ['firing', THU_8H, 'outside_hours', TUE_20H],
    ]);
  });

  it('says nothing at all when an outage outside hours ends before they begin', () => {
    const p = policy();
    p.broker(true, TUE_20H - 10 * MIN);
    p.handle(offline(A, TUE_20H), TUE_20H);
    run(p, TUE_20H, TUE_20H + 10 * MIN, 10 * S);
    expect(p.handle(online(A, TUE_20H + 60 * MIN), TUE_20H + 60 * MIN)).toEqual([]);
    expect(run(p, THU_8H, THU_8H + MIN)).toEqual([]);
  });

  it('stays quiet during the holidays of the school calendar', () => {
    const p = policy();
    const christmasMonday = Date.parse('2025-12-22T09:00:00Z');
    p.broker(true, christmasMonday - MIN);
    p.handle(offline(A, christmasMonday), christmasMonday);
    expect(run(p, christmasMonday, christmasMonday + 10 * MIN, 10 * S)).toEqual([]);
  });
});

describe('alert policy: mass outages, the collector, parents and children', () => {
  it('sends one grouped alert when 20 schools of one ISP drop within 30 s, and one resolution', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    for (let i = 1; i <= 20; i++)
      p.handle(offline(uai(i), TUE_10H + Math.round((i * 30 * S) / 20)), TUE_10H + 40 * S);
    const sent = run(p, TUE_10H + 40 * S, TUE_10H + 5 * MIN);
    expect(sent.map((n) => [n.type, n.alert.kind, n.alert.group, n.alert.members?.length])).toEqual([
      ['firing', 'mass_outage', { by: 'isp', value: 'Orange' }, 20],
    ]);
    const back = [];
    for (let i = 1; i <= 20; i++)
      back.push(...p.handle(online(uai(i), TUE_10H + 10 * MIN), TUE_10H + 10 * MIN));
    expect(back.map((n) => [n.type, n.alert.kind, n.durationMs])).toEqual([
      ['resolved', 'mass_outage', 10 * MIN - 1500],
    ]);
    expect(run(p, TUE_10H + 10 * MIN, TUE_10H + 12 * MIN)).toEqual([]);
  });

  it('gives the schools still down their own alert when the mass outage shrinks below the minimum', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    for (let i = 1; i <= 6; i++) p.handle(offline(uai(i), TUE_10H), TUE_10H);
    expect(run(p, TUE_10H, TUE_10H + 3 * MIN).map((n) => n.alert.kind)).toEqual(['mass_outage']);
    for (let i = 1; i <= 5; i++) p.handle(online(uai(i), TUE_10H + 4 * MIN), TUE_10H + 4 * MIN);
    const sent = run(p, TUE_10H + 4 * MIN, TUE_10H + 5 * MIN);
    expect(sent.map((n) => [n.type, n.alert.kind, n.alert.uai])).toEqual([
      ['firing', 'school_offline', uai(6)],
    ]);
  });

  it('never fires school alerts while the collector has lost its broker, but tells about the broker', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    p.handle(offline(A, TUE_10H), TUE_10H);
    p.broker(false, TUE_10H + 10 * S);
    const sent = run(p, TUE_10H + 10 * S, TUE_10H + 5 * MIN);
    expect(sent.map((n) => n.alert.kind)).toEqual(['collector_broker']);
    const up = p.broker(true, TUE_10H + 6 * MIN);
    expect(up.map((n) => [n.type, n.alert.kind])).toEqual([['resolved', 'collector_broker']]);
    // Retained statuses arrive within the settle time: the school is back, nothing to say about it.
    expect(p.handle(online(A, TUE_10H + 6 * MIN + 2 * S), TUE_10H + 6 * MIN + 2 * S)).toEqual([]);
    expect(run(p, TUE_10H + 6 * MIN, TUE_10H + 8 * MIN)).toEqual([]);
  });

  it('lets a school offline suppress its access-point alerts', () => {
    const p = policy({ rounds: 2 });
    p.broker(true, TUE_10H - 10 * MIN);
    p.handle(offline(A, TUE_10H), TUE_10H);
    const ap = {
      kind: 'round' as const,
      uai: A,
      metric: 'ap_down' as const,
      subject: 'ap-cm1',
      bad: true,
      severity: 'critical' as const,
    };
    p.handle(ap, TUE_10H + S);
    p.handle(ap, TUE_10H + 2 * S);
    const sent = run(p, TUE_10H + 2 * S, TUE_10H + 3 * MIN);
    expect(sent.map((n) => n.alert.kind)).toEqual(['school_offline']);
    expect(p.mutedCount.parent_down).toBe(1);
  });

  it('fires a metric alert after K consecutive bad rounds only, and resolves after K good ones', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    const round = (bad: boolean, value: number) =>
      ({
        kind: 'round',
        uai: A,
        metric: 'loss',
        subject: 'anchor',
        bad,
        severity: 'warning',
        value,
      }) as const;
    p.handle(round(true, 12), TUE_10H);
    p.handle(round(true, 12), TUE_10H + MIN);
    p.handle(round(false, 0), TUE_10H + 2 * MIN);
    p.handle(round(true, 12), TUE_10H + 3 * MIN);
    expect(p.tick(TUE_10H + 3 * MIN).notifications).toEqual([]);
    p.handle(round(true, 15), TUE_10H + 4 * MIN);
    p.handle(round(true, 30), TUE_10H + 5 * MIN);
    expect(p.tick(TUE_10H + 5 * MIN).notifications.map((n) => [n.type, n.alert.kind, n.alert.value])).toEqual(
      [['firing', 'loss', 30]],
    );
    expect(p.handle(round(false, 0), TUE_10H + 6 * MIN)).toEqual([]);
    expect(p.handle(round(false, 0), TUE_10H + 7 * MIN)).toEqual([]);
    expect(p.handle(round(false, 0), TUE_10H + 8 * MIN).map((n) => [n.type, n.durationMs])).toEqual([
      ['resolved', 3 * MIN],
    ]);
  });

  it('pages nobody for the loss an outage caused, replayed after it, yet still pages loss measured after', () => {
    const p = policy();
    p.broker(true, TUE_10H - 10 * MIN);
    const loss = (t: number) =>
      ({
        kind: 'round',
        uai: A,
        metric: 'loss',
        subject: 'anchor',
        bad: true,
        severity: 'critical',
        value: 100,
        t,
      }) as const;
    // A bad streak begun before the cut does not carry over it.
    p.handle(loss(TUE_10H - 10 * S), TUE_10H - 10 * S);
    p.handle(loss(TUE_10H - 5 * S), TUE_10H - 5 * S);
    p.handle(offline(A, TUE_10H), TUE_10H);
    // Back within the grace: the rounds measured during the cut arrive with the spool, after the recovery.
    p.handle(online(A, TUE_10H + 20 * S), TUE_10H + 20 * S);
    for (const t of [2, 7, 12, 17]) p.handle(loss(TUE_10H + t * S), TUE_10H + 21 * S);
    expect(run(p, TUE_10H + 21 * S, TUE_10H + 5 * MIN)).toEqual([]);
    expect(p.open()).toEqual([]);
    // Loss measured after the recovery is the school's real problem: three rounds (not one more
    // added to the streak from before the cut), one page.
    p.handle(loss(TUE_10H + 30 * S), TUE_10H + 31 * S);
    expect(p.tick(TUE_10H + 31 * S).notifications).toEqual([]);
    for (const t of [35, 40]) p.handle(loss(TUE_10H + t * S), TUE_10H + (t + 1) * S);
    expect(p.tick(TUE_10H + 41 * S).notifications.map((n) => [n.type, n.alert.kind])).toEqual([
      ['firing', 'loss'],
    ]);
  });

  it('holds alerts in a maintenance window or a silence and sends them after, if still open', () => {
    const p = policy(
      { reminderMs: 0 },
      {
        maintenance: [{ from: '2025-11-18T09:00:00Z', to: '2025-11-18T09:30:00Z', isp: ['Orange'] }],
        silences: [{ from: '2025-11-18T09:00:00Z', to: '2025-11-18T10:00:00Z', uai: [uai(25)] }],
      },
    );
    p.broker(true, TUE_10H - 10 * MIN);
    p.handle(offline(A, TUE_10H), TUE_10H);
    p.handle(offline(uai(25), TUE_10H), TUE_10H);
    p.handle(offline(uai(26), TUE_10H), TUE_10H);
    const sent = run(p, TUE_10H, TUE_10H + 65 * MIN, 10 * S);
    expect(sent.map((n) => [n.alert.uai, n.at - TUE_10H, n.delayedBy])).toEqual([
      [uai(26), 2 * MIN, undefined],
      [A, 30 * MIN, 'maintenance'],
      [uai(25), 60 * MIN, 'silenced'],
    ]);
    expect(p.mutedCount.maintenance).toBe(1);
    expect(p.mutedCount.silenced).toBe(1);
  });

  it('bounds the metric series it tracks and counts what it dropped', () => {
    const p = policy({ maxTrackedSeries: 2 });
    for (const subject of ['a', 'b', 'c'])
      p.handle(
        { kind: 'round', uai: A, metric: 'ap_down', subject, bad: true, severity: 'critical' },
        TUE_10H,
      );
    expect(p.droppedSeries).toBe(1);
  });
});

describe('alert policy: windows kept outside the config', () => {
  it('honours silences the HTTP API holds, through the extra mute hook', () => {
    const reg = schools(3);
    const ctx = policyContext(
      { timezone: 'Europe/Paris', hours: {}, calendars: {}, maintenance: [], silences: [] },
      (u) => reg.get(u),
      (a, _school, now) => (a.uai === A && now < TUE_10H + 10 * MIN ? 'silenced' : null),
    );
    const p = new AlertPolicy(RULES, ctx);
    p.broker(true, TUE_10H - 10 * MIN);
    p.handle(offline(A, TUE_10H), TUE_10H);
    p.handle(offline(uai(2), TUE_10H), TUE_10H);
    const sent = run(p, TUE_10H, TUE_10H + 11 * MIN, 10 * S);
    expect(sent.map((n) => [n.alert.uai, n.at - TUE_10H, n.delayedBy])).toEqual([
      [uai(2), 2 * MIN, undefined],
      [A, 10 * MIN, 'silenced'],
    ]);
  });
});

describe('the French holiday calendar example', () => {
  it('is valid under collector.alerts.calendars and closes a zone A school during its winter holidays', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { resolveCollectorConfig } = await import('../../collector/config.ts');
    const { calendars } = parse(readFileSync('examples/holidays-fr-2025-2026.yaml', 'utf8')) as {
      calendars: object;
    };
    const cfg = resolveCollectorConfig({
      alerts: { hours: { school: { mon: ['08:30-16:30'], holidays: ['zone-a', 'feries'] } }, calendars },
    });
    expect(Object.keys(cfg.alerts.calendars)).toEqual(['zone-a', 'zone-b', 'zone-c', 'feries']);
    const reg = schools(1);
    const ctx = policyContext(cfg.alerts, (u) => reg.get(u));
    expect(ctx.isOpen(A, Date.parse('2026-02-09T09:00:00Z'))).toBe(false);
    expect(ctx.isOpen(A, Date.parse('2026-02-02T09:00:00Z'))).toBe(true);
    expect(ctx.isOpen(A, Date.parse('2026-05-25T09:00:00Z'))).toBe(false);
  });
});
