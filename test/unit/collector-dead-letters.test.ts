import { describe, expect, it } from 'vitest';
import { DeadLetters } from '../../collector/dead-letters.ts';
import { createLogger } from '../../shared/log.ts';

function letters(keep = 10) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('test', 'info', { write: (line: string) => lines.push(JSON.parse(line)) });
  return { dead: new DeadLetters(keep, log), lines };
}

describe('dead letters', () => {
  it('cuts what the sender chose (error text quoting it, topic, payload) so each letter stays small', () => {
    const { dead, lines } = letters();
    const huge = 'x'.repeat(300_000);
    dead.add({
      at: 0,
      reason: 'schema',
      error: `/extra: unexpected property "${huge}"`,
      topic: `t/${huge}`,
      payload: huge,
    });
    const [kept] = dead.recent();
    expect(kept!.error.length).toBeLessThanOrEqual(501);
    expect(kept!.topic!.length).toBeLessThanOrEqual(201);
    expect(kept!.excerpt.length).toBe(300);
    expect(JSON.stringify(lines).length).toBeLessThan(2000);
  });

  it('says when a refused message is retained on the broker, so it will be refused again', () => {
    const { dead, lines } = letters();
    dead.add({
      at: 0,
      reason: 'too_deep',
      error: 'nested',
      topic: 'vigie/v1/x/box/status',
      retained: true,
      payload: '[',
    });
    expect(dead.recent()[0]).toMatchObject({ retained: true });
    expect(lines[0]).toMatchObject({ retained: true, msg: expect.stringMatching(/retained on the broker/) });
  });

  it('counts every letter but keeps and logs a bounded number', () => {
    const { dead, lines } = letters(3);
    for (let i = 0; i < 1000; i++)
      dead.add({ at: i, reason: i % 2 ? 'too_deep' : 'internal_error', error: `${i}` });
    expect(dead.byReason).toEqual({ too_deep: 500, internal_error: 500 });
    expect(dead.recent().map((l) => l.error)).toEqual(['997', '998', '999']);
    expect(lines).toHaveLength(2); // once per reason per minute
  });
});
