import { describe, expect, it } from 'vitest';
import { counterRate, kernelCounterWidth, uptimeRebooted } from '../../agent/probes/counters.ts';
import { decodeCounter64 } from '../../agent/probes/snmp.ts';

const TWO_64 = 1n << 64n;
const TWO_32 = 1n << 32n;

/** A synthetic series: readings every 60 s. */
function reading(i: number, inOctets: bigint, outOctets: bigint, uptimeTicks?: number) {
  return {
    t: 1_000_000 + i * 60_000,
    inOctets,
    outOctets,
    ...(uptimeTicks === undefined ? {} : { uptimeTicks }),
  };
}

describe('counterRate', () => {
  it('needs two readings', () => {
    expect(counterRate(undefined, reading(0, 0n, 0n), { width: 64 })).toBeNull();
  });

  it('turns octet deltas into bits per second', () => {
    // 75 MB in, 15 MB out over 60 s = 10 Mbit/s and 2 Mbit/s.
    const r = counterRate(reading(0, 1000n, 5000n), reading(1, 1000n + 75_000_000n, 5000n + 15_000_000n), {
      width: 64,
    });
    expect(r).toEqual({ inBps: 10_000_000, outBps: 2_000_000, counterReset: false });
  });

  it('handles a 64-bit wrap (values above 2^53 stay exact as BigInt)', () => {
    const before = TWO_64 - 37_500_000n; // 37.5 MB before the wrap
    const r = counterRate(reading(0, before, before, 100), reading(1, 37_500_000n, 0n, 6100), { width: 64 });
    expect(r).toEqual({ inBps: 10_000_000, outBps: 5_000_000, counterReset: false });
  });

  it('handles a 32-bit wrap of box counters on a 32-bit kernel', () => {
    const r = counterRate(reading(0, TWO_32 - 1000n, 10n), reading(1, 74_999_000n, 20n), { width: 32 });
    expect(r?.counterReset).toBe(false);
    expect(r?.inBps).toBe(10_000_000);
  });

  it('takes a backwards jump too big for a wrap at the line rate as a reset', () => {
    // 32-bit wrap would mean ~4 GB in 60 s = 572 Mbit/s, over a 100 Mbit/s line.
    const r = counterRate(reading(0, 3_000_000_000n, 0n), reading(1, 1_000n, 0n), {
      width: 32,
      maxBps: 100e6,
    });
    expect(r).toEqual({ inBps: 0, outBps: 0, counterReset: true, reason: 'backwards' });
    // 64-bit counters going backwards are always a reset: a wrap would be 2^64 bytes.
    const r64 = counterRate(reading(0, 5_000_000n, 9n), reading(1, 4_000_000n, 10n), { width: 64 });
    expect(r64?.reason).toBe('backwards');
  });

  it('sees a router reboot from sysUpTime even when counters went up', () => {
    // Rebooted 20 s before the reading: uptime 2000 ticks, counters already past the old values.
    const prev = reading(0, 1_000n, 1_000n, 50_000_000);
    const next = reading(1, 9_000_000n, 9_000_000n, 2_000);
    expect(counterRate(prev, next, { width: 64 })).toEqual({
      inBps: 0,
      outBps: 0,
      counterReset: true,
      reason: 'reboot',
    });
  });

  it('does not take a sysUpTime wrap (497 days) for a reboot', () => {
    const prev = reading(0, 0n, 0n, 2 ** 32 - 1000); // 10 s before the TimeTicks wrap
    const next = reading(1, 75_000_000n, 0n, 5000); // 60 s later: 6000 ticks on, wrapped
    expect(counterRate(prev, next, { width: 64 })).toEqual({
      inBps: 10_000_000,
      outBps: 0,
      counterReset: false,
    });
  });

  it('refuses a clock that did not advance', () => {
    const r = counterRate(reading(1, 0n, 0n), reading(1, 10n, 10n), { width: 64 });
    expect(r).toMatchObject({ counterReset: true, reason: 'clock' });
  });

  it('walks a whole series: steady, wrap, reboot, steady', () => {
    const series = [
      reading(0, TWO_64 - 150_000_000n, 0n, 1_000_000),
      reading(1, TWO_64 - 75_000_000n, 0n, 1_006_000),
      reading(2, 0n, 0n, 1_012_000), // exactly at the wrap
      reading(3, 500n, 0n, 1_500), // reboot
      reading(4, 75_000_500n, 0n, 7_500),
    ];
    const rates = series.slice(1).map((r, i) => counterRate(series[i], r, { width: 64 }));
    expect(rates.map((r) => [r?.inBps, r?.counterReset])).toEqual([
      [10_000_000, false],
      [10_000_000, false],
      [0, true],
      [10_000_000, false],
    ]);
  });
});

describe('uptimeRebooted', () => {
  it('is false while uptime moves forward', () => {
    expect(uptimeRebooted(1000, 7000, 60_000)).toBe(false);
  });
  it('is true when uptime goes back', () => {
    expect(uptimeRebooted(1_000_000, 500, 60_000)).toBe(true);
  });
  it('is false across a TimeTicks wrap at the expected place', () => {
    expect(uptimeRebooted(2 ** 32 - 100, 5900, 60_000)).toBe(false);
  });
});

describe('Counter64 and counter widths', () => {
  it('decodes minimal-length big-endian buffers as unsigned BigInt', () => {
    expect(decodeCounter64(Buffer.from([0x00]))).toBe(0n);
    expect(decodeCounter64(Buffer.from([0x01, 0x00]))).toBe(256n);
    expect(decodeCounter64(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(TWO_64 - 1n);
    // BER may add a leading zero byte to keep the value positive: 9 bytes.
    expect(decodeCounter64(Buffer.from([0x00, 0x80, 0, 0, 0, 0, 0, 0, 0]))).toBe(1n << 63n);
    expect(decodeCounter64(42)).toBe(42n);
    expect(() => decodeCounter64('12')).toThrow(/not a counter/);
  });

  it('takes the kernel architecture for box counters', () => {
    expect(kernelCounterWidth('x86_64')).toBe(64);
    expect(kernelCounterWidth('aarch64')).toBe(64);
    expect(kernelCounterWidth('armv7l')).toBe(32);
    expect(kernelCounterWidth('i686')).toBe(32);
  });
});
