// The school registry: which schools exist, where they are, what their link should deliver.
// Loaded from CSV (one school a row, header names below) or YAML (a list under `schools:`).
import { extname } from 'node:path';
import type { ErrorObject } from 'ajv';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import Type from 'typebox';
import { parse as parseYaml } from 'yaml';
import { validatorFor } from './compiled-schemas.ts';
import { MAX_YAML_ALIASES } from './config.ts';
import { labelProblem, normaliseLabel } from './labels.ts';
import { didYouMean } from './near-match.ts';
import { UaiSchema } from './schemas.ts';
import { readTextFile, TextFileError } from './text-file.ts';
import { type Uai, uaiProblem } from './uai.ts';

export const School = Type.Object(
  {
    uai: UaiSchema,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    commune: Type.String({ minLength: 1, maxLength: 100 }),
    /** WGS 84 degrees, for the map; optional (a school without them is left off the map), both or neither. */
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    isp: Type.String({ minLength: 1, maxLength: 100 }),
    contractedDownMbps: Type.Number({ exclusiveMinimum: 0 }),
    contractedUpMbps: Type.Number({ exclusiveMinimum: 0 }),
    /** Name of an opening-hours profile from the collector config (e.g. "school", "school-wednesday"). */
    hours: Type.String({ minLength: 1, maxLength: 64, default: 'school' }),
  },
  { additionalProperties: false },
);
export type School = Type.Static<typeof School> & { uai: Uai };

/** Problems shown in a RegistryError's message, at most; the rest are counted ("and N more"). */
export const MAX_SHOWN_PROBLEMS = 50;

export class RegistryError extends Error {
  constructor(
    readonly file: string,
    /** Each names its row and column: `line 4, column uai (A): …` (CSV) or `schools[2].lat: …` (YAML). */
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, MAX_SHOWN_PROBLEMS).map((p) => `${file}: ${p}`);
    if (problems.length > MAX_SHOWN_PROBLEMS)
      shown.push(`${file}: and ${problems.length - MAX_SHOWN_PROBLEMS} more problems`);
    super(shown.join('\n'));
    this.name = 'RegistryError';
  }
}

const validateSchool = () => validatorFor('registry', School);

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
/** A registry CSV's header line: the columns in the order registryCsvRow writes them. */
export const REGISTRY_CSV_HEADER = Object.keys(CSV_COLUMNS).join(',');

/** One school as a registry CSV line (no newline), read back as the same school by parseRegistry. */
export const registryCsvRow = (s: School): string =>
  // RFC 4180 quoting by csv-stringify; semicolons and tabs quoted too, for spreadsheets that split on them.
  stringifyCsv([Object.values(CSV_COLUMNS).map((key) => String(s[key] ?? ''))], {
    quoted_match: /[;\t]/,
    record_delimiter: 'unix',
  }).replace(/\n$/, '');

/** The registry's text columns: each becomes an InfluxDB tag or string field, so a label (shared/labels.ts). */
const LABEL_COLUMNS = ['name', 'commune', 'isp', 'hours'] as const;

/**
 * Why a registry text value is not a label, at its row and column, with the value to write instead
 * (`line 3, column name (B): "Jean Jaurès\\" ends with a backslash …: write "Jean Jaurès"`), or null.
 */
export function registryLabelProblem(where: string, value: string): string | null {
  const problem = labelProblem(value);
  if (!problem) return null;
  const fixed = normaliseLabel(value);
  return `${where}: ${JSON.stringify(value)} ${problem}${fixed !== value ? `: write ${JSON.stringify(fixed)}` : ''}`;
}

const NUMERIC = new Set<keyof School>(['lat', 'lon', 'contractedDownMbps', 'contractedUpMbps']);
/** A decimal number as people type it: 45.525, 45,525 (French decimal comma), -4, 1e3. */
const DECIMAL = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)(e[+-]?\d+)?$/i;

type Row = {
  where: (key?: string) => string;
  row: Record<string, unknown>;
  /** Keys already reported (not a number): their "missing" would say it twice. */
  reported?: Set<string>;
};

/** Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA. */
function columnLetter(index: number): string {
  let out = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    out = String.fromCharCode(65 + ((n - 1) % 26)) + out;
  return out;
}

/**
 * The field separator, read from the header line: French Excel writes `;` (the comma is its decimal
 * mark), "Texte Unicode" writes tabs. The one found most often outside quotes wins; none → comma.
 */
export function detectDelimiter(text: string): ',' | ';' | '\t' {
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch in counts) counts[ch as keyof typeof counts]++;
  }
  const best = (Object.entries(counts) as [keyof typeof counts, number][]).sort((a, b) => b[1] - a[1])[0]!;
  return best[1] > 0 ? best[0] : ',';
}

function rowsFromCsv(text: string, problems: string[]): Row[] {
  const records = parseCsv(text, {
    columns: true,
    skip_empty_lines: true,
    trim: true,
    bom: true,
    info: true,
    delimiter: detectDelimiter(text),
  }) as { record: Record<string, string>; info: { lines: number; empty_lines: number } }[];
  const header = Object.keys(records[0]?.record ?? {});
  const where = new Map<keyof School, string>();
  header.forEach((col, i) => {
    const key = CSV_COLUMNS[col.toLowerCase()];
    if (key) where.set(key, `column ${col} (${columnLetter(i)})`);
    else
      problems.push(
        `line 1, column ${columnLetter(i)}: unknown column "${col}" (known: ${Object.keys(CSV_COLUMNS).join(', ')})`,
      );
  });
  const needed = (key: keyof School) =>
    (School.required as readonly string[] | undefined)?.includes(key) === true &&
    (School.properties[key] as { default?: unknown }).default === undefined;
  const missing = Object.entries(CSV_COLUMNS).filter(([, key]) => needed(key) && !where.has(key));
  if (records.length && missing.length) {
    problems.push(`line 1: no column ${missing.map(([col]) => col).join(', ')} (every row needs it)`);
    return [];
  }
  let previous = { lines: 1, empty: 0 };
  return records.map(({ record, info }) => {
    // info.lines is where the record ends; it starts after the previous one and any blank lines.
    const line = previous.lines + 1 + (info.empty_lines - previous.empty);
    previous = { lines: info.lines, empty: info.empty_lines };
    const at = (key?: string) => {
      const column = key ? where.get(key as keyof School) : undefined;
      return column ? `line ${line}, ${column}` : `line ${line}`;
    };
    const row: Record<string, unknown> = {};
    const reported = new Set<string>();
    for (const [col, value] of Object.entries(record)) {
      const key = CSV_COLUMNS[col.toLowerCase()];
      if (!key || value === '') continue;
      if (!NUMERIC.has(key)) row[key] = value;
      else if (DECIMAL.test(value) && Number.isFinite(Number(value.replace(',', '.'))))
        row[key] = Number(value.replace(',', '.'));
      else {
        reported.add(key);
        problems.push(`${at(key)}: "${value}" is not a number (write digits, e.g. 45.525 or 45,525)`);
      }
    }
    return { where: at, row, reported };
  });
}

function rowsFromYaml(text: string): Row[] {
  const doc = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES }) as
    | { schools?: unknown }
    | unknown[]
    | null;
  const list = Array.isArray(doc) ? doc : (doc as { schools?: unknown })?.schools;
  if (!Array.isArray(list)) throw new Error('expected a list of schools (or a `schools:` key holding one)');
  return list.map((row, i) => {
    const r = { ...(row as Record<string, unknown>) };
    // YAML reads 0691234A as a string, but 12345678-like values could come back as numbers.
    if (typeof r['uai'] === 'number') r['uai'] = String(r['uai']).padStart(8, '0');
    return { where: (key?: string) => `schools[${i}]${key ? `.${key}` : ''}`, row: r };
  });
}

/** One row's schema errors, each at its column: the UAI's says what is wrong, not the regex. */
function rowProblems(errors: ErrorObject[], row: Row): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const params = e.params as Record<string, unknown>;
    const key =
      e.keyword === 'required'
        ? String(params['missingProperty'])
        : e.keyword === 'additionalProperties'
          ? String(params['additionalProperty'])
          : e.instancePath.split('/')[1];
    if (e.keyword === 'pattern' && key === 'uai') continue; // the format error says what is wrong
    if (key && row.reported?.has(key)) continue;
    const what =
      e.keyword === 'required'
        ? 'missing (every school needs it)'
        : e.keyword === 'additionalProperties'
          ? 'unknown key'
          : e.keyword === 'format' && params['format'] === 'uai'
            ? uaiProblem(e.data)
            : e.message;
    out.push(`${row.where(key)}: ${what}`);
  }
  return out;
}

/** Coordinates are optional, but a school with one of lat and lon needs the other. */
function coordinatesProblem(r: Row): string | null {
  const has = (k: string) => r.row[k] !== undefined || r.reported?.has(k) === true;
  if (has('lat') === has('lon')) return null;
  const [absent, present] = has('lat') ? ['lon', 'lat'] : ['lat', 'lon'];
  return `${r.where(absent)}: missing (${present} is given: give both or neither)`;
}

/**
 * Parses a registry's text: CSV when `file` ends in .csv (delimiter from the header line, BOM and CRLF
 * accepted), else YAML. Returns schools by UAI. Throws RegistryError listing every bad row and column.
 */
export function parseRegistry(file: string, text: string): Map<Uai, School> {
  const problems: string[] = [];
  let rows: Row[];
  try {
    rows = extname(file).toLowerCase() === '.csv' ? rowsFromCsv(text, problems) : rowsFromYaml(text);
  } catch (err) {
    throw new RegistryError(file, [(err as Error).message.split('\n')[0]!]);
  }
  const schools = new Map<Uai, School>();
  const firstSeen = new Map<string, string>();
  for (const r of rows) {
    const pair = coordinatesProblem(r);
    if (pair) problems.push(pair);
    const validate = validateSchool();
    if (!validate(r.row)) {
      problems.push(...rowProblems(validate.errors ?? [], r));
      continue;
    }
    if (pair) continue;
    const school = r.row as unknown as School;
    const labels = LABEL_COLUMNS.map((key) => registryLabelProblem(r.where(key), school[key])).filter(
      (p): p is string => p !== null,
    );
    if (labels.length) {
      problems.push(...labels);
      continue;
    }
    const first = firstSeen.get(school.uai);
    if (first) problems.push(`${r.where('uai')}: UAI ${school.uai} is listed twice (first at ${first})`);
    else firstSeen.set(school.uai, r.where());
    schools.set(school.uai, school);
  }
  if (problems.length) throw new RegistryError(file, problems);
  return schools;
}

/** Reads and parses a registry file (UTF-8, or UTF-16 with a BOM). Throws RegistryError. */
export function loadRegistry(file: string): Map<Uai, School> {
  let text: string;
  try {
    text = readTextFile(file, { quoteLine: true });
  } catch (err) {
    if (err instanceof TextFileError) throw new RegistryError(file, [err.detail]);
    throw new RegistryError(file, [`cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`]);
  }
  return parseRegistry(file, text);
}

/**
 * Every school's `hours` must name a profile the collector knows (`known`: the default set plus
 * `collector.alerts.hours`): a school with an unknown one would count as always open and be paged
 * at night. Throws RegistryError naming each unknown profile once, with its schools and a near match.
 */
export function checkHoursProfiles(
  file: string,
  registry: ReadonlyMap<Uai, School>,
  known: Iterable<string>,
): void {
  const names = [...new Set(known)];
  const unknown = new Map<string, string[]>();
  for (const s of registry.values()) {
    const name = s.hours ?? 'school';
    if (!names.includes(name)) unknown.set(name, [...(unknown.get(name) ?? []), s.uai]);
  }
  if (unknown.size === 0) return;
  throw new RegistryError(
    file,
    [...unknown].map(
      ([name, uais]) =>
        `column hours: "${name}" is not an hours profile${didYouMean(name, names)} (school${uais.length > 1 ? 's' : ''} ${uais.slice(0, 10).join(', ')}${uais.length > 10 ? ` and ${uais.length - 10} more` : ''}); known: ${names.join(', ')}; define others under collector.alerts.hours`,
    ),
  );
}
