import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { Alerting } from '../../collector/alerts/alerting.ts';
import type { Channel, Delivery } from '../../collector/alerts/channels/channel.ts';
import { AlertsConfig } from '../../collector/alerts/config.ts';
import {
  type AnchorFigures,
  describe as describeAlert,
  formatDuration,
  formatValue,
  render,
} from '../../collector/alerts/messages.ts';
import type { Notification, SchoolInfo } from '../../collector/alerts/policy.ts';
import { roundsOfBatch } from '../../collector/alerts/rounds.ts';
import { alertView } from '../../collector/http/alert-history.ts';
import { DEFAULT_THRESHOLDS } from '../../collector/thresholds.ts';
import { createLogger } from '../../shared/log.ts';
import { isOpen, openMsBetween, parseRange, type SchoolCalendar } from '../../shared/school-hours.ts';
import { addVigieFormats } from '../../shared/validate.ts';

const MIN = 60_000;
const cal: SchoolCalendar = {
  timezone: 'Europe/Paris',
  profiles: {
    school: {
      days: {
        mon: ['08:30-11:30', '13:30-16:30'],
        tue: ['08:30-11:30', '13:30-16:30'],
        thu: ['08:30-16:30'],
      },
      holidays: ['zone-c'],
    },
  },
  calendars: { 'zone-c': [{ name: 'Printemps', from: '2026-04-18', to: '2026-05-03' }] },
};

describe('school hours', () => {
  it('reads local time in the school time zone across daylight saving time', () => {
    // Monday 30 March 2026 (summer time, UTC+2): 08:30 local = 06:30 UTC.
    expect(isOpen(cal, 'school', Date.parse('2026-03-30T06:29:00Z'))).toBe(false);
    expect(isOpen(cal, 'school', Date.parse('2026-03-30T06:30:00Z'))).toBe(true);
    // Monday 23 March 2026 (winter time, UTC+1): 08:30 local = 07:30 UTC.
    expect(isOpen(cal, 'school', Date.parse('2026-03-23T07:00:00Z'))).toBe(false);
    expect(isOpen(cal, 'school', Date.parse('2026-03-23T07:30:00Z'))).toBe(true);
    // Wednesday closed, lunch break closed.
    expect(isOpen(cal, 'school', Date.parse('2026-03-25T09:00:00Z'))).toBe(false);
    expect(isOpen(cal, 'school', Date.parse('2026-03-23T11:00:00Z'))).toBe(false);
  });

  it('closes on the holidays of the calendars the profile names, first and last day included', () => {
    expect(isOpen(cal, 'school', Date.parse('2026-04-16T09:00:00Z'))).toBe(true);
    expect(isOpen(cal, 'school', Date.parse('2026-04-20T09:00:00Z'))).toBe(false);
    expect(isOpen(cal, 'school', Date.parse('2026-04-30T09:00:00Z'))).toBe(false);
    expect(isOpen(cal, 'school', Date.parse('2026-05-04T09:00:00Z'))).toBe(true);
  });

  it('treats an unknown profile as always open rather than silent', () => {
    expect(isOpen(cal, 'nope', Date.parse('2026-03-29T01:00:00Z'))).toBe(true);
  });

  it('counts the part of an outage inside school hours', () => {
    // Monday 23 March 2026 from 07:00 to Thursday 26 March 09:00 local (UTC+1).
    const start = Date.parse('2026-03-23T06:00:00Z');
    const end = Date.parse('2026-03-26T08:00:00Z');
    const monday = 6 * 60;
    const tuesday = 6 * 60;
    const thursdayMorning = 30;
    expect(openMsBetween(cal, 'school', start, end)).toBe((monday + tuesday + thursdayMorning) * MIN);
    expect(openMsBetween(cal, 'school', end, start)).toBe(0);
  });

  it('rejects malformed ranges with a message that shows the expected form', () => {
    expect(() => parseRange('8h-12h')).toThrow(/08:30-16:30/);
    expect(() => parseRange('12:00-08:00')).toThrow(/end must come after/);
  });
});

const school: SchoolInfo = {
  uai: '0690001B',
  name: 'École Jean Macé',
  commune: 'Villeurbanne',
  isp: 'Orange',
  hours: 'school',
};
const opts = {
  timezone: 'Europe/Paris',
  schoolUrl: 'https://grafana.example/d/school?var-uai={uai}',
  fleetUrl: 'https://grafana.example/d/fleet',
};
const since = Date.parse('2025-11-18T09:00:00Z');
const firing: Notification = {
  type: 'firing',
  at: since + 2 * MIN,
  alert: {
    key: 'k',
    kind: 'school_offline',
    severity: 'critical',
    uai: school.uai,
    since,
    notifiedAt: null,
    lastSentAt: null,
  },
};

describe('alert messages', () => {
  const fr = { ...opts, language: 'fr' as const };
  const en = { ...opts, language: 'en' as const };
  const one = () => school;
  const resolved = (n: Notification, minutes: number): Notification => ({
    ...n,
    type: 'resolved',
    at: since + minutes * MIN,
    durationMs: minutes * MIN,
  });
  const offline = (reason: string): Notification => ({ ...firing, alert: { ...firing.alert, reason } });

  it('a duplicated identity: one agent id on two boxes, or two agent ids on one broker account, each with its own remedy', () => {
    const dup = (subject: string): Notification => ({
      ...firing,
      alert: { ...firing.alert, kind: 'duplicate_identity', severity: 'warning', subject },
    });
    const sameId = render(dup('box'), one, en);
    expect(sameId.title).toMatch(/duplicated identity \(two boxes\): agent box$/);
    expect(sameId.text).toMatch(/give each box its own agent id/);
    const sharedAccount = render(dup('box+box-copie'), one, en);
    expect(sharedAccount.title).toMatch(/duplicated identity \(two boxes\): agents box, box-copie$/);
    expect(sharedAccount.text).toMatch(/different agent ids \(box, box-copie\) use the same broker account/);
    expect(sharedAccount.text).toMatch(/its own broker account \(vigie enroll\)/);
    expect(render(dup('box+box-copie'), one, fr).text).toMatch(
      /même compte broker.*son propre compte broker/,
    );
  });

  it('names the school, commune, UAI, since when, why, and links to its dashboard, in French', () => {
    const r = render(offline('will'), one, fr);
    expect(r.title).toBe('[ALERTE] École Jean Macé (Villeurbanne, UAI 0690001B) : hors ligne');
    expect(r.text.split('\n')).toEqual([
      r.title,
      'Début : mar. 18 nov., 10:00 (dernier signe de vie) — en cours depuis 2 min',
      'Cause : connexion perdue sans au revoir (le broker a vu tomber la connexion du boîtier : lien coupé, coupure de courant ou boîtier bloqué)',
      'Tableau de bord : https://grafana.example/d/school?var-uai=0690001B',
    ]);
    expect(r.link).toBe('https://grafana.example/d/school?var-uai=0690001B');
    expect(r.linkLabel).toBe('Tableau de bord');
  });

  it('gives a recovery its end time and its duration, in both languages', () => {
    const en83 = render(resolved(offline('silent'), 83), one, en);
    expect(en83.title).toBe('[RESOLVED] École Jean Macé (Villeurbanne, UAI 0690001B): offline');
    expect(en83.text).toContain(
      'Started: Tue 18 Nov, 10:00 (last sign of life) — Ended: Tue 18 Nov, 11:23 — duration 1 h 23 min',
    );
    expect(en83.text).toContain('Cause: silence since the last sign of life');
    expect(en83.status).toBe('resolved');
    const fr83 = render(resolved(offline('stopped'), 83), one, fr);
    expect(fr83.text).toContain('Fin : mar. 18 nov., 11:23 — durée 1 h 23 min');
    expect(fr83.text).toContain('Cause : le boîtier s’est arrêté proprement');
  });

  it('says why a school is offline for each presence reason, retained ones included', () => {
    const causes = (reason: string) => [
      render(offline(reason), one, fr).text.split('\n')[2],
      render(offline(reason), one, en).text.split('\n')[2],
    ];
    expect(causes('retained_will')).toEqual(causes('will'));
    expect(causes('retained_stopped')).toEqual(causes('stopped'));
    expect(causes('rebuilt')).toEqual([
      'Cause : hors ligne avant le redémarrage du collecteur (état relu dans InfluxDB)',
      'Cause: offline before the collector restarted (state read back from InfluxDB)',
    ]);
    expect(causes('something_new')).toEqual([
      'Cause : raison signalée « something_new »',
      'Cause: reported reason "something_new"',
    ]);
  });

  it('gives a degraded school its cause and the figures of the last round, with units', () => {
    const degraded = (reason: string): Notification => ({
      ...firing,
      alert: { ...firing.alert, kind: 'school_degraded', severity: 'warning', reason },
    });
    const dead = { lossPct: { 'anchor-a': 100, 'anchor-b': 100 }, latencyMs: {} };
    const lossy = {
      lossPct: { 'anchor-a': 35.25, 'anchor-b': 0 },
      latencyMs: { 'anchor-a': 350.4, 'anchor-b': 12 },
    };
    const cause = (n: Notification, o: typeof fr | typeof en, f?: AnchorFigures) =>
      render(n, one, o, f).text.split('\n')[2];
    expect(render(degraded('internet_unreachable'), one, fr, dead).title).toBe(
      '[ALERTE] École Jean Macé (Villeurbanne, UAI 0690001B) : accès internet dégradé',
    );
    expect(cause(degraded('internet_unreachable'), fr, dead)).toBe(
      'Cause : internet injoignable (aucune des 2 ancres internet ne répond, perte 100 %) alors que le boîtier joint encore le collecteur',
    );
    expect(cause(degraded('internet_unreachable'), en, dead)).toBe(
      'Cause: internet unreachable (no answer from any of the 2 internet anchors, loss 100 %) while the box still reaches the collector',
    );
    expect(cause(degraded('loss'), fr, lossy)).toBe(
      'Cause : pertes de paquets élevées vers internet (perte 35,3 % vers anchor-a au dernier relevé)',
    );
    expect(cause(degraded('latency'), en, lossy)).toBe(
      'Cause: high latency to the internet (median latency 350 ms to anchor-a in the last round)',
    );
    // Without a round seen since the collector started: the cause, without a figure it does not have.
    expect(cause(degraded('loss'), en)).toBe('Cause: high packet loss to the internet');
    // Over: the cause as it was sent, and the round that ended it.
    const back = render(
      resolved(degraded('loss'), 40),
      one,
      fr,
      { lossPct: { a: 0 }, latencyMs: { a: 11.4 } },
      lossy,
    );
    expect(back.text.split('\n').slice(1, 4)).toEqual([
      'Début : mar. 18 nov., 10:00 — Fin : mar. 18 nov., 10:40 — durée 40 min',
      'Cause : pertes de paquets élevées vers internet (perte 35,3 % vers anchor-a au dernier relevé)',
      'Dernier relevé : perte 0 %, latence 11 ms',
    ]);
  });

  it('gives metric alerts the measured value, its unit and the threshold crossed', () => {
    const metric = (a: Partial<Notification['alert']>): Notification => ({
      ...firing,
      alert: { ...firing.alert, ...a },
    });
    const loss = metric({
      kind: 'loss',
      subject: 'anchor-1',
      value: 23.45,
      threshold: { value: 10, level: 'critical' },
    });
    expect(render(loss, one, fr).title).toBe(
      '[ALERTE] École Jean Macé (Villeurbanne, UAI 0690001B) : pertes de paquets vers anchor-1',
    );
    expect(render(loss, one, fr).text).toContain(
      'Cause : perte mesurée 23,5 % vers anchor-1, au-delà du seuil critique de 10 %',
    );
    expect(render(loss, one, en).text).toContain(
      'Cause: measured loss 23.5 % to anchor-1, past the critical threshold of 10 %',
    );
    const latency = metric({
      kind: 'latency',
      severity: 'warning',
      subject: 'anchor-1',
      value: 95.4,
      threshold: { value: 80, level: 'warning' },
    });
    expect(render(latency, one, fr).text).toContain(
      'Cause : latence médiane mesurée 95 ms vers anchor-1, au-delà du seuil d’alerte de 80 ms',
    );
    expect(render(latency, one, en).text).toContain('past the warning threshold of 80 ms');
    const wan = metric({
      kind: 'wan_saturation',
      subject: 'wan0',
      value: 96.2,
      rateBps: 96.15e6,
      threshold: { value: 95, level: 'critical' },
    });
    expect(render(wan, one, fr).text).toContain(
      'Cause : lien wan0 utilisé à 96,2 % du débit souscrit (96,2 Mb/s), au-delà du seuil critique de 95 %',
    );
    expect(render(wan, one, en).text).toContain(
      'Cause: link wan0 used at 96.2 % of the contracted bandwidth (96.2 Mb/s), past the critical threshold of 95 %',
    );
    const ap = metric({ kind: 'ap_down', subject: 'ap-cm1' });
    expect(render(ap, one, fr).title).toBe(
      '[ALERTE] École Jean Macé (Villeurbanne, UAI 0690001B) : borne Wi-Fi hors service : ap-cm1',
    );
    expect(render(ap, one, en).text).toContain('Cause: access point ap-cm1 is off or does not answer');
    const over = render(resolved(loss, 30), one, en);
    expect(over.text).toContain('Ended: Tue 18 Nov, 10:30 — duration 30 min');
    expect(over.text).not.toMatch(/\[\d/);
    expect(over.title).toBe(
      '[RESOLVED] École Jean Macé (Villeurbanne, UAI 0690001B): packet loss to anchor-1',
    );
  });

  it('says when an alert comes late because it began outside hours, and reminds that it still goes on', () => {
    const late = render({ ...firing, delayedBy: 'outside_hours' }, one, fr);
    expect(late.text).toContain('Envoyé en différé : survenu hors des horaires scolaires');
    const reminder = render({ ...offline('will'), type: 'reminder', at: since + 4 * 60 * MIN }, one, en);
    expect(reminder.title).toMatch(/^\[REMINDER\] /);
    expect(reminder.text).toContain(
      'Started: Tue 18 Nov, 10:00 (last sign of life) — still ongoing, for 4 h',
    );
  });

  const members = Array.from({ length: 12 }, (_, i) => `069000${i}X`);
  const mass: Notification = {
    type: 'firing',
    at: since + 2 * MIN,
    alert: {
      key: 'm',
      kind: 'mass_outage',
      severity: 'critical',
      group: { by: 'isp', value: 'Orange' },
      members,
      since,
      notifiedAt: null,
      lastSentAt: null,
      value: since + 30_000,
    },
  };
  const many = (u: string) => ({ ...school, uai: u, name: `École ${u.slice(-2)}` });

  it('lists the schools of a mass outage with commune and UAI, and names the ISP in each language', () => {
    const w = { massWindowMs: 60_000 };
    const f = render(mass, many, { ...fr, ...w });
    expect(f.title).toBe('[ALERTE] panne groupée : 12 écoles (FAI Orange)');
    expect(f.text).toContain(
      'Cause probable : une panne commune aux écoles du FAI Orange (12 écoles hors ligne, tombées à moins de 1 min d’écart)',
    );
    expect(f.text).toContain(
      'Écoles : École 0X (Villeurbanne, UAI 0690000X), École 1X (Villeurbanne, UAI 0690001X)',
    );
    expect(f.text).toContain('… et 2 autres');
    expect(f.link).toBe(opts.fleetUrl);
    const e = render(mass, many, { ...en, ...w });
    expect(e.title).toBe('[ALERT] mass outage: 12 schools (ISP Orange)');
    expect(e.text).toContain('… and 2 more');
    const byCommune = {
      ...mass,
      alert: { ...mass.alert, group: { by: 'commune' as const, value: 'Vienne' } },
    };
    expect(render(byCommune, many, fr).title).toBe('[ALERTE] panne groupée : 12 écoles (commune Vienne)');
  });

  it('closes a mass outage with its end, duration and the schools still down', () => {
    const left = { ...mass, alert: { ...mass.alert, members: members.slice(0, 2) } };
    const r = render(resolved(left, 63), many, fr);
    expect(r.title).toBe('[RÉTABLI] panne groupée (FAI Orange)');
    expect(r.text).toContain('Fin : mar. 18 nov., 11:03 — durée 1 h 3 min');
    expect(r.text).toContain(
      'Encore hors ligne (une alerte par école suit) : École 0X (Villeurbanne, UAI 0690000X), École 1X (Villeurbanne, UAI 0690001X)',
    );
    const none = { ...mass, alert: { ...mass.alert, members: [] } };
    expect(render(resolved(none, 63), many, en).text).toContain('Every school of the group is back.');
  });

  it('explains the collector losing its broker', () => {
    const broker: Notification = {
      type: 'firing',
      at: since + 2 * MIN,
      alert: {
        key: 'collector_broker',
        kind: 'collector_broker',
        severity: 'critical',
        since,
        notifiedAt: null,
        lastSentAt: null,
      },
    };
    expect(render(broker, one, fr).text).toContain(
      'Cause : le collecteur ne joint plus son broker MQTT : il ne reçoit plus rien des écoles, et n’en déclare aucune hors ligne tant que cela dure',
    );
    expect(render(resolved(broker, 5), one, en).text).toContain('Ended: Tue 18 Nov, 10:05 — duration 5 min');
  });

  it('describes an open alert in one line of the configured language, for the API', () => {
    expect(describeAlert(offline('will').alert, one, fr)).toBe(
      'École Jean Macé (Villeurbanne, UAI 0690001B) : hors ligne — connexion perdue sans au revoir (le broker a vu tomber la connexion du boîtier : lien coupé, coupure de courant ou boîtier bloqué)',
    );
    expect(describeAlert(mass.alert, many, en)).toBe(
      'mass outage: 12 schools (ISP Orange) — an outage shared by the schools of ISP Orange (12 schools offline)',
    );
  });

  it('formats durations and values with their units', () => {
    expect(formatDuration(45_000, 'fr')).toBe('45 s');
    expect(formatDuration(2 * MIN + 5000, 'en')).toBe('2 min 5 s');
    expect(formatDuration(26 * 60 * MIN, 'fr')).toBe('1 j 2 h');
    expect(formatValue(23.45, '%', 'fr')).toBe('23,5 %');
    expect(formatValue(3.25, 'ms', 'en')).toBe('3.3 ms');
    expect(formatValue(1234.4, 'ms', 'en')).toBe('1,234 ms');
    expect(formatValue(96.15, 'Mb/s', 'fr')).toBe('96,2 Mb/s');
  });
});

describe('metric rounds from a batch', () => {
  it('turns anchor pings, access points and WAN use into rounds with severities', () => {
    const t = 1_750_000_000_000;
    const rounds = roundsOfBatch(
      {
        v: 1,
        uai: '0690001B',
        agent: 'box',
        seq: 1,
        t,
        samples: [
          {
            probe: 'ping',
            t,
            target: 'gw',
            role: 'gateway',
            sent: 10,
            received: 10,
            lossPct: 0,
            medianMs: 1,
          },
          {
            probe: 'ping',
            t,
            target: 'anchor-1',
            role: 'anchor',
            sent: 10,
            received: 8,
            lossPct: 20,
            medianMs: 90,
          },
          { probe: 'ping', t, target: 'anchor-2', role: 'anchor', sent: 10, received: 0, lossPct: 100 },
          { probe: 'wifi', t, ap: 'ap-cm1', up: true, reachable: false },
          { probe: 'wan', t, source: 'snmp', iface: 'wan0', inBps: 1, outBps: 1, inPct: 96, outPct: 3 },
        ],
      },
      DEFAULT_THRESHOLDS,
    );
    expect(rounds.map((r) => [r.metric, r.subject, r.bad, r.severity])).toEqual([
      ['loss', 'anchor-1', true, 'critical'],
      ['latency', 'anchor-1', true, 'warning'],
      ['loss', 'anchor-2', true, 'critical'],
      ['ap_down', 'ap-cm1', true, 'critical'],
      ['wan_saturation', 'wan0', true, 'critical'],
    ]);
    // Each round says which threshold its value crossed; WAN use says the rate behind the percentage.
    expect(rounds.map((r) => r.threshold)).toEqual([
      { value: 10, level: 'critical' },
      { value: 80, level: 'warning' },
      { value: 10, level: 'critical' },
      undefined,
      { value: 95, level: 'critical' },
    ]);
    expect(rounds[4]!.rateBps).toBe(1);
  });
});

describe('alert texts through the policy and the channels', () => {
  const UAI = '0690001B';
  const cfg = (language: 'fr' | 'en') => {
    const c = structuredClone({
      language,
      timezone: 'Europe/Paris',
      dashboard: { schoolUrl: opts.schoolUrl, fleetUrl: opts.fleetUrl },
    });
    addVigieFormats(new Ajv({ useDefaults: true, strict: false })).validate(AlertsConfig, c);
    // Tuesday 18 November, 10:00 in Paris: within the default school hours.
    return c as AlertsConfig;
  };
  const start = (language: 'fr' | 'en') => {
    const sent: Delivery[] = [];
    const channel: Channel = { name: 'memory', send: async (d) => void sent.push(d) };
    const alerting = new Alerting(
      cfg(language),
      (u) => (u === UAI ? school : undefined),
      [channel],
      createLogger('test', 'silent'),
    );
    return { alerting, sent };
  };
  const t0 = Date.parse('2025-11-18T09:00:00Z');
  const anchors = (t: number, lossPct: number, medianMs?: number) =>
    roundsOfBatch(
      {
        v: 1,
        uai: UAI,
        agent: 'box',
        seq: 1,
        t,
        samples: ['anchor-a', 'anchor-b'].map((target) => ({
          probe: 'ping' as const,
          t,
          target,
          role: 'anchor' as const,
          sent: 10,
          received: Math.round(10 - lossPct / 10),
          lossPct,
          ...(medianMs === undefined ? {} : { medianMs }),
        })),
      },
      DEFAULT_THRESHOLDS,
    );

  it('quotes the last anchor round in a degraded alert, its summary and its resolution', async () => {
    const { alerting, sent } = start('fr');
    for (let i = 0; i < 3; i++) for (const r of anchors(t0 + i * MIN, 100)) alerting.handle(r, t0 + i * MIN);
    const since = t0 + 2 * MIN;
    alerting.handle(
      { kind: 'school', uai: UAI, state: 'degraded', reason: 'internet_unreachable', since },
      since,
    );
    alerting.tick(since + 3 * MIN);
    for (const r of anchors(t0 + 10 * MIN, 0, 12)) alerting.handle(r, t0 + 10 * MIN);
    const open = alerting.open().find((a) => a.kind === 'school_degraded')!;
    expect(
      alertView(
        open,
        () => 'Villeurbanne',
        (a) => alerting.describe(a),
      ).summary,
    ).toBe(
      'École Jean Macé (Villeurbanne, UAI 0690001B) : accès internet dégradé — internet injoignable (aucune des 2 ancres internet ne répond, perte 100 %) alors que le boîtier joint encore le collecteur',
    );
    alerting.handle(
      { kind: 'school', uai: UAI, state: 'online', reason: 'recovered', since: t0 + 11 * MIN },
      t0 + 11 * MIN,
    );
    await alerting.stop();
    expect(sent.map((d) => d.rendered.text.split('\n').slice(0, 3))).toEqual([
      [
        '[ALERTE] École Jean Macé (Villeurbanne, UAI 0690001B) : accès internet dégradé',
        'Début : mar. 18 nov., 10:02 — en cours depuis 3 min',
        'Cause : internet injoignable (aucune des 2 ancres internet ne répond, perte 100 %) alors que le boîtier joint encore le collecteur',
      ],
      [
        '[RÉTABLI] École Jean Macé (Villeurbanne, UAI 0690001B) : accès internet dégradé',
        'Début : mar. 18 nov., 10:02 — Fin : mar. 18 nov., 10:11 — durée 9 min',
        'Cause : internet injoignable (aucune des 2 ancres internet ne répond, perte 100 %) alors que le boîtier joint encore le collecteur',
      ],
    ]);
    expect(sent[1]!.rendered.text).toContain('Dernier relevé : perte 0 %, latence 12 ms');
  });

  it('gives a loss alert from three bad rounds its value, unit and threshold, in English', async () => {
    const { alerting, sent } = start('en');
    for (let i = 0; i < 3; i++)
      for (const r of anchors(t0 + i * MIN, 30, 40)) alerting.handle(r, t0 + i * MIN);
    alerting.tick(t0 + 3 * MIN);
    await alerting.stop();
    expect(sent.map((d) => d.rendered.text.split('\n')[2])).toEqual([
      'Cause: measured loss 30 % to anchor-a, past the critical threshold of 10 %',
      'Cause: measured loss 30 % to anchor-b, past the critical threshold of 10 %',
    ]);
    expect(alertView({ ...sent[0]!.notification.alert }, () => 'Villeurbanne').summary).toBe(
      'loss · 0690001B · anchor-a',
    );
  });
});
