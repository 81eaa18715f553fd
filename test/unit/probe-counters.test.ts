import { describe, expect, it } from 'vitest';
import {
  type CounterReading,
  counterRate,
  kernelCounterWidth,
  plausibleBps,
  uptimeRebooted,
} from '../../agent/probes/counters.ts';
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

  it('keeps 64-bit values above 2^53 exact (BigInt)', () => {
    const base = (1n << 60n) + 1n;
    const r = counterRate(reading(0, base, base), reading(1, base + 75_000_000n, base + 1n), { width: 64 });
    expect(r).toEqual({ inBps: 10_000_000, outBps: 0, counterReset: false });
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

  it('walks a whole series: steady, 32-bit wrap, reboot, steady', () => {
    const series = [
      reading(0, TWO_32 - 150_000_000n, 5_000_000n, 1_000_000),
      reading(1, TWO_32 - 75_000_000n, 5_000_000n, 1_006_000),
      reading(2, 0n, 5_000_000n, 1_012_000), // exactly at the wrap
      reading(3, 500n, 0n, 1_500), // reboot
      reading(4, 75_000_500n, 0n, 7_500),
    ];
    const rates = series.slice(1).map((r, i) => counterRate(series[i], r, { width: 32 }));
    expect(rates.map((r) => [r?.inBps, r?.counterReset])).toEqual([
      [10_000_000, false],
      [10_000_000, false],
      [0, true],
      [10_000_000, false],
    ]);
  });
});

/** Two readings `s` seconds apart on the agent clock, with optional extra fields. */
function pair(
  s: number,
  prev: [bigint, bigint, Partial<CounterReading>?],
  next: [bigint, bigint, Partial<CounterReading>?],
): [CounterReading, CounterReading] {
  const t0 = 1_800_000_000_000;
  return [
    { t: t0, inOctets: prev[0], outOctets: prev[1], ...prev[2] },
    { t: t0 + s * 1000, inOctets: next[0], outOctets: next[1], ...next[2] },
  ];
}

describe('wrap or reset: counterRate judges from link speed, uptime and both directions', () => {
  it('reads a reset 30 s after 3.5e9 / 9e8 bytes as a reset at default settings (was 222.7 / 907.5 Mbit/s)', () => {
    const [prev, next] = pair(30, [3_500_000_000n, 900_000_000n], [40_000_000n, 8_000_000n]);
    expect(counterRate(prev, next, { width: 32 })).toEqual({
      inBps: 0,
      outBps: 0,
      counterReset: true,
      reason: 'backwards',
    });
    // Both counters went back together: a reset however loose the bound on a wrap.
    expect(counterRate(prev, next, { width: 32, maxBps: 10e9 })?.counterReset).toBe(true);
  });

  it('reads other resets after high readings as resets', () => {
    // One direction was idle (0 → 0): the other alone went back by more than a wrap at 100 Mbit/s.
    const [p1, n1] = pair(30, [3_500_000_000n, 0n], [40_000_000n, 0n]);
    expect(counterRate(p1, n1, { width: 32 })).toMatchObject({ counterReset: false }); // 222.7 Mbit/s fits 1 Gbit/s
    expect(counterRate({ ...p1, linkBps: 100e6 }, { ...n1, linkBps: 100e6 }, { width: 32 })).toMatchObject({
      counterReset: true,
      reason: 'backwards',
    });
    // The same, bounded by a 100/50 Mbit/s contract instead (× 2 headroom: 200 Mbit/s < 222.7).
    expect(counterRate(p1, n1, { width: 32, contractBps: { in: 100e6, out: 50e6 } })?.counterReset).toBe(
      true,
    );
    // Both back from mid-range values: a reset, not two wraps.
    const [p2, n2] = pair(30, [2_000_000_000n, 2_000_000_000n], [1_000n, 1_000n]);
    expect(counterRate(p2, n2, { width: 32 })?.counterReset).toBe(true);
  });

  it('computes a genuine single wrap near 2^32 on one direction exactly', () => {
    // in: 2^32 - 300 MB, then 75 MB after the wrap: 375 MB in 30 s = 100 Mbit/s; out went on.
    const [prev, next] = pair(30, [TWO_32 - 300_000_000n, 900_000_000n], [75_000_000n, 937_500_000n]);
    const plain = { inBps: 100_000_000, outBps: 10_000_000, counterReset: false };
    expect(counterRate(prev, next, { width: 32 })).toEqual(plain);
    // Within a 100 Mbit/s link (× 1.25) and a 100/20 Mbit/s contract (× 2) too.
    const link = { linkBps: 100e6 };
    expect(counterRate({ ...prev, ...link }, { ...next, ...link }, { width: 32 })).toEqual(plain);
    expect(counterRate(prev, next, { width: 32, contractBps: { in: 100e6, out: 20e6 } })).toEqual(plain);
    // The out direction wrapping alone at 10 Mbit/s is a wrap as well.
    const [p2, n2] = pair(30, [100n, TWO_32 - 25_000_000n], [100n, 12_500_000n]);
    expect(counterRate(p2, n2, { width: 32 })).toEqual({ inBps: 0, outBps: 10_000_000, counterReset: false });
  });

  it('reads both counters low after a reboot, uptime back, as a reset even when they went up', () => {
    // The router rebooted 10 s before the reading: uptime 1000 ticks, counters past their old values.
    const [prev, next] = pair(
      30,
      [1_000n, 2_000n, { uptimeTicks: 8_640_000 }],
      [5_000n, 9_000n, { uptimeTicks: 1_000 }],
    );
    expect(counterRate(prev, next, { width: 32 })).toMatchObject({ counterReset: true, reason: 'reboot' });
    // And going back, a box's /proc/uptime (× 100, past 2^32 ticks after 497 days) likewise.
    const [p2, n2] = pair(
      30,
      [3_000_000_000n, 5n, { uptimeTicks: 5e9 }],
      [4_000n, 3n, { uptimeTicks: 2_500 }],
    );
    expect(counterRate(p2, n2, { width: 32 })).toMatchObject({ counterReset: true, reason: 'reboot' });
  });

  it('reads a counter restart without a reboot from the discontinuity marker', () => {
    // ifCounterDiscontinuityTime moved (or the box interface got a new ifindex): counters restarted.
    const [prev, next] = pair(
      30,
      [1_000n, 1_000n, { discontinuity: 0 }],
      [90_000_000n, 9_000n, { discontinuity: 4242 }],
    );
    expect(counterRate(prev, next, { width: 64 })).toMatchObject({
      counterReset: true,
      reason: 'discontinuity',
    });
    // A marker missing from one reading says nothing.
    const [p2, n2] = pair(30, [1_000n, 1_000n, { discontinuity: 0 }], [1_000n, 1_000n]);
    expect(counterRate(p2, n2, { width: 64 })?.counterReset).toBe(false);
  });

  it('reads a wrap at a rate above the link speed as a reset', () => {
    // in: 2^32 - 400 MB then 5 MB: 405 MB in 30 s = 108 Mbit/s. Over a 10 Mbit/s link: a reset;
    // over 100 Mbit/s (125 with its slack): a wrap; a renegotiated link counts at its faster speed.
    const [prev, next] = pair(30, [TWO_32 - 400_000_000n, 1_000n], [5_000_000n, 2_000n]);
    const at = (p: number, n: number) =>
      counterRate({ ...prev, linkBps: p }, { ...next, linkBps: n }, { width: 32 });
    expect(at(10e6, 10e6)).toMatchObject({ counterReset: true, reason: 'backwards' });
    expect(at(100e6, 100e6)).toMatchObject({ counterReset: false, inBps: 108_000_000 });
    expect(at(10e6, 100e6)).toMatchObject({ counterReset: false, inBps: 108_000_000 });
    // The configured bound applies even when the link is faster.
    expect(
      counterRate({ ...prev, linkBps: 1e9 }, { ...next, linkBps: 1e9 }, { width: 32, maxBps: 50e6 })
        ?.counterReset,
    ).toBe(true);
  });

  it('reads any 64-bit decrease as a reset, even one from just under 2^64', () => {
    const [p1, n1] = pair(60, [TWO_64 - 37_500_000n, 10n], [37_500_000n, 20n]);
    expect(counterRate(p1, n1, { width: 64, maxBps: 100e9 })).toMatchObject({
      counterReset: true,
      reason: 'backwards',
    });
    const [p2, n2] = pair(60, [5_000_000n, 9n], [4_000_000n, 10n]);
    expect(counterRate(p2, n2, { width: 64 })).toMatchObject({ counterReset: true, reason: 'backwards' });
  });

  it('takes counters past 2^32 on a 32-bit kernel as 64-bit (a driver with 64-bit statistics)', () => {
    // 5 GB then 3 GB: a 32-bit counter cannot hold 5e9, so going back is a reset, not a 2.29 GB wrap.
    const [prev, next] = pair(30, [5_000_000_000n, 100n], [3_000_000_000n, 200n]);
    expect(counterRate(prev, next, { width: 32, maxBps: 10e9 })).toMatchObject({ counterReset: true });
    // And 5 GB moved forward in one interval is counted whole, not modulo 2^32.
    const [p2, n2] = pair(40, [1_000n, 0n], [5_000_001_000n, 0n]);
    expect(counterRate(p2, n2, { width: 32 })).toEqual({ inBps: 1e9, outBps: 0, counterReset: false });
  });

  it('gives no rate over an interval of 0 or less on the agent clock', () => {
    for (const s of [0, -30]) {
      const [prev, next] = pair(s, [0n, 0n], [10n, 10n]);
      expect(counterRate(prev, next, { width: 64 })).toMatchObject({ counterReset: true, reason: 'clock' });
      expect(counterRate(prev, next, { width: 32 })).toMatchObject({ counterReset: true, reason: 'clock' });
    }
  });

  it('times the interval on the device uptime when it advanced, so an agent clock step skews nothing', () => {
    // The agent clock stepped back 1 h; the device counted 30 s and 37.5 MB: 10 Mbit/s.
    const [prev, next] = pair(
      -3570,
      [0n, 0n, { uptimeTicks: 100_000 }],
      [37_500_000n, 0n, { uptimeTicks: 103_000 }],
    );
    expect(counterRate(prev, next, { width: 64 })).toEqual({
      inBps: 10_000_000,
      outBps: 0,
      counterReset: false,
    });
    // A frozen uptime falls back on the agent clock (here 60 s).
    const [p2, n2] = pair(60, [0n, 0n, { uptimeTicks: 5 }], [75_000_000n, 0n, { uptimeTicks: 5 }]);
    expect(counterRate(p2, n2, { width: 64 })?.inBps).toBe(10_000_000);
  });
});

describe('plausibleBps', () => {
  it('is the least of link speed × 1.25, contract × 2 and the bound', () => {
    const [p, n] = pair(30, [0n, 0n], [0n, 0n]);
    expect(plausibleBps(p, n, 'in', { width: 32 })).toBe(1e9);
    expect(plausibleBps(p, n, 'in', { width: 32, maxBps: 5e6 })).toBe(5e6);
    expect(plausibleBps({ ...p, linkBps: 100e6 }, n, 'in', { width: 32 })).toBe(125e6);
    const contract = { contractBps: { in: 20e6, out: 1e6 } };
    expect(plausibleBps(p, n, 'in', { width: 32, ...contract })).toBe(40e6);
    expect(plausibleBps(p, n, 'out', { width: 32, ...contract })).toBe(2e6);
    expect(plausibleBps(p, n, 'out', { width: 32, contractBps: { in: 20e6 } })).toBe(1e9);
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
