import { describe, expect, it } from 'vitest';
import {
  buildTopic,
  eventsTopic,
  metricsTopic,
  parseTopic,
  statusTopic,
  topicFilter,
} from '../../shared/topics.ts';

describe('topics', () => {
  it('round-trips every kind', () => {
    for (const [build, kind] of [
      [metricsTopic, 'metrics'],
      [statusTopic, 'status'],
      [eventsTopic, 'events'],
    ] as const) {
      const topic = build('0690001B', 'box-1');
      expect(topic).toBe(`vigie/v1/0690001B/box-1/${kind}`);
      expect(parseTopic(topic)).toEqual({ ok: true, topic: { uai: '0690001B', agent: 'box-1', kind } });
    }
  });

  it('builds a subscription filter per kind', () => {
    expect(topicFilter('metrics')).toBe('vigie/v1/+/+/metrics');
  });

  it('refuses to build a topic for an invalid UAI or agent id', () => {
    expect(() => buildTopic('0690001A', 'box', 'metrics')).toThrow(/check letter/);
    expect(() => buildTopic('0690001B', 'Box 1', 'metrics')).toThrow(/agent id/);
    expect(() => buildTopic('0690001B', 'a/b', 'metrics')).toThrow(/agent id/);
  });

  it.each([
    ['vigie/v1/0690001B/box-1', /5 levels/],
    ['vigie/v1/0690001B/box-1/metrics/extra', /5 levels/],
    ['vigie/v2/0690001B/box-1/metrics', /does not start with vigie\/v1/],
    ['other/v1/0690001B/box-1/metrics', /does not start with vigie\/v1/],
    ['vigie/v1/0690001A/box-1/metrics', /check letter/],
    ['vigie/v1/690001B/box-1/metrics', /8 characters/],
    ['vigie/v1/0690001B/BOX/metrics', /agent id/],
    ['vigie/v1/0690001B//metrics', /agent id/],
    ['vigie/v1/0690001B/box-1/logs', /kind must be one of/],
  ])('rejects %s', (topic, reason) => {
    const parsed = parseTopic(topic);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(reason);
  });
});
