// The open-data CSV is opened by officials in a spreadsheet: a school name, commune or ISP from the
// registry that starts with = + - @ must stay text, not run as a formula (OWASP "CSV injection").
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { OPEN_DATA_COLUMNS, type OpenDataRow, openDataCsv } from '../../report/open-data.ts';

describe('open-data CSV', () => {
  it('keeps formula-like registry names as text and numbers as numbers', () => {
    const row = Object.fromEntries(Object.keys(OPEN_DATA_COLUMNS).map((k) => [k, null])) as OpenDataRow;
    Object.assign(row, {
      uai: '0690001B',
      name: '=HYPERLINK("http://198.18.0.1/x","École")',
      commune: '+Vienne',
      isp: '@Orange',
      availability_pct: 97.5,
    });
    const [header, cells] = parse(openDataCsv([row])) as string[][];
    const at = (k: string) => cells![header!.indexOf(k)];
    expect(at('name')).toBe(`'=HYPERLINK("http://198.18.0.1/x","École")`);
    expect(at('commune')).toBe("'+Vienne");
    expect(at('isp')).toBe("'@Orange");
    expect(at('uai')).toBe('0690001B');
  });
});
