// Which outage points go straight to the long policy, and in what shape (collector/long-policy-outages.ts).
import { describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { longPolicyOutage, policyDurationMs, rawOutageEdgeMs } from '../../collector/long-policy-outages.ts';
import { outagePoint, transitionPoint } from '../../collector/presence/points.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const retention = resolveCollectorConfig({}).retention;
const tags = { commune: 'Vienne', isp: 'Orange' };

describe('outages too old for the raw policy', () => {
  it('reads the config durations, INF as for ever, and names a bad one', () => {
    expect(policyDurationMs('90d')).toBe(90 * DAY);
    expect(policyDurationMs('5m')).toBe(300_000);
    expect(policyDurationMs('INF')).toBe(Number.POSITIVE_INFINITY);
    expect(() => policyDurationMs('3 days')).toThrow(/"3 days" is not a duration/);
  });

  it('the edge: 90 days back, plus a 1-day shard and an hour for the rollup; none when raw is kept for ever', () => {
    expect(rawOutageEdgeMs(retention, NOW)).toBe(NOW - 90 * DAY + DAY + 3_600_000);
    const forever = { ...retention, raw: { ...retention.raw, duration: 'INF' } };
    expect(rawOutageEdgeMs(forever, NOW)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('a 100-day outage goes long, stamped at the 5-minute bucket of its start, fields unchanged', () => {
    const start = NOW - 100 * DAY + 123_456;
    const point = outagePoint(
      { uai: '0381234K', start, end: NOW, cause: 'wan_cut', schoolHoursS: 3600 },
      tags,
    );
    expect(longPolicyOutage(point, retention, NOW)).toEqual({
      ...point,
      time: Math.floor(start / 300_000) * 300_000,
    });
  });

  it('a recent outage, an old transition, and any outage when raw is kept for ever stay raw', () => {
    const recent = outagePoint(
      { uai: '0381234K', start: NOW - 80 * DAY, end: NOW, cause: 'wan_cut', schoolHoursS: 0 },
      tags,
    );
    expect(longPolicyOutage(recent, retention, NOW)).toBeNull();
    const transition = transitionPoint(
      {
        scope: 'school',
        uai: '0381234K',
        agent: '',
        from: 'online',
        to: 'offline',
        at: NOW - 100 * DAY,
        reason: 'x',
      },
      tags,
    );
    expect(longPolicyOutage(transition, retention, NOW)).toBeNull();
    const forever = { ...retention, raw: { ...retention.raw, duration: 'INF' } };
    const old = outagePoint(
      { uai: '0381234K', start: NOW - 400 * DAY, end: NOW, cause: 'unknown', schoolHoursS: 0 },
      tags,
    );
    expect(longPolicyOutage(old, forever, NOW)).toBeNull();
  });
});
