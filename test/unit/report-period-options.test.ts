// `vigie report --from/--to` and GET /api/report?from&to: a day the calendar does not have is refused,
// naming the flag, never rolled over to the next month (2026-02-29 used to cover 1 March).
import { describe, expect, it } from 'vitest';
import { periodFromOptions, UsageError } from '../../report/run.ts';
import { localDayStartMs } from '../../shared/availability/index.ts';

const TZ = 'Europe/Paris';
const NOW = Date.UTC(2026, 10, 30, 12);

describe('report period from local dates', () => {
  it.each([
    [
      { from: '2026-02-29', to: '2026-02-29' },
      /^--from 2026-02-29: "2026-02-29" is not a day of the calendar$/,
    ],
    [{ from: '2026-02-30', to: '2026-03-01' }, /^--from 2026-02-30: .*not a day of the calendar$/],
    [{ from: '2026-03-01', to: '2026-13-01' }, /^--to 2026-13-01: .*not a day of the calendar$/],
    [{ from: '2026-04-31', to: '2026-05-02' }, /^--from 2026-04-31: /],
  ])('%j is refused', (o, message) => {
    expect(() => periodFromOptions(o, TZ, NOW)).toThrow(UsageError);
    expect(() => periodFromOptions(o, TZ, NOW)).toThrow(message);
  });

  it('accepts a leap day and the last day of a month', () => {
    const leap = periodFromOptions({ from: '2028-02-29', to: '2028-02-29' }, TZ, NOW);
    expect(leap.endMs - leap.startMs).toBe(86_400_000);
    expect(leap.startMs).toBe(Date.UTC(2028, 1, 28, 23));
    const march = periodFromOptions({ from: '2026-03-01', to: '2026-03-31' }, TZ, NOW);
    // 31 days, one of them 23 h long (29 March 2026, summer time).
    expect(march.endMs - march.startMs).toBe(31 * 86_400_000 - 3_600_000);
  });

  it('localDayStartMs refuses what Date.UTC would roll over', () => {
    expect(() => localDayStartMs('2026-02-29', TZ)).toThrow(RangeError);
    expect(localDayStartMs('2026-03-01', TZ)).toBe(Date.UTC(2026, 1, 28, 23));
  });
});
