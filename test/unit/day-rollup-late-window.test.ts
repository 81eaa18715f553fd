// Late batches and the nightly redo window (collector/day-rollup-late.ts): every day that gets late
// batches is rolled up again, either by the next nightly run (today and the redoDays − 1 days before)
// or as a late day. The bound was `now − (redoDays + 1) × 24 h`: a day just outside the nightly window
// and inside that bound (Friday afternoon and Saturday below) was redone by neither.
import { describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { daysToRollUp, localDayStart } from '../../collector/day-rollup.ts';
import { lateDays } from '../../collector/day-rollup-late.ts';
import { localDayStartMs } from '../../shared/availability/index.ts';
import { createLogger } from '../../shared/log.ts';

const config = resolveCollectorConfig({ alerts: { timezone: 'Europe/Paris' } });

describe('late batches and the nightly redo window', () => {
  it.each([
    {
      what: 'box offline Fri 14:00 → Tue 09:00, spool flushed Tuesday: Friday and Saturday are late days, Sunday to Tuesday the nightly run’s',
      tz: 'Europe/Paris',
      redoDays: 3,
      offline: ['2026-11-20', 14, '2026-11-24', 9] as const,
      late: ['2026-11-20', '2026-11-21'],
      days: ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'],
    },
    {
      what: 'across the autumn DST change (Sunday 25 October, 25 h): Saturday and Sunday late, Monday to Wednesday nightly',
      tz: 'Europe/Paris',
      redoDays: 3,
      offline: ['2026-10-24', 14, '2026-10-28', 9] as const,
      late: ['2026-10-24', '2026-10-25'],
      days: ['2026-10-24', '2026-10-25', '2026-10-26', '2026-10-27', '2026-10-28'],
    },
    {
      what: 'another zone and window: Chatham, spring DST (Sunday 27 September, 23 h), redoDays 1: Friday to Sunday late',
      tz: 'Pacific/Chatham',
      redoDays: 1,
      offline: ['2026-09-25', 14, '2026-09-28', 9] as const,
      late: ['2026-09-25', '2026-09-26', '2026-09-27'],
      days: ['2026-09-25', '2026-09-26', '2026-09-27', '2026-09-28'],
    },
  ])('$what', async ({ tz, redoDays, offline, late: lateExpected, days }) => {
    const at = (date: string, h: number) => localDayStartMs(date, tz) + h * 3_600_000;
    const [fromDay, fromH, backDay, backH] = offline;
    // The box is back and its spool flushes 30 minutes later: every batch since it went offline is late.
    const now = at(backDay, backH + 0.5);
    const late = lateDays({
      retention: config.retention,
      now: () => now,
      dayStart: (t) => localDayStart(t, tz),
      redoDays,
      quietMs: 60_000,
      retryMs: 60_000,
      redo: async () => true,
    });
    for (let t = at(fromDay, fromH); t < at(backDay, backH); t += 60_000) late.note(t);
    const noted = late.pending();
    late.stop();
    // The next nightly run, 15 minutes after the next local midnight (today's + 36 h lies in tomorrow).
    const nextNight = localDayStart(localDayStart(now, tz) + 36 * 3_600_000, tz);
    const nightly = await daysToRollUp(
      {
        http: { query: async () => ({ results: [] }) } as never,
        database: 'x',
        retention: config.retention,
        timeZone: tz,
        log: createLogger('x', 'silent'),
        now: () => nextNight + 15 * 60_000,
        redoDays,
      },
      1,
      false,
    );
    const day = (d: string) => localDayStartMs(d, tz);
    // No day twice: the late ones are those the nightly run does not redo.
    expect(noted).toEqual(lateExpected.map(day));
    // Every day with late batches is redone by one or the other.
    expect([...new Set([...noted, ...nightly.map((d) => d.startMs)])].sort()).toEqual(days.map(day));
  });
});
