// The policy's view of time: opening hours and holidays per school, maintenance windows and silences.
import {
  DEFAULT_HOURS_PROFILE,
  isOpen,
  type SchoolCalendar,
  schoolCalendar,
} from '../../shared/school-hours.ts';
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

const parseWindows = (ws: Window[]): ParsedWindow[] =>
  ws.map((w) => ({ from: Date.parse(w.from), to: Date.parse(w.to), w }));

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
  const maintenance = parseWindows(cfg.maintenance);
  const silences = parseWindows(cfg.silences);
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
