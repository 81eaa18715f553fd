// French public holidays (jours fériés) as holiday calendars of the shared school-hours model, so
// open time skips them like any school holiday. Computed by @socialgouv/jours-feries (maintained by
// the State's digital team) rather than by a home-made Easter formula.
import getJoursFeries from '@socialgouv/jours-feries';
import { DAY_MS, localTime } from '../local-time.ts';
import type { Holiday, SchoolCalendar } from '../school-hours.ts';

/**
 * Which public holidays close a school: `fr` the 11 national ones, `fr-alsace-moselle` those plus
 * Good Friday and 26 December (Bas-Rhin, Haut-Rhin, Moselle), `none` for a profile that ignores them.
 * Overseas departments' own days (abolition of slavery) are not in the package: add them as a
 * calendar in config.
 */
export type PublicHolidaySet = 'fr' | 'fr-alsace-moselle' | 'none';

export interface PublicHolidayOptions {
  /** The set every profile uses; default `fr` when the calendar's zone is a French one, else `none`. */
  set?: PublicHolidaySet;
  /** Per hours profile name, another set (`none`: open on public holidays). */
  profiles?: Record<string, PublicHolidaySet>;
}

/** Zones of metropolitan France and the overseas departments, where `fr` is the default. */
const FRENCH_ZONES = new Set([
  'Europe/Paris',
  'America/Guadeloupe',
  'America/Martinique',
  'America/Cayenne',
  'Indian/Reunion',
  'Indian/Mayotte',
]);

/** Calendar names the engine adds to a SchoolCalendar; a config calendar may not take them. */
export const PUBLIC_HOLIDAY_CALENDARS: Record<Exclude<PublicHolidaySet, 'none'>, string> = {
  fr: 'public-holidays:fr',
  'fr-alsace-moselle': 'public-holidays:fr-alsace-moselle',
};

const byYear = new Map<string, Holiday[]>();

/**
 * The public holidays of a calendar year as one-day holidays (`from` = `to` = local date), sorted.
 * The package returns process-local midnights, and adds 24 h multiples to Easter: under a process
 * zone whose offset changes between Easter and the feast (Pacific/Chatham's autumn is in April),
 * Easter Monday comes out as Sunday 23:00. Reading the local wall clock and rounding to the nearest
 * day gives the date whatever TZ the process runs with.
 */
export function frenchPublicHolidays(year: number, set: Exclude<PublicHolidaySet, 'none'> = 'fr'): Holiday[] {
  const key = `${set}:${year}`;
  let found = byYear.get(key);
  if (!found) {
    found = Object.entries(getJoursFeries(year, { alsace: set === 'fr-alsace-moselle' }))
      .map(([name, d]) => {
        const wall = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes());
        const date = new Date(Math.round(wall / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
        return { name, from: date, to: date };
      })
      .sort((a, b) => a.from.localeCompare(b.from));
    byYear.set(key, found);
  }
  return found;
}

/**
 * `cal` with the public holidays of every local year of [startMs, endMs) added as calendars, and each
 * profile closed on its set: the calendar open-time figures are computed with. Alerts and other
 * users of the plain model are unchanged.
 * @throws Error when a config calendar already uses a reserved `public-holidays:*` name
 */
export function withPublicHolidays(
  cal: SchoolCalendar,
  startMs: number,
  endMs: number,
  opts: PublicHolidayOptions = {},
): SchoolCalendar {
  const fallback = opts.set ?? (FRENCH_ZONES.has(cal.timezone) ? 'fr' : 'none');
  for (const name of Object.values(PUBLIC_HOLIDAY_CALENDARS))
    if (Object.hasOwn(cal.calendars, name))
      throw new Error(`holiday calendar "${name}" is reserved for the computed public holidays`);
  const first = Number(localTime(startMs, cal.timezone).date.slice(0, 4));
  const last = Number(localTime(Math.max(startMs, endMs - 1), cal.timezone).date.slice(0, 4));
  const calendars = { ...cal.calendars };
  const profiles: SchoolCalendar['profiles'] = {};
  for (const [name, profile] of Object.entries(cal.profiles)) {
    const set = (opts.profiles && Object.hasOwn(opts.profiles, name) && opts.profiles[name]) || fallback;
    if (set === 'none') {
      profiles[name] = profile;
      continue;
    }
    const calName = PUBLIC_HOLIDAY_CALENDARS[set];
    if (!calendars[calName]) {
      calendars[calName] = [];
      for (let y = first; y <= last; y++) calendars[calName].push(...frenchPublicHolidays(y, set));
    }
    profiles[name] = { ...profile, holidays: [...(profile.holidays ?? []), calName] };
  }
  return { ...cal, profiles, calendars };
}
