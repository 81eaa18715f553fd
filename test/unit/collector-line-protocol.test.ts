import { describe, expect, it } from 'vitest';
import { LineProtocolError, tagValueProblem, toLine, toLines } from '../../collector/line-protocol.ts';
import { batchToLines } from '../../collector/mapping.ts';
import { int } from '../../collector/point.ts';
import type { School } from '../../shared/registry.ts';
import type { Sample } from '../../shared/schemas.ts';
import { batchToPoints } from '../harness/batch-points.ts';
import { everySample, makeBatch } from '../harness/collector.ts';

describe('line protocol', () => {
  it('escapes measurement, tag and field keys and values as InfluxDB 1.x parses them', () => {
    const line = toLine({
      measurement: 'my m,x',
      tags: { 'k=1': 'École Saint-Exupéry, Vienne', b: 'a=b c', a: 'C:\\temp' },
      fields: { 'f x': 'say "hi" \\o/', n: 1.5, i: int(42), ok: true },
      time: 1700000000123,
    });
    expect(line).toBe(
      'my\\ m\\,x,a=C:\\temp,b=a\\=b\\ c,k\\=1=École\\ Saint-Exupéry\\,\\ Vienne ' +
        'f\\ x="say \\"hi\\" \\\\o/",n=1.5,i=42i,ok=true 1700000000123',
    );
  });

  it('sorts tags and leaves empty ones out', () => {
    expect(toLine({ measurement: 'm', tags: { z: '1', a: '', m: '2' }, fields: { v: 1 }, time: 5 })).toBe(
      'm,m=2,z=1 v=1 5',
    );
  });

  it('keeps emoji and accents as UTF-8; sizes are bytes', () => {
    const lines = toLines([{ measurement: 'm', tags: { t: '🎉é' }, fields: { s: '🏫' }, time: 1 }]);
    expect(lines).toBe('m,t=🎉é s="🏫" 1\n');
    expect(Buffer.byteLength(lines)).toBe(lines.length + 2 + 1 + 2);
  });

  it('knows what InfluxDB cannot store exactly, and refuses only what is not a value', () => {
    expect(tagValueProblem('ends\\')).toMatch(/ends with a backslash/);
    // Issue 14: influxd 1.6.7 reads the line text a\\,b back as a\,b (test/integration/labels-influx.test.ts).
    expect(tagValueProblem('a\\,b')).toBeNull();
    expect(tagValueProblem('a\nb')).toMatch(/control character/);
    expect(tagValueProblem('a\\b')).toBeNull();
    const bad = (fields: Record<string, number | string>) => () =>
      toLine({ measurement: 'm', tags: {}, fields, time: 1 });
    expect(bad({ v: Number.NaN })).toThrow(LineProtocolError);
    expect(bad({ v: Number.POSITIVE_INFINITY })).toThrow(/not finite/);
    // Issue 14: a line break in a string field is normalised (one space), not a refused point.
    expect(bad({ s: 'two\nlines' })()).toBe('m s="two lines" 1');
    expect(bad({})).toThrow(/no field/);
    expect(() => toLine({ measurement: 'm', tags: {}, fields: { i: int(2 ** 60) }, time: 1 })).toThrow(
      /integer/,
    );
  });
});

describe('the ingest fast path', () => {
  it('writes exactly the lines the Point path writes, registry tags and escaping included', () => {
    const school = {
      uai: '0381234K',
      name: 'École',
      commune: 'Saint-Exupéry, Vienne = "x"',
      isp: 'Orange\\Pro',
      lat: 45,
      lon: 4,
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'school',
    } as School;
    const t = 1_700_000_000_000;
    const samples = [...everySample(t, 'a b,c=d 🎉'), ...everySample(t + 1, 'C:\\x')];
    const batch = makeBatch('0381234K', 'box-1', 9, t, samples);
    expect(batchToLines(batch, school, t + 5)).toBe(toLines(batchToPoints(batch, school, t + 5)));
    expect(batchToLines(batch, undefined, t)).toBe(toLines(batchToPoints(batch, undefined, t)));
  });

  it('normalises the same values InfluxDB cannot store, never refusing the batch (issue 14)', () => {
    const t = 1_700_000_000_000;
    const batch = makeBatch('0381234K', 'box-1', 1, t, [
      { ...everySample(t)[0]!, target: 'serveur ENT\\', error: 'two\nlines' } as Sample,
    ]);
    const lines = batchToLines(batch, undefined, t);
    expect(lines).toBe(toLines(batchToPoints(batch, undefined, t)));
    expect(lines).toMatch(/,target=serveur\\ ENT[, ]/);
    expect(lines).toContain('error="two lines"');
  });
});
