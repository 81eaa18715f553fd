// A transfer's two clocks: no progress for idleMs, or totalMs since it began, whichever comes first.
// Timers are the event loop's (monotonic): a wall-clock step neither cuts nor extends a transfer.

export type Expiry = 'idle' | 'total';

export interface Deadline {
  /** Bytes moved: the idle clock starts again. */
  progress(): void;
  /** The transfer ended on its own: neither clock fires. */
  stop(): void;
}

/**
 * Arms both clocks now; `onExpire` is called at most once, with the clock that ran out.
 * idleMs or totalMs of 0 (or Infinity) leaves that clock off. Timers are unref'd: a pending deadline
 * never keeps the process alive.
 */
export function deadline(
  opts: { idleMs: number; totalMs: number },
  onExpire: (why: Expiry) => void,
): Deadline {
  let done = false;
  const arm = (ms: number, why: Expiry) => {
    if (!(ms > 0) || !Number.isFinite(ms)) return undefined;
    const t = setTimeout(() => {
      if (done) return;
      stop();
      onExpire(why);
    }, ms);
    t.unref();
    return t;
  };
  const idle = arm(opts.idleMs, 'idle');
  const total = arm(opts.totalMs, 'total');
  function stop() {
    done = true;
    clearTimeout(idle);
    clearTimeout(total);
  }
  return {
    progress: () => {
      if (!done) idle?.refresh();
    },
    stop,
  };
}
