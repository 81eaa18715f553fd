import { describe, expect, it } from 'vitest';
import { formatDuration, render } from '../../collector/alerts/messages.ts';
import type { Notification, SchoolInfo } from '../../collector/alerts/policy.ts';
import { roundsOfBatch } from '../../collector/alerts/rounds.ts';
import { DEFAULT_THRESHOLDS } from '../../collector/thresholds.ts';
import { isOpen, openMsBetween, parseRange, type SchoolCalendar } from '../../shared/school-hours.ts';

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
  it('names the school, commune, UAI, since when and links to its dashboard, in French', () => {
    const r = render(firing, () => school, { ...opts, language: 'fr' });
    expect(r.title).toBe('[ALERTE] École Jean Macé (Villeurbanne, UAI 0690001B): hors ligne');
    expect(r.text).toContain('depuis mar. 18 nov., 10:00');
    expect(r.link).toBe('https://grafana.example/d/school?var-uai=0690001B');
  });

  it('says it is resolved and for how long, in English', () => {
    const r = render(
      { ...firing, type: 'resolved', at: since + 83 * MIN, durationMs: 83 * MIN },
      () => school,
      {
        ...opts,
        language: 'en',
      },
    );
    expect(r.title).toBe('[RESOLVED] École Jean Macé (Villeurbanne, UAI 0690001B): offline');
    expect(r.text).toContain('duration 1 h 23 min');
    expect(r.status).toBe('resolved');
  });

  it('says when an alert comes late because it began outside hours', () => {
    const r = render({ ...firing, delayedBy: 'outside_hours' }, () => school, { ...opts, language: 'fr' });
    expect(r.text).toContain('survenu hors des horaires scolaires');
  });

  it('lists the schools of a mass outage and links to the fleet', () => {
    const members = Array.from({ length: 12 }, (_, i) => `U${i}`);
    const r = render(
      {
        type: 'firing',
        at: since,
        alert: {
          key: 'm',
          kind: 'mass_outage',
          severity: 'critical',
          group: { by: 'isp', value: 'Orange' },
          members,
          since,
          notifiedAt: null,
          lastSentAt: null,
        },
      },
      (u) => ({ ...school, uai: u, name: `École ${u}` }),
      { ...opts, language: 'en' },
    );
    expect(r.title).toBe('[ALERT] mass outage: 12 schools (isp Orange)');
    expect(r.text).toContain('École U0, École U1');
    expect(r.text).toContain('…');
    expect(r.link).toBe(opts.fleetUrl);
  });

  it('formats durations', () => {
    expect(formatDuration(45_000, 'fr')).toBe('45 s');
    expect(formatDuration(2 * MIN + 5000, 'en')).toBe('2 min 5 s');
    expect(formatDuration(26 * 60 * MIN, 'fr')).toBe('1 j 2 h');
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
  });
});
