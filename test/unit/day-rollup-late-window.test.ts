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

const TZ = 'Europe/Paris';
const config = resolveCollectorConfig({ alerts: { timezone: TZ } });
const at = (date: string, h: number) => localDayStartMs(date, TZ) + h * 3_600_000;

describe('late batches and the nightly redo window', () => {
  it('box offline Fri 14:00 → Tue 09:00, spool flushed Tuesday: Friday and Saturday are late days, Sunday to Tuesday the nightly run’s', async () => {
    // Tuesday 24 Nov 2026, 09:30 Paris: the spools flush batches measured since Friday 20 Nov 14:00.
    const now = at('2026-11-24', 9.5);
    const late = lateDays({
      retention: config.retention,
      now: () => now,
      dayStart: (t) => localDayStart(t, TZ),
      redoDays: 3,
      quietMs: 60_000,
      retryMs: 60_000,
      redo: async () => true,
    });
    for (let t = at('2026-11-20', 14); t < at('2026-11-24', 9); t += 60_000) late.note(t);
    const noted = late.pending();
    late.stop();
    // The next nightly run (Wednesday 00:15) redoes only the last 3 whole days: Sun, Mon, Tue.
    const nightly = await daysToRollUp(
      {
        http: { query: async () => ({ results: [] }) } as never,
        database: 'x',
        retention: config.retention,
        timeZone: TZ,
        log: createLogger('x', 'silent'),
        now: () => at('2026-11-25', 0.25),
      },
      1,
      false,
    );
    const redone = new Set([...noted, ...nightly.map((d) => d.startMs)]);
    // No day twice: the late ones are those the nightly run does not redo.
    expect(noted).toEqual(['2026-11-20', '2026-11-21'].map((d) => localDayStartMs(d, TZ)));
    // Friday (school hours 14:00–16:30 in the flush) and Saturday must be redone; they are in neither.
    expect([...redone].sort()).toEqual(
      ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'].map((d) =>
        localDayStartMs(d, TZ),
      ),
    );
  });
});
