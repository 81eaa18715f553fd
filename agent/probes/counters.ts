// Byte counters to rates, with counter wrap and reset told apart: pure functions of two readings.
//
// - SNMP IF-MIB ifHC*Octets are 64-bit; a Linux box on a 32-bit kernel (many Raspberry Pi images)
//   has 32-bit /sys counters that wrap every 4 GiB, i.e. every ~6 minutes at 100 Mbit/s.
// - A counter going backwards is a wrap only if the wrapped delta is plausible (under maxBps for the
//   elapsed time); otherwise the counters were reset (router reboot, interface re-created).
// - For SNMP, sysUpTime (TimeTicks, 1/100 s, itself 32-bit: wraps after 497 days) tells a reboot
//   for sure: uptime went back by more than a wrap would explain.

export interface CounterReading {
  /** Agent clock, ms. */
  t: number;
  inOctets: bigint;
  outOctets: bigint;
  /** sysUpTime in TimeTicks (1/100 s), when the counters come from SNMP. */
  uptimeTicks?: number;
}

export interface CounterRate {
  inBps: number;
  outBps: number;
  /** No rate could be computed this round: the counters were reset (values are 0, not a measurement). */
  counterReset: boolean;
  reason?: 'reboot' | 'backwards' | 'clock';
}

export interface RateOptions {
  /** Width of the counters: 64 for IF-MIB ifHC*, the kernel's word size for a box (see counterWidth). */
  width: 32 | 64;
  /** A wrapped delta implying more than this is a reset, not a wrap (default 10 Gbit/s). */
  maxBps?: number;
}

const TICKS_MODULUS = 2 ** 32;

/** True when the uptime went back by more than a TimeTicks wrap explains: the device rebooted. */
export function uptimeRebooted(prevTicks: number, nextTicks: number, elapsedMs: number): boolean {
  if (nextTicks >= prevTicks) {
    // A reboot whose new uptime already passed the old one cannot be seen; intervals are far shorter.
    return false;
  }
  const expected = (prevTicks + elapsedMs / 10) % TICKS_MODULUS;
  // A wrap puts the new uptime near the expected one (allow 10 % of the interval plus 5 s of skew).
  const tolerance = elapsedMs / 100 + 500;
  return Math.abs(expected - nextTicks) > tolerance;
}

function delta(prev: bigint, next: bigint, bits: 32 | 64, maxOctets: bigint): bigint | null {
  if (next >= prev) return next - prev;
  const wrapped = (1n << BigInt(bits)) - prev + next;
  return wrapped <= maxOctets ? wrapped : null;
}

/** Rates in bits/s between two readings, or null for the first reading or a non-advancing clock. */
export function counterRate(
  prev: CounterReading | undefined,
  next: CounterReading,
  opts: RateOptions,
): CounterRate | null {
  if (!prev) return null;
  const elapsedMs = next.t - prev.t;
  if (elapsedMs <= 0) return { inBps: 0, outBps: 0, counterReset: true, reason: 'clock' };
  if (
    prev.uptimeTicks !== undefined &&
    next.uptimeTicks !== undefined &&
    uptimeRebooted(prev.uptimeTicks, next.uptimeTicks, elapsedMs)
  ) {
    return { inBps: 0, outBps: 0, counterReset: true, reason: 'reboot' };
  }
  const bits = opts.width;
  const maxOctets = BigInt(Math.ceil((((opts.maxBps ?? 10e9) / 8) * elapsedMs) / 1000));
  const dIn = delta(prev.inOctets, next.inOctets, bits, maxOctets);
  const dOut = delta(prev.outOctets, next.outOctets, bits, maxOctets);
  if (dIn === null || dOut === null) return { inBps: 0, outBps: 0, counterReset: true, reason: 'backwards' };
  const toBps = (d: bigint) => Math.round((Number(d) * 8 * 1000) / elapsedMs);
  return { inBps: toBps(dIn), outBps: toBps(dOut), counterReset: false };
}

/**
 * Width of this machine's /sys/class/net counters: the kernel's `unsigned long`. os.machine() names the
 * kernel's architecture, which is what matters (a 32-bit userland often runs on a 64-bit Pi kernel).
 */
export function kernelCounterWidth(machine: string): 32 | 64 {
  return /64|s390x/.test(machine) ? 64 : 32;
}
