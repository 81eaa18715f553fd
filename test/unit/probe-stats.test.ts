import { describe, expect, it } from 'vitest';
import { parseTransmitted, pingErrorCode, pingSample } from '../../agent/probes/ping.ts';
import { lossPct, meanAbsoluteJitter, percentile, summarizeRtts } from '../../agent/probes/stats.ts';

describe('percentile (linear interpolation between closest ranks)', () => {
  it('matches hand-computed values', () => {
    const v = [15, 20, 35, 40, 50];
    expect(percentile(v, 0)).toBe(15);
    expect(percentile(v, 50)).toBe(35);
    expect(percentile(v, 100)).toBe(50);
    // rank 0.4 × 4 = 1.6 → 20 + 0.6 × 15 = 29
    expect(percentile(v, 40)).toBeCloseTo(29, 10);
    // rank 0.95 × 4 = 3.8 → 40 + 0.8 × 10 = 48
    expect(percentile(v, 95)).toBeCloseTo(48, 10);
  });

  it('sorts its input without changing it and handles one or no value', () => {
    const v = [3, 1, 2];
    expect(percentile(v, 50)).toBe(2);
    expect(v).toEqual([3, 1, 2]);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('median of an even count is the mean of the middle two', () => {
    expect(percentile([1, 2, 3, 10], 50)).toBe(2.5);
  });
});

describe('jitter: mean absolute difference of consecutive RTTs (RFC 3550 §6.4.1 D)', () => {
  it('is order-sensitive, unlike a standard deviation', () => {
    // Same set of RTTs, different order: alternating is jittery, monotonic is smooth.
    expect(meanAbsoluteJitter([10, 20, 10, 20, 10])).toBe(10);
    expect(meanAbsoluteJitter([10, 10, 20, 20, 10])).toBe(5);
    expect(meanAbsoluteJitter([10, 12, 14, 16])).toBe(2);
  });

  it('is zero for a steady link and undefined under two echoes', () => {
    expect(meanAbsoluteJitter([5, 5, 5])).toBe(0);
    expect(meanAbsoluteJitter([5])).toBeUndefined();
    expect(meanAbsoluteJitter([])).toBeUndefined();
  });
});

describe('summarizeRtts and lossPct', () => {
  it('summarizes a round', () => {
    const s = summarizeRtts([10, 12, 11, 30, 10, 11, 12, 10, 11, 13]);
    expect(s).toEqual({
      minMs: 10,
      avgMs: 13,
      maxMs: 30,
      medianMs: 11,
      p95Ms: 22.35, // rank 8.55 between 13 and 30
      jitterMs: 5.444, // |Δ| = 2+1+19+20+1+1+2+1+2 = 49 over 9 pairs
    });
  });

  it('has no figures when nothing came back', () => {
    expect(summarizeRtts([])).toBeUndefined();
  });

  it('computes loss, 100 % when nothing was sent', () => {
    expect(lossPct(10, 10)).toBe(0);
    expect(lossPct(10, 7)).toBe(30);
    expect(lossPct(3, 1)).toBe(66.667);
    expect(lossPct(0, 0)).toBe(100);
    expect(lossPct(10, 12)).toBe(0); // duplicates never make loss negative
  });
});

describe('ping output', () => {
  const ok = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.051 ms

--- 127.0.0.1 ping statistics ---
12 packets transmitted, 10 received, 16.6667% packet loss, time 1833ms
rtt min/avg/max/mdev = 0.036/0.040/0.051/0.004 ms
`;

  it('reads sent and received from the summary line', () => {
    expect(parseTransmitted(ok)).toEqual({ sent: 12, received: 10 });
    expect(parseTransmitted('ping: x: Name or service not known\n')).toBeUndefined();
  });

  it('names why nothing came back', () => {
    expect(pingErrorCode('ping: nohost.invalid: Name or service not known', 0)).toBe('ENOTFOUND');
    expect(pingErrorCode('ping: h: Temporary failure in name resolution', 0)).toBe('EAI_AGAIN');
    expect(pingErrorCode('ping: connect: Network is unreachable', 0)).toBe('ENETUNREACH');
    expect(pingErrorCode('From 198.18.0.1 icmp_seq=1 Destination Host Unreachable', 0)).toBe('EHOSTUNREACH');
    expect(pingErrorCode('10 packets transmitted, 0 received, 100% packet loss', 0)).toBe('ETIMEDOUT');
    expect(pingErrorCode(ok, 10)).toBeUndefined();
  });

  it('builds a sample: an unknown host is 100 % loss with an error code', () => {
    const s = pingSample('ent', 'ent', 1000, 'ping: ent.invalid: Name or service not known\n', []);
    expect(s).toEqual({
      probe: 'ping',
      t: 1000,
      target: 'ent',
      role: 'ent',
      sent: 0,
      received: 0,
      lossPct: 100,
      error: 'ENOTFOUND',
    });
  });

  it('builds a sample with partial loss from the summary line and the RTTs', () => {
    const s = pingSample('gw', 'gateway', 1000, ok, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
    expect(s).toMatchObject({ sent: 12, received: 10, lossPct: 16.667, minMs: 1, maxMs: 2, jitterMs: 1 });
    expect(s.error).toBeUndefined();
  });
});
