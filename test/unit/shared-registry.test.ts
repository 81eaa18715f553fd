import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectDelimiter,
  loadRegistry,
  MAX_SHOWN_PROBLEMS,
  parseRegistry,
  RegistryError,
} from '../../shared/registry.ts';

const CSV = `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours
0690001B,"École Saint-Exupéry, Vienne",Vienne,45.525,4.874,Orange,100,20,closed-wednesday
0380042P,École du Centre,Vienne,45.52,4.87,Free,"8,5",1,
`;

describe('school registry', () => {
  it('loads CSV with accents, quoted commas, decimal commas and a default hours profile', () => {
    const schools = parseRegistry('schools.csv', CSV);
    expect(schools.size).toBe(2);
    expect(schools.get('0690001B' as never)).toEqual({
      uai: '0690001B',
      name: 'École Saint-Exupéry, Vienne',
      commune: 'Vienne',
      lat: 45.525,
      lon: 4.874,
      isp: 'Orange',
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'closed-wednesday',
    });
    expect(schools.get('0380042P' as never)).toMatchObject({ contractedDownMbps: 8.5, hours: 'school' });
  });

  it('loads YAML and keeps leading zeros', () => {
    const yaml = `schools:
  - { uai: "0010001W", name: École, commune: Ain, lat: 46, lon: 5, isp: SFR, contractedDownMbps: 30, contractedUpMbps: 5 }
`;
    const schools = parseRegistry('schools.yaml', yaml);
    expect([...schools.keys()]).toEqual(['0010001W']);
  });

  it('names the line and the problem for each bad row, and refuses duplicates', () => {
    const bad = `${CSV}0690001A,X,Vienne,45,4,Orange,10,1,school
0690001B,Again,Vienne,45,4,Orange,10,1,school
0750001U,Y,Paris,91,2,Orange,10,1,school
`;
    let error: RegistryError | undefined;
    try {
      parseRegistry('schools.csv', bad);
    } catch (err) {
      error = err as RegistryError;
    }
    expect(error?.problems).toEqual([
      'line 4, column uai (A): wrong UAI check letter in "0690001A": expected B, got A',
      'line 5, column uai (A): UAI 0690001B is listed twice (first at line 2)',
      'line 6, column lat (D): must be <= 90',
    ]);
    expect(error?.message).toContain('schools.csv: line 4, column uai (A)');
  });

  it('names an unknown column', () => {
    expect(() => parseRegistry('s.csv', 'uai,nom\n0690001B,x\n')).toThrow(/unknown column "nom"/);
  });
});

const HEADER = 'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps';
const ROW = '0690001B,École Saint-Exupéry,Vienne,45.525,4.874,Orange,100,20';
const dir = mkdtempSync(join(tmpdir(), 'vigie-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problems a registry raises, from text (CSV unless the name says otherwise) or bytes on disk. */
function problems(name: string, content: string | Buffer): string[] {
  const file = join(dir, name);
  writeFileSync(file, content);
  try {
    loadRegistry(file);
  } catch (err) {
    expect(err).toBeInstanceOf(RegistryError);
    return (err as RegistryError).problems;
  }
  throw new Error('expected a RegistryError');
}
const load = (name: string, content: string | Buffer) => {
  const file = join(dir, name);
  writeFileSync(file, content);
  return loadRegistry(file);
};

describe('registries as spreadsheets save them', () => {
  it('refuses Windows-1252 (French Excel) with the line, the column, the line as it reads and the fix', () => {
    const cp1252 = Buffer.from(`${HEADER}\r\n${ROW}\r\n`, 'latin1'); // É and é as single bytes
    const [p, ...rest] = problems('excel.csv', cp1252);
    expect(rest).toEqual([]);
    expect(p).toMatch(/^line 2, column 10: the file is not UTF-8; it looks saved as Windows-1252/);
    expect(p).toContain('this line reads "0690001B,École Saint-Exupéry,Vienne');
    expect(p).toContain('"CSV UTF-8 (délimité par des virgules)"');
    expect(p).toContain('iconv -f WINDOWS-1252 -t UTF-8 excel.csv > utf8-excel.csv');
    // The same in a YAML registry: never accepted with U+FFFD for every accent.
    const yaml = Buffer.from('schools:\n  - { uai: "0690001B", name: "\xc9cole" }\n', 'latin1');
    expect(problems('excel.yaml', yaml)[0]).toMatch(/^line 2, column 31: the file is not UTF-8/);
  });

  it('accepts what Excel writes in French: `;` between fields, decimal commas, a BOM, CRLF', () => {
    const semi = `\uFEFF${HEADER.replaceAll(',', ';')}\r\n0690001B;"École; annexe";Vienne;45,525;4,874;Orange;100;20\r\n`;
    expect(detectDelimiter(semi)).toBe(';');
    expect(load('semi.csv', semi).get('0690001B' as never)).toMatchObject({
      uai: '0690001B',
      name: 'École; annexe',
      lat: 45.525,
      lon: 4.874,
    });
    // Tabs (Excel's "Texte Unicode", UTF-16 with its BOM) too.
    const tabs = `\uFEFF${HEADER.replaceAll(',', '\t')}\r\n${ROW.replaceAll(',', '\t')}\r\n`;
    expect(load('unicode.csv', Buffer.from(tabs, 'utf16le')).get('0690001B' as never)?.name).toBe(
      'École Saint-Exupéry',
    );
    expect(load('bom-crlf.csv', `\uFEFF${HEADER}\r\n${ROW}\r\n`).size).toBe(1);
  });

  it('says a UAI lost its leading zero, and how to fix it', () => {
    expect(
      problems('zero.csv', `${HEADER}\n690001B,X,Vienne,45,4,Orange,10,1\n10001W,Y,Ain,46,5,SFR,10,1\n`),
    ).toEqual([
      'line 2, column uai (A): a UAI has 8 characters (7 digits + a letter), got 7 in "690001B": a spreadsheet probably dropped its leading zero; write "0690001B" (and format the column as text)',
      'line 3, column uai (A): a UAI has 8 characters (7 digits + a letter), got 6 in "10001W": a spreadsheet probably dropped its leading zeros; write "0010001W" (and format the column as text)',
    ]);
  });

  it('says "not a number" for a number cell holding text, once, at its column', () => {
    const rows = [
      '0690001B,X,Vienne,abc,4,Orange,10,1',
      '0380042P,Y,Vienne,45,4°52,Orange,Infinity,1',
      '0010001W,Z,Ain,"45,5,3",5,SFR,1e999,1',
    ];
    expect(problems('nan.csv', `${HEADER}\n${rows.join('\n')}\n`)).toEqual([
      'line 2, column lat (D): "abc" is not a number (write digits, e.g. 45.525 or 45,525)',
      'line 3, column lon (E): "4°52" is not a number (write digits, e.g. 45.525 or 45,525)',
      'line 3, column contracted_down_mbps (G): "Infinity" is not a number (write digits, e.g. 45.525 or 45,525)',
      'line 4, column lat (D): "45,5,3" is not a number (write digits, e.g. 45.525 or 45,525)',
      'line 4, column contracted_down_mbps (G): "1e999" is not a number (write digits, e.g. 45.525 or 45,525)',
    ]);
  });

  it('names the row and the column in every error: missing cells and columns, blank and multi-line rows', () => {
    const text = `${HEADER}\n\n0690001B,"École\nannexe",Vienne,45,4,,10,1\n\n0380042P,X,Vienne,45,4,Free,,1\n`;
    expect(problems('rows.csv', text)).toEqual([
      'line 3, column isp (F): missing (every school needs it)',
      'line 6, column contracted_down_mbps (G): missing (every school needs it)',
    ]);
    expect(problems('cols.csv', 'uai,name,commune,lat,lon\n0690001B,X,V,45,4\n')).toEqual([
      'line 1: no column isp, contracted_down_mbps, contracted_up_mbps (every row needs it)',
    ]);
    expect(
      problems('yaml.yaml', 'schools:\n  - { uai: "0690001B", name: X, commune: V, lat: north }\n'),
    ).toEqual([
      // lat/lon are optional since issue 16 (a school without them is left off the map), but not one alone.
      'schools[0].lon: missing (lat is given: give both or neither)',
      'schools[0].isp: missing (every school needs it)',
      'schools[0].contractedDownMbps: missing (every school needs it)',
      'schools[0].contractedUpMbps: missing (every school needs it)',
      'schools[0].lat: must be number',
    ]);
  });

  it('shows a bounded number of problems and counts the rest', () => {
    const rows = Array.from({ length: 120 }, () => '0690001A,X,Vienne,45,4,Orange,10,1');
    let error: RegistryError | undefined;
    try {
      parseRegistry('many.csv', `${HEADER}\n${rows.join('\n')}\n`);
    } catch (err) {
      error = err as RegistryError;
    }
    expect(error?.problems).toHaveLength(120);
    const lines = error?.message.split('\n') ?? [];
    expect(lines).toHaveLength(MAX_SHOWN_PROBLEMS + 1);
    expect(lines.at(-1)).toBe(`many.csv: and ${120 - MAX_SHOWN_PROBLEMS} more problems`);
  });

  it('refuses a YAML alias bomb', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
      .concat(
        'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
      )
      .join('\n');
    expect(() => parseRegistry('bomb.yaml', bomb)).toThrow(/bomb\.yaml: .*alias/i);
  });
});

describe('registry names are labels (issue 14 §4)', () => {
  const HEADER = 'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps';
  it('refuses a trailing backslash, a line break, a tab and an ISP ending in \\, each at its row and column', () => {
    const csv = `${HEADER}\n0690001B,trailing\\,Vienne,45.5,4.8,Orange,100,20\n0380042P,"newline\nname",Vienne,45.5,4.8,Free,100,20\n0381234K,École,"Saint\tJean",45.5,4.8,"SFR\\",100,20\n`;
    const found = problems('labels.csv', csv);
    expect(found).toEqual([
      'line 2, column name (B): "trailing\\\\" ends with a backslash (InfluxDB cannot store it): write "trailing"',
      'line 3, column name (B): "newline\\nname" contains a line break at character 8: write "newline name"',
      'line 5, column commune (C): "Saint\\tJean" contains a tab at character 6: write "Saint Jean"',
      'line 5, column isp (F): "SFR\\\\" ends with a backslash (InfluxDB cannot store it): write "SFR"',
    ]);
  });

  it('refuses the same in YAML, by key', () => {
    const yaml = `schools:\n  - {uai: 0690001B, name: "serveur\\t", commune: Vienne, lat: 45.5, lon: 4.8, isp: "Orange\\\\", contractedDownMbps: 100, contractedUpMbps: 20}\n`;
    expect(problems('labels.yaml', yaml)).toEqual([
      'schools[0].name: "serveur\\t" contains a tab at character 8: write "serveur"',
      'schools[0].isp: "Orange\\\\" ends with a backslash (InfluxDB cannot store it): write "Orange"',
    ]);
  });

  it('writes rows that read back as the same school: quotes, semicolons, commas', async () => {
    const { registryCsvRow, REGISTRY_CSV_HEADER } = await import('../../shared/registry.ts');
    const school = {
      uai: '0690001B',
      name: 'École "Les Pins"; Vienne, Isère',
      commune: 'Vienne, Isère',
      lat: 45.5,
      lon: 4.8,
      isp: 'Orange; Pro',
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'school',
    } as const;
    const back = load('roundtrip.csv', `${REGISTRY_CSV_HEADER}\n${registryCsvRow(school as never)}\n`);
    expect(back.get('0690001B' as never)).toEqual(school);
  });
});
