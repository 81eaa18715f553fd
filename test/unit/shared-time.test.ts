// The one reader of the dates and times people and schools send: what it accepts, what it refuses
// and how it says why. Results never depend on the process's time zone (explicit zones only).
import { describe, expect, it } from 'vitest';
import {
  instantProblem,
  MAX_INSTANT_MS,
  MIN_INSTANT_MS,
  parseInstant,
  parseLocalDate,
} from '../../shared/time.ts';

const ms = (value: unknown, timeZone?: string) => {
  const r = parseInstant(value, { timeZone });
  if (!r.ok) throw new Error(r.problem);
  return r.ms;
};

describe('parseInstant', () => {
  it('reads RFC 3339 with Z or an offset, fractions down to the millisecond', () => {
    expect(ms('2026-02-10T19:00:00Z')).toBe(Date.UTC(2026, 1, 10, 19));
    expect(ms('2026-02-10T20:00:00+01:00')).toBe(Date.UTC(2026, 1, 10, 19));
    expect(ms('2026-02-10T15:30:00-03:30')).toBe(Date.UTC(2026, 1, 10, 19));
    expect(ms('2026-02-10t19:00:00z')).toBe(Date.UTC(2026, 1, 10, 19));
    expect(ms('2026-02-10 19:00:00Z')).toBe(Date.UTC(2026, 1, 10, 19));
    expect(ms('2026-02-10T19:00:00.5Z')).toBe(Date.UTC(2026, 1, 10, 19, 0, 0, 500));
    expect(ms('2026-02-10T19:00:00.123456789Z')).toBe(Date.UTC(2026, 1, 10, 19, 0, 0, 123));
    expect(ms('2028-02-29T00:00:00Z')).toBe(Date.UTC(2028, 1, 29));
    expect(ms('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    expect(ms('2026-12-31T23:59:59Z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
    expect(ms('1970-01-01T00:00:00Z')).toBe(MIN_INSTANT_MS);
    expect(ms('2199-12-31T23:59:59.999Z')).toBe(MAX_INSTANT_MS);
  });

  it.each([
    ['2026-12-31T23:59:60Z', /"2026-12-31T23:59:60Z": second 60 \(a leap second\) is not accepted/],
    ['2026-06-30T23:59:60+00:00', /leap second/],
    ['2026-02-30T10:00:00Z', /February 2026 has no day 30 \(it has 28 days\)/],
    ['2027-02-29T10:00:00Z', /February 2027 has no day 29/],
    ['2100-02-29T10:00:00Z', /February 2100 has no day 29/],
    ['2026-04-31T10:00:00Z', /April 2026 has no day 31/],
    ['2026-00-10T10:00:00Z', /month 0 does not exist/],
    ['2026-13-10T10:00:00Z', /month 13 does not exist/],
    ['2026-01-00T10:00:00Z', /January 2026 has no day 0/],
    ['2026-01-10T24:00:00Z', /hour 24 does not exist/],
    ['2026-01-10T10:60:00Z', /minute 60 does not exist/],
    ['2026-01-10T10:00:61Z', /second 61 does not exist/],
    ['2026-01-10T10:00:00+24:00', /offset \+24:00 does not exist/],
    ['2026-01-10T10:00:00+01:60', /offset \+01:60 does not exist/],
    ['+010000-01-01T00:00:00Z', /only years 1970–2199 are accepted/],
    ['10000-01-01T00:00:00Z', /not an RFC 3339 date-time/],
    ['3000-01-01T00:00:00Z', /year 3000 is outside 1970–2199/],
    ['1969-12-31T23:59:59Z', /year 1969 is outside/],
    ['1970-01-01T00:30:00+01:00', /outside the years 1970–2199/],
    ['2026-02-10T20:00:00', /has no offset: add Z for UTC or the local offset/],
    ['2026-02-10T20:00', /not an RFC 3339 date-time/],
    ['2026-02-10', /a date without a time/],
    ['1700000000000', /looks like an epoch number/],
    ['1700000000.5', /looks like an epoch number/],
    ['-1', /looks like an epoch number/],
    ['NaN', /"NaN" is not an RFC 3339 date-time/],
    ['Infinity', /not an RFC 3339 date-time/],
    ['', /"" is not an RFC 3339 date-time/],
    ['yesterday', /not an RFC 3339 date-time \(e\.g\. 2026-02-10T20:00:00\+01:00/],
    ['2026-02-10T20:00:00 01:00', /the "\+" of the offset arrived as a space: write it %2B/],
    ['2026-02-10T20:00:00+0100', /not an RFC 3339 date-time/],
    ['2026-02-10T20:00:00+01', /not an RFC 3339 date-time/],
    ['2026-2-10T20:00:00Z', /not an RFC 3339 date-time/],
    ['2026-02-10T20:00:00.Z', /not an RFC 3339 date-time/],
    ['2026-02-10T20:00:00.1234567890Z', /not an RFC 3339 date-time/],
    [' 2026-02-10T20:00:00Z', /not an RFC 3339 date-time/],
    ['2026-02-10T20:00:00Z\n', /not an RFC 3339 date-time/],
    ['２０２６-02-10T20:00:00Z', /not an RFC 3339 date-time/],
    [`2026-02-10T20:00:00.${'1'.repeat(80)}Z`, /is too long for a date-time/],
  ])('refuses %j, saying why', (text, reason) => {
    const r = parseInstant(text);
    expect(r.ok).toBe(false);
    expect(instantProblem(text)).toMatch(reason);
  });

  it.each([
    [1_700_000_000_000, /not number/],
    [Number.NaN, /not number/],
    [null, /not object/],
    [undefined, /not undefined/],
    [{}, /not object/],
  ])('refuses the non-text %j by its type', (value, reason) => {
    expect(instantProblem(value)).toMatch(reason);
  });

  it('quotes a long value shortened, never the whole of it', () => {
    const problem = instantProblem(`x${'y'.repeat(10_000)}`)!;
    expect(problem.length).toBeLessThan(200);
  });

  it('reads a time without offset in the zone it is given, across DST, never the process zone', () => {
    expect(ms('2026-02-10T20:00:00', 'Europe/Paris')).toBe(Date.UTC(2026, 1, 10, 19));
    expect(ms('2026-07-10T20:00:00', 'Europe/Paris')).toBe(Date.UTC(2026, 6, 10, 18));
    expect(ms('2026-07-10T20:00:00', 'America/New_York')).toBe(Date.UTC(2026, 6, 11, 0));
    expect(ms('2026-07-10T20:00:00', 'UTC')).toBe(Date.UTC(2026, 6, 10, 20));
    // An offset, when there is one, wins over the zone.
    expect(ms('2026-07-10T20:00:00Z', 'Europe/Paris')).toBe(Date.UTC(2026, 6, 10, 20));
    // Just before and after the spring gap (02:00 → 03:00 on 2026-03-29 in Paris).
    expect(ms('2026-03-29T01:59:59', 'Europe/Paris')).toBe(Date.UTC(2026, 2, 29, 0, 59, 59));
    expect(ms('2026-03-29T03:00:00', 'Europe/Paris')).toBe(Date.UTC(2026, 2, 29, 1));
  });

  it('refuses a local time the zone skips or repeats, and an unknown zone', () => {
    expect(instantProblem('2026-03-29T02:30:00', { timeZone: 'Europe/Paris' })).toMatch(
      /does not exist in Europe\/Paris \(the clocks skip it/,
    );
    expect(instantProblem('2026-10-25T02:30:00', { timeZone: 'Europe/Paris' })).toMatch(
      /happens twice in Europe\/Paris \(the clocks go back\): add the offset, \+02:00 or \+01:00/,
    );
    expect(instantProblem('2026-10-25T02:30:00+01:00', { timeZone: 'Europe/Paris' })).toBeNull();
    expect(instantProblem('2026-02-10T20:00:00', { timeZone: 'Mars/Olympus' })).toMatch(
      /unknown time zone "Mars\/Olympus"/,
    );
    expect(instantProblem('2026-02-31T20:00:00', { timeZone: 'Europe/Paris' })).toMatch(/has no day 31/);
  });
});

describe('parseLocalDate', () => {
  it('reads real dates and refuses impossible ones', () => {
    expect(parseLocalDate('2026-02-28')).toEqual({ ok: true, ms: Date.UTC(2026, 1, 28) });
    expect(parseLocalDate('2028-02-29').ok).toBe(true);
    const problem = (v: unknown) => {
      const r = parseLocalDate(v);
      return r.ok ? null : r.problem;
    };
    expect(problem('2026-02-29')).toMatch(/February 2026 has no day 29/);
    expect(problem('2026-13-01')).toMatch(/month 13 does not exist/);
    expect(problem('2026-1-01')).toMatch(/not a date YYYY-MM-DD/);
    expect(problem('2026-01-01T00:00:00Z')).toMatch(/not a date YYYY-MM-DD/);
    expect(problem('3000-01-01')).toMatch(/year 3000 is outside/);
    expect(problem(20260101)).toMatch(/not number/);
  });
});
