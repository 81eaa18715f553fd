import { describe, expect, it } from 'vitest';
import { splitSamples, stampSend } from '../../agent/batch.ts';
import { paceNext, reconnectDelayMs } from '../../agent/publisher.ts';
import { buildBatch } from '../../shared/messages.ts';
import type { Sample } from '../../shared/schemas.ts';
import { MAX_PAYLOAD_BYTES } from '../../shared/schemas.ts';
import { decodeMetrics } from '../../shared/validate.ts';

const ping = (t: number, target = 'gw'): Sample => ({
  probe: 'ping',
  t,
  target,
  sent: 10,
  received: 10,
  lossPct: 0,
  medianMs: 1.5,
});

describe('splitSamples', () => {
  it('keeps a small set in one group, in order', () => {
    const samples = [ping(1), ping(2), ping(3)];
    expect(splitSamples(samples)).toEqual({ groups: [samples], oversize: [] });
  });

  it('cuts groups so every batch payload stays under the byte limit, losing nothing', () => {
    const samples = Array.from({ length: 5000 }, (_, i) => ping(i, `target-${'x'.repeat(100)}-${i}`));
    const { groups, oversize } = splitSamples(samples, 64 * 1024);
    expect(oversize).toEqual([]);
    expect(groups.length).toBeGreaterThan(5);
    expect(groups.flat()).toEqual(samples);
    for (const [i, g] of groups.entries()) {
      const payload = JSON.stringify(buildBatch('0690001B', 'box-with-a-long-name', 1e12 + i, 1.7e12, g));
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(64 * 1024);
      expect(decodeMetrics(payload).ok).toBe(true);
    }
  });

  it('cuts at the item limit of the schema', () => {
    const samples = Array.from({ length: 4500 }, (_, i) => ping(i));
    const { groups } = splitSamples(samples, MAX_PAYLOAD_BYTES * 100, 2000);
    expect(groups.map((g) => g.length)).toEqual([2000, 2000, 500]);
  });

  it('sets apart a sample too large for any batch', () => {
    const huge = ping(1, 'y'.repeat(2000));
    const { groups, oversize } = splitSamples([ping(0), huge, ping(2)], 1024);
    expect(oversize).toEqual([huge]);
    expect(groups).toEqual([[ping(0), ping(2)]]);
  });
});

describe('reconnect backoff', () => {
  it('doubles from the minimum and stays under the cap, jitter included', () => {
    const mid = [0, 1, 2, 3, 4, 10].map((a) => reconnectDelayMs(a, 1000, 60_000, 0.5));
    expect(mid).toEqual([1000, 2000, 4000, 8000, 16_000, 60_000]);
    expect(reconnectDelayMs(0, 1000, 60_000, 0)).toBe(800);
    expect(reconnectDelayMs(0, 1000, 60_000, 1)).toBe(1200);
    expect(reconnectDelayMs(50, 1000, 60_000, 1)).toBe(60_000);
    expect(reconnectDelayMs(2000, 1000, 60_000, 0)).toBe(48_000);
  });
});

describe('publish pacing', () => {
  it('lets a batch go at once when the pace allows, then spaces the next', () => {
    expect(paceNext(0, 1000, 50)).toEqual({ waitMs: 0, nextAllowedAt: 1050 });
    expect(paceNext(1050, 1010, 50)).toEqual({ waitMs: 40, nextAllowedAt: 1100 });
  });
});

describe('stampSend (issue 14: the collector measures the clock from the send time)', () => {
  it('adds sentAt, and lts when known, to the spooled envelope; the result is still a valid batch', () => {
    const built = Buffer.from(
      JSON.stringify(buildBatch('0381234K', 'box', 7, 1_800_000_000_000, [ping(1_800_000_000_000)])),
    );
    const out = JSON.parse(stampSend(built, 1_800_000_005_000, 42).toString());
    expect(out).toMatchObject({ seq: 7, t: 1_800_000_000_000, sentAt: 1_800_000_005_000, lts: 42 });
    expect(decodeMetrics(stampSend(built, 1_800_000_005_000, 42), MAX_PAYLOAD_BYTES).ok).toBe(true);
    expect(JSON.parse(stampSend(built, 1_800_000_005_000).toString())).not.toHaveProperty('lts');
    expect(stampSend(Buffer.from('garbage'), 1).toString()).toBe('garbage');
  });
});
