// Dates and times that people and schools send (API parameters, config values, stored windows) are
// read here and nowhere else, strictly: Date.parse rolls 2026-02-30 over to March, reads a time
// without offset in the process's zone, and turns a leap second into NaN, which then compares false
// with everything and slips through every check.
// Wall clock → instant is shared/local-time.ts's (instantsAtWall), the school-hours model's.

import { instantsAtWall } from './local-time.ts';

/** Years Vigie accepts: InfluxDB stores 1677–2262, and a school year is never further than this. */
export const MIN_YEAR = 1970;
export const MAX_YEAR = 2199;
/** The same bounds as milliseconds since the epoch (UTC), inclusive. */
export const MIN_INSTANT_MS = Date.UTC(MIN_YEAR, 0, 1);
export const MAX_INSTANT_MS = Date.UTC(MAX_YEAR + 1, 0, 1) - 1;

const EXAMPLE = 'e.g. 2026-02-10T20:00:00+01:00 or 2026-02-10T19:00:00Z';
const MAX_TEXT = 64;

export type TimeResult = { ok: true; ms: number } | { ok: false; problem: string };

export interface InstantOptions {
  /**
   * IANA zone (e.g. Europe/Paris) in which a date-time written without an offset is read. Absent:
   * the offset is required. A local time the zone skips or repeats (DST changes) is refused.
   */
  timeZone?: string | undefined;
}

const quote = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
const fail = (problem: string): TimeResult => ({ ok: false, problem });

// RFC 3339 section 5.6; "T" may be a space (its section 5.6 note) and "T"/"Z" lower case.
const SHAPE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Why year-month-day is not a real calendar date, or null. */
function dateProblem(year: number, month: number, day: number): string | null {
  if (year < MIN_YEAR || year > MAX_YEAR) return `year ${year} is outside ${MIN_YEAR}–${MAX_YEAR}`;
  if (month < 1 || month > 12) return `month ${month} does not exist`;
  const last = daysIn(year, month);
  if (day < 1 || day > last) return `${MONTHS[month - 1]} ${year} has no day ${day} (it has ${last} days)`;
  return null;
}

/**
 * Reads one instant: RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, a real calendar date,
 * hours 00–23, minutes and seconds 00–59 (a leap second, :60, is refused rather than guessed),
 * years MIN_YEAR–MAX_YEAR. Without an offset, only when `opts.timeZone` says where it was written.
 * Never throws.
 * @param value what was sent (anything: numbers, null and other non-text are refused by name)
 * @returns ms since the epoch (UTC; fraction below a millisecond dropped), or the problem in words,
 *   the value quoted, for the caller to prefix with the field (`querystring/from: ...`).
 */
export function parseInstant(value: unknown, opts: InstantOptions = {}): TimeResult {
  if (typeof value !== 'string') return fail(`must be a date-time text (${EXAMPLE}), not ${typeof value}`);
  const text = value;
  if (text.length > MAX_TEXT) return fail(`${quote(text)} is too long for a date-time (${EXAMPLE})`);
  const m = SHAPE.exec(text);
  if (!m) return fail(shapeProblem(text));
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = m[7] ?? '';
  const bad =
    dateProblem(y, mo, d) ??
    (h > 23 ? `hour ${h} does not exist (00–23): write 00:00 of the next day` : null) ??
    (mi > 59 ? `minute ${mi} does not exist (00–59)` : null) ??
    (s === 60
      ? 'second 60 (a leap second) is not accepted: write :59, or 00 of the next minute'
      : s > 59
        ? `second ${s} does not exist (00–59)`
        : null);
  if (bad) return fail(`${quote(text)}: ${bad}`);
  const naive = Date.UTC(y, mo - 1, d, h, mi, s, Number(frac.padEnd(3, '0').slice(0, 3)));
  let ms: number;
  if (m[8]) ms = naive;
  else if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return fail(`${quote(text)}: offset ${m[9]}${m[10]}:${m[11]} does not exist`);
    ms = naive - (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  } else if (opts.timeZone) {
    const local = inZone(naive, opts.timeZone);
    if (typeof local === 'string') return fail(`${quote(text)}: ${local}`);
    ms = local;
  } else return fail(`${quote(text)} has no offset: add Z for UTC or the local offset (${EXAMPLE})`);
  if (ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS)
    return fail(`${quote(text)} is outside the years ${MIN_YEAR}–${MAX_YEAR}`);
  return { ok: true, ms };
}

/** What parseInstant says is wrong with `value`, or null when it reads. */
export function instantProblem(value: unknown, opts: InstantOptions = {}): string | null {
  const r = parseInstant(value, opts);
  return r.ok ? null : r.problem;
}

function shapeProblem(text: string): string {
  if (/^[+-]?\d+(\.\d+)?$/.test(text))
    return `${quote(text)} looks like an epoch number: write the date-time (${EXAMPLE})`;
  if (/^[+-]\d{5,6}-/.test(text)) return `${quote(text)}: only years ${MIN_YEAR}–${MAX_YEAR} are accepted`;
  // In a query string an unencoded "+" arrives as a space.
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)? \d{2}:\d{2}$/.test(text))
    return `${quote(text)}: the "+" of the offset arrived as a space: write it %2B in a URL`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text))
    return `${quote(text)} is a date without a time: write the date-time (${EXAMPLE})`;
  return `${quote(text)} is not an RFC 3339 date-time (${EXAMPLE})`;
}

/** The instant at which wall-clock `naive` (its fields read as UTC) is shown in `zone`, or why none or two. */
function inZone(naive: number, zone: string): number | string {
  let found: number[];
  try {
    found = instantsAtWall(naive, zone);
  } catch {
    return `unknown time zone ${quote(zone)}`;
  }
  if (found.length === 1) return found[0]!;
  const offset = (o: number) =>
    `${o < 0 ? '-' : '+'}${String(Math.floor(Math.abs(o) / 3_600_000)).padStart(2, '0')}:${String((Math.abs(o) / 60_000) % 60).padStart(2, '0')}`;
  if (!found.length) return `this local time does not exist in ${zone} (the clocks skip it that night)`;
  return `this local time happens twice in ${zone} (the clocks go back): add the offset, ${found
    .map((t) => offset(naive - t))
    .join(' or ')}`;
}

/**
 * Reads a local calendar date `YYYY-MM-DD` (holidays, report months), real and within the years.
 * @returns the date as ms at 00:00 UTC of that day (for ordering; not an instant), or the problem.
 */
export function parseLocalDate(value: unknown): TimeResult {
  if (typeof value !== 'string') return fail(`must be a date text YYYY-MM-DD, not ${typeof value}`);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return fail(`${quote(value)} is not a date YYYY-MM-DD`);
  const [y, mo, d] = m.slice(1, 4).map(Number) as [number, number, number];
  const bad = dateProblem(y, mo, d);
  return bad ? fail(`${quote(value)}: ${bad}`) : { ok: true, ms: Date.UTC(y, mo - 1, d) };
}

const MONTH_ABBR = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Reads a date written the way HTTP headers (RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT`, and its
 * obsolete RFC 850 and asctime forms) and OpenSSL (`Mar  1 12:00:00 2027 GMT`, a certificate's
 * validity) write them. Such a date is always UTC, said or not: Date.parse would read one without
 * "GMT" (asctime has none) in the process's zone.
 * @returns ms since the epoch, or undefined when the text is not such a date (or not a real one)
 */
export function parseHttpDate(text: string): number | undefined {
  const t = text.trim();
  // Day, month name, year and time in any of the three orders; an optional trailing GMT/UTC.
  const m =
    /^(?:[A-Za-z]+,?\s+)?(\d{1,2})[\s-]([A-Za-z]{3})[\s-](\d{2}|\d{4})\s+(\d{2}):(\d{2}):(\d{2})(?:\s+(?:GMT|UTC))?$/.exec(
      t,
    ) ?? null;
  const a = m
    ? null
    : /^(?:[A-Za-z]+\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})(?:\s+(?:GMT|UTC))?$/.exec(
        t,
      );
  let parts: [number, string, number, number, number, number];
  if (m) {
    const year = Number(m[3]);
    // RFC 850's two-digit year: RFC 9110 says a year more than 50 years ahead is in the past century.
    parts = [
      Number(m[1]),
      m[2]!,
      m[3]!.length === 2 ? (year < 70 ? 2000 : 1900) + year : year,
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
    ];
  } else if (a) parts = [Number(a[2]), a[1]!, Number(a[6]), Number(a[3]), Number(a[4]), Number(a[5])];
  else return undefined;
  const [day, monthName, year, h, mi, s] = parts;
  const month = MONTH_ABBR.indexOf(monthName.toLowerCase()) + 1;
  if (month === 0 || dateProblem(year, month, day) || h > 23 || mi > 59 || s > 60) return undefined;
  return Date.UTC(year, month - 1, day, h, mi, Math.min(s, 59));
}
