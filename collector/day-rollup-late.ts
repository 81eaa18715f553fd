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
  return {
    /** A batch measured at `t` (ms) was taken. */
    note(t: number): void {
      const t0 = opts.now();
      // 24 h a day is a safe bound here: a 25 h day in the window is at worst redone once more.
      if (stopped || t >= t0 - (opts.redoDays + 1) * 86_400_000) return;
      const edge = rawPolicyStartMs(opts.retention, t0);
      if (Number.isFinite(edge) && t < edge) return;
      days.add(opts.dayStart(t));
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
