// Byte counters to rates, with counter wrap and reset told apart: pure functions of two readings.
//
// - SNMP IF-MIB ifHC*Octets are 64-bit, ifIn/OutOctets 32-bit; a Linux box on a 32-bit kernel (many
//   Raspberry Pi images) has 32-bit counters that wrap every 4 GiB, i.e. every ~6 min at 100 Mbit/s.
// - A 64-bit counter never wraps in practice (2^64 bytes is 468 years at 10 Gbit/s): going back is a
//   reset. A 32-bit counter going back is a wrap only when the wrapped delta fits the link's plausible
//   speed; a reset (reboot, interface re-created) zeroes BOTH counters at once, so both going back in
//   the same interval is read as a reset. Misreading a reset as a wrap invents a traffic peak; the
//   other mistake loses one interval: when in doubt, no rate.
// - The device's uptime (sysUpTime, /proc/uptime) going back is a reboot; ifCounterDiscontinuityTime
//   or the box's ifindex changing is a counter restart without one (RFC 2863 §6, ifInOctets).

export interface CounterReading {
  /** Agent clock, ms since the epoch: the sample's time, and the interval when no uptime is known. */
  t: number;
  inOctets: bigint;
  outOctets: bigint;
  /**
   * Device uptime in 1/100 s, read with the counters: SNMP sysUpTime (TimeTicks, wraps at 2^32 after
   * 497 days, RFC 2578 §7.1.8) or the box's /proc/uptime × 100. Times the interval on the device's own
   * clock (an agent clock step, common on a Raspberry Pi without RTC, then cannot skew a rate).
   */
  uptimeTicks?: number;
  /**
   * Changes when the counters restart without the uptime going back: IF-MIB
   * ifCounterDiscontinuityTime (RFC 2863 §6), or the ifindex of a box interface (a re-created
   * interface, e.g. a USB modem plugged again, starts from 0 under a new index).
   */
  discontinuity?: number;
  /** Interface speed stated by the device, bit/s (ifHighSpeed × 10^6, ifSpeed, /sys/class/net/X/speed). */
  linkBps?: number;
}

export type ResetReason = 'reboot' | 'discontinuity' | 'backwards' | 'clock';

export interface CounterRate {
  inBps: number;
  outBps: number;
  /** No rate could be computed this round: the counters were reset (values are 0, not a measurement). */
  counterReset: boolean;
  reason?: ResetReason;
}

export interface RateOptions {
  /** Width of the counters: 64 for IF-MIB ifHC*, 32 for ifIn/OutOctets, the kernel's word size for a box. */
  width: 32 | 64;
  /** The school's contracted rates, bit/s, when the agent knows them: in = download, out = upload. */
  contractBps?: { in?: number | undefined; out?: number | undefined } | undefined;
  /** Bound on the rate a 32-bit wrap may imply when nothing tighter is known, bit/s (default 1 Gbit/s). */
  maxBps?: number;
}

const TICKS_MODULUS = 2 ** 32;
const MAX_32 = (1n << 32n) - 1n;

/** Default `maxBps`: Gigabit Ethernet, the fastest port of the 32-bit boxes (Pi 3B+, i686 PCs). */
export const DEFAULT_MAX_WRAP_BPS = 1e9;
/**
 * Slack over the stated interface speed: the counters are sampled a little before the reading's time
 * (snmpd caches IF-MIB for a few seconds, systeminformation reads via a shell), which over a 30 s
 * interval can inflate a rate by ~10 %; Ethernet octet counters themselves stay under the line rate.
 */
const LINK_HEADROOM = 1.25;
/** Slack over the contract: ISPs provision somewhat above it, and a contract on file may be outdated. */
const CONTRACT_HEADROOM = 2;

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

/**
 * The highest rate, bit/s, one direction of this link can plausibly carry: the least of the stated
 * interface speed (the faster of the two readings, as a link may renegotiate), the contract and maxBps.
 */
export function plausibleBps(
  prev: CounterReading,
  next: CounterReading,
  direction: 'in' | 'out',
  opts: RateOptions,
): number {
  const bounds = [opts.maxBps ?? DEFAULT_MAX_WRAP_BPS];
  const link = Math.max(prev.linkBps ?? 0, next.linkBps ?? 0);
  if (link > 0) bounds.push(link * LINK_HEADROOM);
  const contract = opts.contractBps?.[direction];
  if (contract !== undefined && contract > 0) bounds.push(contract * CONTRACT_HEADROOM);
  return Math.min(...bounds);
}

/** Interval between the readings in ms: the device's uptime when it advanced, else the agent clock. */
function intervalMs(prev: CounterReading, next: CounterReading): number {
  if (prev.uptimeTicks !== undefined && next.uptimeTicks !== undefined) {
    const ticks = (next.uptimeTicks - prev.uptimeTicks + TICKS_MODULUS) % TICKS_MODULUS;
    // A frozen uptime (a broken agent) says nothing: fall back on the agent clock.
    if (ticks > 0) return ticks * 10;
  }
  return next.t - prev.t;
}

const reset = (reason: ResetReason): CounterRate => ({ inBps: 0, outBps: 0, counterReset: true, reason });

/**
 * Rates in bit/s between two readings, or null for the first reading. A reset (no rate this interval)
 * when: the uptime went back (reboot); the discontinuity marker changed; the interval is not positive;
 * a 64-bit counter went back; both 32-bit counters went back; or one 32-bit counter went back by more
 * than a wrap at plausibleBps explains.
 */
export function counterRate(
  prev: CounterReading | undefined,
  next: CounterReading,
  opts: RateOptions,
): CounterRate | null {
  if (!prev) return null;
  if (
    prev.uptimeTicks !== undefined &&
    next.uptimeTicks !== undefined &&
    uptimeRebooted(prev.uptimeTicks, next.uptimeTicks, next.t - prev.t)
  ) {
    return reset('reboot');
  }
  if (
    prev.discontinuity !== undefined &&
    next.discontinuity !== undefined &&
    prev.discontinuity !== next.discontinuity
  ) {
    return reset('discontinuity');
  }
  const elapsedMs = intervalMs(prev, next);
  if (elapsedMs <= 0) return reset('clock');

  // A value a 32-bit counter cannot hold: the kernel keeps this driver's statistics in 64 bits.
  const width = [prev.inOctets, prev.outOctets, next.inOctets, next.outOctets].some((v) => v > MAX_32)
    ? 64
    : opts.width;
  const inBack = next.inOctets < prev.inOctets;
  const outBack = next.outOctets < prev.outOctets;
  if ((inBack || outBack) && (width === 64 || (inBack && outBack))) return reset('backwards');

  const modulus = 1n << BigInt(width);
  const dIn = (next.inOctets - prev.inOctets + modulus) % modulus;
  const dOut = (next.outOctets - prev.outOctets + modulus) % modulus;
  if (inBack || outBack) {
    const [wrapped, direction] = inBack ? ([dIn, 'in'] as const) : ([dOut, 'out'] as const);
    const maxOctets = (plausibleBps(prev, next, direction, opts) / 8) * (elapsedMs / 1000);
    if (Number(wrapped) > maxOctets) return reset('backwards');
  }
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
