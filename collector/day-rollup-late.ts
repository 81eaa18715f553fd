// Days to roll up again because batches measured on them arrived late: a box's spool flushed after
// days offline, a collector back after days down. The nightly run already redoes the last few days;
// this notes older ones (within the raw retention) and asks for them once late batches have stopped
// coming for a while (a spool flush takes minutes), again later if that run could not be done.

import type { RetentionConfig } from './config.ts';
import { rawPolicyStartMs } from './retention.ts';

export interface LateDaysOptions {
  retention: RetentionConfig;
  /** The calendar's now (ms); injected in tests. */
  now: () => number;
  /** The local midnight of the day holding an instant (ms). */
  dayStart: (t: number) => number;
  /** Days the nightly run redoes itself. */
  redoDays: number;
  /** Quiet time before the days are asked for, ms. */
  quietMs: number;
  /** After a redo that could not be done, ms. */
  retryMs: number;
  /** Rolls the days (local midnights, sorted) up again; false: not done, try again later. */
  redo: (days: number[]) => Promise<boolean>;
}

export function lateDays(opts: LateDaysOptions) {
  const days = new Set<number>();
  let lastAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = (ms: number) => {
    timer ??= setTimeout(fire, ms);
    timer.unref();
  };
  function fire() {
    timer = undefined;
    if (stopped || days.size === 0) return;
    // Quiet time on the process's monotonic clock (the injected `now` is the calendar's).
    const quietFor = performance.now() - lastAt;
    if (quietFor < opts.quietMs) return arm(opts.quietMs - quietFor);
    const asked = [...days].sort((a, b) => a - b);
    days.clear();
    void opts.redo(asked).then((ok) => {
      if (ok || stopped) return;
      for (const d of asked) days.add(d);
      arm(opts.retryMs);
    });
  }
  // The first day the next nightly run redoes: today and the redoDays − 1 days before it (noon of a
  // day lies inside it whatever its length, 23 h and 25 h days included). Worked out once a minute.
  let cachedMinute = Number.NaN;
  let cachedFirst = 0;
  const firstRedone = (t0: number): number => {
    const minute = Math.floor(t0 / 60_000);
    if (minute !== cachedMinute) {
      cachedMinute = minute;
      const today = opts.dayStart(t0);
      cachedFirst = opts.dayStart(today - (opts.redoDays - 1) * 86_400_000 + 12 * 3_600_000);
    }
    return cachedFirst;
  };
  return {
    /** A batch measured at `t` (ms) was taken. */
    note(t: number): void {
      if (stopped) return;
      const t0 = opts.now();
      // A day the next nightly run redoes needs nothing (every batch passes here: a cheap test).
      if (t >= firstRedone(t0)) return;
      const day = opts.dayStart(t);
      const edge = rawPolicyStartMs(opts.retention, t0);
      if (Number.isFinite(edge) && t < edge) return;
      days.add(day);
      lastAt = performance.now();
      arm(opts.quietMs);
    },
    /** Days waiting, local midnights (ms), sorted. */
    pending: (): number[] => [...days].sort((a, b) => a - b),
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
