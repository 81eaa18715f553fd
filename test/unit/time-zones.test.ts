// The process's time zone never matters (issue 14 §2). This file runs under TZ=UTC and again under
// TZ=Pacific/Chatham (+12:45/+13:45) in `npm run ci`: every local time is read in the configured zone,
// or refused when the zone shows it twice or never (DST).
import { describe, expect, it } from 'vitest';
import { checkAgentFile } from '../../agent/config-file.ts';
import { certDaysLeft } from '../../agent/probes/http.ts';
import { policyContext, scheduleProblems } from '../../collector/alerts/schedule.ts';
import { checkCollectorFile } from '../../collector/config-file.ts';
import { parseRetryAfter } from '../../collector/influx-http.ts';
import { changes } from '../../demo/status.ts';
import { instantsAtWall } from '../../shared/local-time.ts';
import { parseHttpDate } from '../../shared/time.ts';

const alerts = (over: object) =>
  ({ timezone: 'Europe/Paris', hours: {}, calendars: {}, maintenance: [], silences: [], ...over }) as never;

describe('local times in config are the configured zone’s', () => {
  it('mutes Orange schools inside `from: 2026-02-10T20:00:00` Paris time, whatever TZ the process has', () => {
    const ctx = policyContext(
      alerts({ maintenance: [{ from: '2026-02-10T20:00:00', to: '2026-02-11T06:00:00', isp: ['Orange'] }] }),
      (uai) =>
        ({ uai, commune: 'Vienne', isp: uai === '0381234K' ? 'Orange' : 'Free', hours: 'school' }) as never,
    );
    const orange = { kind: 'school_offline', uai: '0381234K' } as never;
    const free = { kind: 'school_offline', uai: '0380001V' } as never;
    const school = (uai: string) =>
      ({ uai, commune: 'Vienne', isp: uai === '0381234K' ? 'Orange' : 'Free' }) as never;
    // 20:00 in Paris in February is 19:00 UTC; 06:00 is 05:00 UTC.
    expect(ctx.muted(orange, school('0381234K'), Date.UTC(2026, 1, 10, 18, 59))).toBeNull();
    expect(ctx.muted(orange, school('0381234K'), Date.UTC(2026, 1, 10, 19, 0))).toBe('maintenance');
    expect(ctx.muted(orange, school('0381234K'), Date.UTC(2026, 1, 11, 4, 59))).toBe('maintenance');
    expect(ctx.muted(orange, school('0381234K'), Date.UTC(2026, 1, 11, 5, 0))).toBeNull();
    expect(ctx.muted(free, school('0380001V'), Date.UTC(2026, 1, 10, 20, 0))).toBeNull();
  });

  it.each([
    ['2026-03-29T02:30:00', /does not exist in Europe\/Paris/],
    ['2026-10-25T02:30:00', /happens twice in Europe\/Paris .*\+02:00 or \+01:00/],
  ])('`vigie config check` refuses a window at %s (DST) with its key', (from, why) => {
    const { problems } = checkCollectorFile({
      collector: { alerts: alerts({ maintenance: [{ from, to: '2026-12-01T00:00:00Z' }] }) } as never,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('collector.alerts.maintenance[0].from');
    expect(problems[0]!.found).toMatch(why);
  });

  it('refuses an unknown zone at config check, for the alerts and the speed test', () => {
    expect(scheduleProblems(alerts({ timezone: 'Europe/Pari' }))).toEqual([
      expect.objectContaining({ path: 'collector.alerts.timezone', found: '"Europe/Pari"' }),
    ]);
    const agent = { probes: { speedtest: { timezone: 'Europe/Pari', profiles: {}, calendars: {} } } };
    expect(checkAgentFile({ agent } as never).problems).toEqual([
      expect.objectContaining({ path: 'agent.probes.speedtest.timezone' }),
    ]);
  });
});

describe('wall clock to instant, one helper (shared/local-time.ts)', () => {
  it('finds one instant, none in a gap, two in an overlap', () => {
    expect(instantsAtWall(Date.UTC(2026, 1, 10, 20), 'Europe/Paris')).toEqual([Date.UTC(2026, 1, 10, 19)]);
    expect(instantsAtWall(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Paris')).toEqual([]);
    expect(instantsAtWall(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Paris')).toEqual([
      Date.UTC(2026, 9, 25, 0, 30),
      Date.UTC(2026, 9, 25, 1, 30),
    ]);
    // Chatham: +13:45 in its summer (February).
    expect(instantsAtWall(Date.UTC(2026, 1, 10, 20), 'Pacific/Chatham')).toEqual([
      Date.UTC(2026, 1, 10, 20) - (13 * 60 + 45) * 60_000,
    ]);
  });
});

describe('dates HTTP and OpenSSL write are UTC, said or not', () => {
  const T = Date.UTC(1994, 10, 6, 8, 49, 37);
  it.each([
    'Sun, 06 Nov 1994 08:49:37 GMT',
    'Sunday, 06-Nov-94 08:49:37 GMT',
    'Sun Nov  6 08:49:37 1994',
    'Nov  6 08:49:37 1994 GMT',
  ])('reads %j', (text) => {
    expect(parseHttpDate(text)).toBe(T);
  });

  it('refuses what is not such a date', () => {
    for (const bad of ['1994-11-06T08:49:37Z', '12', 'Sun, 31 Feb 1994 08:49:37 GMT', 'soon'])
      expect(parseHttpDate(bad)).toBeUndefined();
  });

  it('Retry-After in asctime form and a certificate end are read as UTC', () => {
    expect(parseRetryAfter('Sun Nov  6 08:49:57 1994', T, 60_000)).toBe(20_000);
    expect(certDaysLeft('Nov  7 08:49:37 1994 GMT', T)).toBe(1);
  });
});

describe('the demo prints school time', () => {
  it('writes a state change at the Paris wall clock', () => {
    const brief = (state: string) =>
      ({
        uai: '0381234K',
        name: 'École',
        commune: 'Vienne',
        state,
        reason: '',
        latencyMs: null,
        lossPct: null,
      }) as never;
    const [line] = changes(
      new Map([['0381234K', brief('online')]]),
      [brief('offline')],
      Date.UTC(2026, 1, 10, 19),
    );
    expect(line).toMatch(/^20:00:00 /);
  });
});
