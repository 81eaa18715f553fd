import { describe, expect, it } from 'vitest';
import { describeSample, formatBps, formatDuration, formatTable, onceReport } from '../../agent/once.ts';
import type { RoundOutcome } from '../../agent/scheduler.ts';

const settled = Promise.resolve();

describe('once table', () => {
  it('prints one row per sample with its figures, and a row for a failed round', () => {
    const outcomes: RoundOutcome[] = [
      {
        name: 'ping',
        kind: 'ping',
        durationMs: 4512,
        settled,
        samples: [
          {
            probe: 'ping',
            t: 1,
            target: '127.0.0.1',
            role: 'gateway',
            sent: 10,
            received: 10,
            lossPct: 0,
            minMs: 0.021,
            avgMs: 0.05,
            maxMs: 0.09,
            medianMs: 0.04,
            p95Ms: 0.08,
            jitterMs: 0.01,
          },
          {
            probe: 'ping',
            t: 1,
            target: '198.18.0.9',
            sent: 10,
            received: 0,
            lossPct: 100,
            error: 'ETIMEDOUT',
          },
        ],
      },
      {
        name: 'http',
        kind: 'http',
        durationMs: 15_500,
        settled,
        samples: [],
        failure: { code: 'timeout', message: 'no result' },
      },
    ];
    const table = formatTable(onceReport('0690001B', 'box-1', 0, outcomes));
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^PROBE\s+TARGET\s+STATUS\s+TIME\s+DETAILS$/);
    expect(lines[1]).toMatch(
      /^ping\s+127\.0\.0\.1 \(gateway\)\s+ok\s+4512 ms\s+loss 0\.0% \(10\/10\)\s+rtt min\/med\/avg\/p95\/max 0\.02\/0\.04\/0\.05\/0\.08\/0\.09 ms\s+jitter 0\.01 ms$/,
    );
    expect(lines[2]).toMatch(/^ping\s+198\.18\.0\.9\s+ETIMEDOUT\s+4512 ms\s+loss 100\.0% \(0\/10\)$/);
    expect(lines[3]).toMatch(/^http\s+-\s+timeout\s+15500 ms\s+no result$/);
    // Columns line up: STATUS starts at the same offset on every row.
    const col = lines[0]!.indexOf('STATUS');
    expect(lines.slice(1, 4).every((l) => l.slice(col - 2, col) === '  ')).toBe(true);
    expect(table).toContain('2 probe(s), 2 sample(s), 1 round(s) failed; nothing was published');
  });

  it('describes every kind of sample', () => {
    expect(
      describeSample({
        probe: 'dns',
        t: 1,
        resolver: '127.0.0.53',
        name: 'ent.example',
        ok: true,
        rcode: 'NOERROR',
        timeMs: 3.21,
      }),
    ).toEqual({
      subject: 'ent.example @127.0.0.53',
      status: 'NOERROR',
      details: '3.2 ms',
    });
    expect(
      describeSample({
        probe: 'wan',
        t: 1,
        source: 'snmp',
        iface: 'rtr:ge0',
        inBps: 8_100_000,
        outBps: 950,
        inPct: 81,
      }).details,
    ).toBe('in 8.10 Mbit/s  out 950 bit/s  (81.0% / -% of contract)');
    expect(
      describeSample({ probe: 'wifi', t: 1, ap: 'hall', up: false, reachable: false, error: 'ETIMEDOUT' })
        .status,
    ).toBe('ETIMEDOUT');
    expect(
      describeSample({
        probe: 'speedtest',
        t: 1,
        target: 'collector',
        ok: true,
        downBps: 7.9e6,
        upBps: 7.8e6,
        durationMs: 20_000,
      }).details,
    ).toBe('down 7.90 Mbit/s  up 7.80 Mbit/s  over 20.0 s');
    expect(
      describeSample({
        probe: 'http',
        t: 1,
        target: 'ent',
        ok: true,
        status: 200,
        ttfbMs: 12,
        totalMs: 30,
        certDaysLeft: 80.5,
      }).details,
    ).toBe('status 200  ttfb 12.0 ms  total 30.0 ms  cert 80 days left');
  });

  it('formats rates and durations for people', () => {
    expect(formatBps(1_250_000_000)).toBe('1.25 Gbit/s');
    expect(formatBps(12_300)).toBe('12.3 kbit/s');
    expect(formatDuration(3 * 86400 + 4 * 3600 + 5)).toBe('3d4h');
    expect(formatDuration(125)).toBe('2m5s');
  });
});
