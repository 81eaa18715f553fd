// The policy's view of time: opening hours and holidays per school, maintenance windows and silences.

import type { ConfigProblem } from '../../shared/config.ts';
import {
  DEFAULT_HOURS_PROFILE,
  isOpen,
  type SchoolCalendar,
  schoolCalendar,
} from '../../shared/school-hours.ts';
import { parseInstant, parseLocalDate } from '../../shared/time.ts';
import type { AlertsConfig, Window } from './config.ts';
import type { Alert, PolicyContext, SchoolInfo } from './policy.ts';

/** The alerts config's hours (`timezone`, `hours`, `calendars`) as the shared model; throws on a bad range. */
export function calendarFrom(cfg: Pick<AlertsConfig, 'timezone' | 'hours' | 'calendars'>): SchoolCalendar {
  return schoolCalendar({ timezone: cfg.timezone, profiles: cfg.hours, calendars: cfg.calendars });
}

interface ParsedWindow {
  from: number;
  to: number;
  w: Window;
}

/**
 * Reads each window's times with shared/time.ts; a time without offset is local to `timeZone`.
 * @throws Error naming the key (`collector.alerts.maintenance[0].from: …`) of a time that cannot be read
 */
function parseWindows(ws: Window[], key: string, timeZone: string): ParsedWindow[] {
  return ws.map((w, i) => {
    const at = (field: 'from' | 'to') => {
      const r = parseInstant(w[field], { timeZone });
      if (!r.ok) throw new Error(`collector.alerts.${key}[${i}].${field}: ${r.problem}`);
      return r.ms;
    };
    const from = at('from');
    const to = at('to');
    if (to <= from)
      throw new Error(`collector.alerts.${key}[${i}].to: ${w.to} is not after from (${w.from})`);
    return { from, to, w };
  });
}

function matches(p: ParsedWindow, a: Alert, school: SchoolInfo | undefined, now: number): boolean {
  if (now < p.from || now >= p.to) return false;
  const { uai, commune, isp, kind } = p.w;
  const uais = a.members ?? (a.uai ? [a.uai] : []);
  if (uai && !uais.some((u) => uai.includes(u))) return false;
  if (
    commune &&
    !(school && commune.includes(school.commune)) &&
    !(a.group?.by === 'commune' && commune.includes(a.group.value))
  )
    return false;
  if (isp && !(school && isp.includes(school.isp)) && !(a.group?.by === 'isp' && isp.includes(a.group.value)))
    return false;
  if (kind && !kind.includes(a.kind)) return false;
  return true;
}

export function policyContext(
  cfg: Pick<AlertsConfig, 'timezone' | 'hours' | 'calendars' | 'maintenance' | 'silences'>,
  schools: (uai: string) => SchoolInfo | undefined,
  /** Windows kept elsewhere (silences and maintenance created through the HTTP API). */
  extraMuted?: PolicyContext['muted'],
): PolicyContext {
  const cal = calendarFrom(cfg);
  checkHolidays(cfg.calendars);
  const maintenance = parseWindows(cfg.maintenance, 'maintenance', cfg.timezone);
  const silences = parseWindows(cfg.silences, 'silences', cfg.timezone);
  return {
    school: schools,
    isOpen: (uai, now) => isOpen(cal, schools(uai)?.hours ?? DEFAULT_HOURS_PROFILE, now),
    muted: (a, school, now) => {
      if (maintenance.some((p) => matches(p, a, school, now))) return 'maintenance';
      if (silences.some((p) => matches(p, a, school, now))) return 'silenced';
      return extraMuted?.(a, school, now) ?? null;
    },
  };
}

/**
 * Holidays are compared as text (YYYY-MM-DD): an impossible date or a reversed range would silently
 * close a school for the wrong days, or none.
 * @throws Error naming the key (`collector.alerts.calendars.zone-a[3].to: …`)
 */
function checkHolidays(calendars: AlertsConfig['calendars']): void {
  for (const [name, list] of Object.entries(calendars))
    list.forEach((h, i) => {
      const day = (key: 'from' | 'to') => {
        const r = parseLocalDate(h[key]);
        if (!r.ok) throw new Error(`collector.alerts.calendars.${name}[${i}].${key}: ${r.problem}`);
        return r.ms;
      };
      const from = day('from');
      if (day('to') < from)
        throw new Error(`collector.alerts.calendars.${name}[${i}].to: ${h.to} is before from (${h.from})`);
    });
}

/**
 * What `vigie config check` (and the collector's start) says of the alerts section's times: an unknown
 * `timezone`, a bad hours range, a holiday that is no date, a window time that cannot be read in the
 * zone (no such local time, or one that happens twice: DST) — each at its key.
 * @returns the problems, empty when policyContext would accept the section
 */
export function scheduleProblems(
  cfg: Pick<AlertsConfig, 'timezone' | 'hours' | 'calendars' | 'maintenance' | 'silences'> | undefined,
): ConfigProblem[] {
  if (!cfg) return [];
  try {
    calendarFrom(cfg);
  } catch (err) {
    const unknownZone = err instanceof RangeError;
    return [
      {
        path: unknownZone ? 'collector.alerts.timezone' : 'collector.alerts.hours',
        expected: unknownZone ? 'an IANA time zone, e.g. Europe/Paris' : 'valid opening hours',
        found: unknownZone ? JSON.stringify(cfg.timezone) : (err as Error).message,
      },
    ];
  }
  try {
    policyContext(cfg, () => undefined);
    return [];
  } catch (err) {
    const message = (err as Error).message;
    const cut = message.indexOf(': ');
    return [
      {
        path: cut > 0 ? message.slice(0, cut) : 'collector.alerts',
        expected: 'a date-time that exists once in collector.alerts.timezone, or one with its offset',
        found: cut > 0 ? message.slice(cut + 2) : message,
      },
    ];
  }
}
