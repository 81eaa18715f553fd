// The school registry: which schools exist, where they are, what their link should deliver.
// Loaded from CSV (one school a row, header names below) or YAML (a list under `schools:`).
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseCsv } from 'csv-parse/sync';
import Type from 'typebox';
import { parse as parseYaml } from 'yaml';
import { UaiSchema } from './schemas.ts';
import type { Uai } from './uai.ts';
import { addVigieFormats, describeAjvError } from './validate.ts';

export const School = Type.Object(
  {
    uai: UaiSchema,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    commune: Type.String({ minLength: 1, maxLength: 100 }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    isp: Type.String({ minLength: 1, maxLength: 100 }),
    contractedDownMbps: Type.Number({ exclusiveMinimum: 0 }),
    contractedUpMbps: Type.Number({ exclusiveMinimum: 0 }),
    /** Name of an opening-hours profile from the collector config (e.g. "school", "closed-wednesday"). */
    hours: Type.String({ minLength: 1, maxLength: 64, default: 'school' }),
  },
  { additionalProperties: false },
);
export type School = Type.Static<typeof School> & { uai: Uai };

export class RegistryError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'));
    this.name = 'RegistryError';
  }
}

const validateSchool = addVigieFormats(new Ajv({ strict: false, useDefaults: true, verbose: true })).compile(
  School,
);

/** CSV header names, snake_case as a spreadsheet would have them, mapped to School keys. */
const CSV_COLUMNS: Record<string, keyof School> = {
  uai: 'uai',
  name: 'name',
  commune: 'commune',
  lat: 'lat',
  lon: 'lon',
  isp: 'isp',
  contracted_down_mbps: 'contractedDownMbps',
  contracted_up_mbps: 'contractedUpMbps',
  hours: 'hours',
};
const NUMERIC = new Set<keyof School>(['lat', 'lon', 'contractedDownMbps', 'contractedUpMbps']);

function rowsFromCsv(text: string, problems: string[]): { where: string; row: Record<string, unknown> }[] {
  const records = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<
    string,
    string
  >[];
  return records.map((rec, i) => {
    const row: Record<string, unknown> = {};
    for (const [col, value] of Object.entries(rec)) {
      const key = CSV_COLUMNS[col.toLowerCase()];
      if (!key) {
        if (i === 0) problems.push(`unknown column "${col}" (known: ${Object.keys(CSV_COLUMNS).join(', ')})`);
        continue;
      }
      if (value === '') continue;
      row[key] = NUMERIC.has(key) ? Number(value.replace(',', '.')) : value;
    }
    return { where: `line ${i + 2}`, row };
  });
}

function rowsFromYaml(text: string): { where: string; row: Record<string, unknown> }[] {
  const doc = parseYaml(text) as { schools?: unknown } | unknown[] | null;
  const list = Array.isArray(doc) ? doc : (doc as { schools?: unknown })?.schools;
  if (!Array.isArray(list)) throw new Error('expected a list of schools (or a `schools:` key holding one)');
  return list.map((row, i) => {
    const r = { ...(row as Record<string, unknown>) };
    // YAML reads 0691234A as a string, but 12345678-like values could come back as numbers.
    if (typeof r['uai'] === 'number') r['uai'] = String(r['uai']).padStart(8, '0');
    return { where: `schools[${i}]`, row: r };
  });
}

export function parseRegistry(file: string, text: string): Map<Uai, School> {
  const problems: string[] = [];
  let rows: { where: string; row: Record<string, unknown> }[];
  try {
    rows = extname(file).toLowerCase() === '.csv' ? rowsFromCsv(text, problems) : rowsFromYaml(text);
  } catch (err) {
    throw new RegistryError(file, [(err as Error).message]);
  }
  const schools = new Map<Uai, School>();
  for (const { where, row } of rows) {
    if (!validateSchool(row)) {
      problems.push(`${where}: ${describeAjvError(validateSchool.errors?.[0])}`);
      continue;
    }
    const school = row as unknown as School;
    if (schools.has(school.uai)) problems.push(`${where}: UAI ${school.uai} is listed twice`);
    schools.set(school.uai, school);
  }
  if (problems.length) throw new RegistryError(file, problems);
  return schools;
}

export function loadRegistry(file: string): Map<Uai, School> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RegistryError(file, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`]);
  }
  return parseRegistry(file, text);
}
