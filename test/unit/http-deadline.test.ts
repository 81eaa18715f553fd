import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deadline, type Expiry } from '../../collector/http/deadline.ts';

describe('transfer deadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const start = (idleMs: number, totalMs: number) => {
    const fired: Expiry[] = [];
    const d = deadline({ idleMs, totalMs }, (why) => fired.push(why));
    return { d, fired };
  };

  it('fires idle when nothing moves, and only once', () => {
    const { fired } = start(1000, 10_000);
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['idle']);
    vi.advanceTimersByTime(20_000);
    expect(fired).toEqual(['idle']);
  });

  it('lets progress put the idle clock back, but not the total one', () => {
    const { d, fired } = start(1000, 3500);
    for (let i = 0; i < 6; i++) {
      vi.advanceTimersByTime(500);
      d.progress();
    }
    vi.advanceTimersByTime(499);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['total']);
  });

  it('fires nothing once stopped, and leaves a clock of 0 off', () => {
    const stopped = start(1000, 2000);
    stopped.d.stop();
    const noIdle = start(0, 2000);
    vi.advanceTimersByTime(5000);
    expect(stopped.fired).toEqual([]);
    expect(noIdle.fired).toEqual(['total']);
  });
});
