import { describe, expect, it } from 'vitest';
import { jsonShapeProblem } from '../../shared/json-bounds.ts';

const bounds = { maxDepth: 4, maxEntries: 3 };
const shape = (text: string) => jsonShapeProblem(Buffer.from(text), bounds);

describe('jsonShapeProblem', () => {
  it('lets through JSON within both bounds, at each bound exactly', () => {
    expect(shape('{"a":[[{"b":1}]]}')).toBeNull();
    expect(shape('[1,2,3]')).toBeNull();
    expect(shape('{"a":1,"b":2,"c":3}')).toBeNull();
    expect(shape('[]')).toBeNull();
  });

  it('names nesting past the bound, arrays or objects, with the byte where it happens', () => {
    expect(shape('[[[[[]]]]]')).toEqual({
      reason: 'too_deep',
      error: 'arrays and objects nested deeper than 4 levels (byte 4)',
    });
    expect(shape('{"a":{"a":{"a":{"a":{}}}}}')).toMatchObject({ reason: 'too_deep' });
    expect(shape('{"a":[{"b":[{}]}]}')).toMatchObject({ reason: 'too_deep' });
  });

  it('names an array or object with too many entries, at any level', () => {
    expect(shape('[1,2,3,4]')).toEqual({
      reason: 'too_many_entries',
      error: 'more than 3 entries in one array or object (byte 6)',
    });
    expect(shape('{"a":1,"b":2,"c":3,"d":4}')).toMatchObject({ reason: 'too_many_entries' });
    expect(shape('{"x":[[1,2],[1,2,3,4]]}')).toMatchObject({ reason: 'too_many_entries' });
    // Entries are counted per container: three arrays of three are fine.
    expect(shape('[[1,2,3],[1,2,3],[1,2,3]]')).toBeNull();
  });

  it('does not count brackets and commas inside strings, escaped quotes included', () => {
    expect(shape(`{"a":"${'[{,'.repeat(50)}"}`)).toBeNull();
    expect(shape(`{"a":"\\"[[[[[[\\\\","b":"]]]]"}`)).toBeNull();
    expect(shape(`["\\\\",[[[[]]]]]`)).toMatchObject({ reason: 'too_deep' });
  });

  it('leaves malformed text to JSON.parse and never throws on any bytes', () => {
    expect(shape(']]]][[[')).toBeNull();
    expect(shape('"unterminated [[[[[[')).toBeNull();
    expect(jsonShapeProblem(Buffer.from([0xff, 0x5b, 0x00, 0x22, 0x5c]), bounds)).toBeNull();
  });

  it('scans the 40 kB message of 20,000 nested arrays without recursing', () => {
    const text = `{"v":1,"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    expect(jsonShapeProblem(Buffer.from(text), { maxDepth: 16, maxEntries: 4096 })).toMatchObject({
      reason: 'too_deep',
    });
  });
});
