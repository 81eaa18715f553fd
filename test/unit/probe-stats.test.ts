import { describe, expect, it } from 'vitest';
import {
  countEchoes,
  parseReplies,
  parseTransmitted,
  pingErrorCode,
  pingSample,
} from '../../agent/probes/ping.ts';
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
    const s = pingSample('ent', 'ent', 1000, 'ping: ent.invalid: Name or service not known\n', 2000);
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

  it('builds a sample with partial loss from the summary line and the reply lines', () => {
    // Echoes 3 and 7 lost: ping sent 12 to get its 10 replies.
    const seqs = [1, 2, 4, 5, 6, 8, 9, 10, 11, 12];
    const out = iputils(
      seqs.map((seq, i) => reply(seq, i % 2 ? 2 : 1)),
      '12 packets transmitted, 10 received, 16.6667% packet loss, time 2203ms',
    );
    const s = pingSample('gw', 'gateway', 1000, out, 2000);
    expect(s).toMatchObject({ sent: 12, received: 10, lossPct: 16.667, minMs: 1, maxMs: 2, jitterMs: 1 });
    expect(s).toMatchObject({ duplicates: 0, late: 0 });
    expect(s.error).toBeUndefined();
  });
});

/** One iputils reply line. */
const reply = (seq: number, ms: number, dup = false) =>
  `64 bytes from 198.18.0.2: icmp_seq=${seq} ttl=64 time=${ms} ms${dup ? ' (DUP!)' : ''}`;
/** iputils ping output around reply lines and a summary line. */
const iputils = (lines: string[], summary: string) =>
  [
    'PING 198.18.0.2 (198.18.0.2) 56(84) bytes of data.',
    ...lines,
    '',
    '--- 198.18.0.2 ping statistics ---',
    summary,
    '',
  ].join('\n');

describe('each echo counted once, by ICMP sequence number', () => {
  it('keeps a duplicated reply (50 ms later) out of the RTT figures and the loss', () => {
    // A host that answers every echo twice: first replies under 1 ms, copies 50 ms later. The copy of
    // echo 10 never shows: ping had its 10 replies and ended.
    const lines: string[] = [];
    for (let seq = 1; seq <= 10; seq++) {
      lines.push(reply(seq, 0.3 + seq / 20));
      if (seq < 10) lines.push(reply(seq, 50.4 + seq / 10, true));
    }
    const out = iputils(
      lines,
      '10 packets transmitted, 10 received, +9 duplicates, 0% packet loss, time 1845ms',
    );
    const s = pingSample('dup', 'other', 1000, out, 2000);
    expect(s).toMatchObject({ sent: 10, received: 10, lossPct: 0, duplicates: 9, late: 0 });
    // Before: avg 25 ms, p95 55 ms, jitter 53 ms from the copies.
    expect(s.maxMs).toBeLessThan(1);
    expect(s.p95Ms).toBeLessThan(1);
    expect(s.avgMs).toBeCloseTo(0.575, 3);
    expect(s.jitterMs).toBeCloseTo(0.05, 3);
  });

  it('counts a reply after the echo timeout as late and lost, not as an RTT', () => {
    const lines = [1, 2, 4, 5, 6, 7, 8, 9, 10].map((seq) => reply(seq, 10));
    lines.splice(2, 0, reply(3, 2400)); // echo 3 came back after 2.4 s, with a 2 s timeout
    const out = iputils(lines, '10 packets transmitted, 10 received, 0% packet loss, time 1845ms');
    const s = pingSample('slow', 'other', 1000, out, 2000);
    expect(s).toMatchObject({ sent: 10, received: 9, lossPct: 10, late: 1, duplicates: 0, maxMs: 10 });
    // All late: 100 % loss, no RTT figures, the round timed out.
    const allLate = iputils(
      [1, 2, 3].map((seq) => reply(seq, 3000)),
      '3 packets transmitted, 3 received, 0% packet loss, time 5000ms',
    );
    const t = pingSample('slow', 'other', 1000, allLate, 2000);
    expect(t).toMatchObject({ sent: 3, received: 0, lossPct: 100, late: 3, error: 'ETIMEDOUT' });
    expect(t.avgMs).toBeUndefined();
  });

  it('ignores a reply to a sequence number that was never sent', () => {
    // ping itself counts the stray reply (seq 1001) as received and reports no loss.
    const lines = [1, 2, 4, 5, 6, 7, 8, 9, 10].map((seq) => reply(seq, 1));
    lines.splice(1, 0, reply(1001, 1.7), reply(0, 1.5));
    const out = iputils(lines, '10 packets transmitted, 10 received, 0% packet loss, time 1845ms');
    const s = pingSample('stray', 'other', 1000, out, 2000);
    expect(s).toMatchObject({ sent: 10, received: 9, lossPct: 10, duplicates: 0, late: 0, maxMs: 1 });
  });

  it('orders RTTs by sequence for jitter, whatever the arrival order', () => {
    const replies = parseReplies([reply(2, 30), reply(1, 40), reply(3, 20), reply(2, 90, true)].join('\n'));
    expect(replies).toEqual([
      { seq: 2, ms: 30 },
      { seq: 1, ms: 40 },
      { seq: 3, ms: 20 },
      { seq: 2, ms: 90 },
    ]);
    expect(countEchoes(3, replies, 1000)).toEqual({
      received: 3,
      rtts: [40, 30, 20],
      duplicates: 1,
      late: 0,
    });
  });

  it('counts a late first reply and its copy once each, and nothing without a summary line', () => {
    const replies = [
      { seq: 1, ms: 5 },
      { seq: 2, ms: 2500 },
      { seq: 2, ms: 2550 },
    ];
    expect(countEchoes(2, replies, 2000)).toEqual({ received: 1, rtts: [5], duplicates: 1, late: 1 });
    expect(countEchoes(0, replies, 2000)).toEqual({ received: 0, rtts: [], duplicates: 0, late: 0 });
  });
});
