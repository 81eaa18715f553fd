// Config loading: a YAML file, then VIGIE_* environment overrides, then schema validation.
// Every error names where the value came from (the file, or the environment variable), the key path,
// what was expected and what was found; a secret's value is never shown (shared/secrets.ts).
import type { ErrorObject } from 'ajv';
import type Type from 'typebox';
import type { TSchema } from 'typebox';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { validatorFor } from './compiled-schemas.ts';
import { envNameProblem } from './env-names.ts';
import { describeHidden, isSecretPath, redactUrl } from './secrets.ts';
import { readTextFile, TextFileError } from './text-file.ts';
import { uaiProblem } from './uai.ts';

export interface ConfigProblem {
  path: string;
  expected: string;
  found: string;
  /** Where the value came from when not the file: `environment variable VIGIE_…`. */
  source?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
    /** Said with the problems: an ignored VIGIE_ variable may be why a key is missing. */
    readonly warnings: string[] = [],
  ) {
    // redactUrl: a `found` built anywhere (a CA path, a URL) never carries a URL's password.
    super(
      problems
        .map((p) => `${p.source ?? file}: ${p.path}: expected ${p.expected}, found ${redactUrl(p.found)}`)
        .concat(warnings.map((w) => `warning: ${w}`))
        .join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** A rule across keys that the schema cannot say (e.g. no password over plaintext MQTT). */
export type ConfigCheck<T> = (config: T) => { problems?: ConfigProblem[]; warnings?: string[] };

/** Aliases (`*name`) expanded at most: past it a "billion laughs" file is refused, not expanded. */
export const MAX_YAML_ALIASES = 100;

export const ENV_PREFIX = 'VIGIE_';

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  // Masked before shortening: a cut could leave a URL's password without the '@' that marks it.
  const text = JSON.stringify(typeof value === 'string' ? redactUrl(value) : value);
  return `${text.length > 60 ? `${text.slice(0, 57)}...` : text} (${typeof value})`;
}

/** The value at a key path as an error may show it: hidden when any key on the path names a secret. */
function describeAt(path: string, value: unknown): string {
  return isSecretPath(path) && value !== undefined ? describeHidden(value) : describeValue(value);
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

const dotted = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '') || '(top level)';

/**
 * One problem per key and value: a union of constants (a ping target's role) fails once per member,
 * which would print the same bad value five times; they become `one of "a", "b", …`.
 */
export function mergeAlternatives(problems: ConfigProblem[]): ConfigProblem[] {
  const byKey = new Map<string, { problem: ConfigProblem; expected: string[] }>();
  for (const p of problems) {
    const key = `${p.path}\u0000${p.found}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { problem: p, expected: [p.expected] });
    else if (!seen.expected.includes(p.expected)) seen.expected.push(p.expected);
  }
  return [...byKey.values()].map(({ problem, expected }) =>
    expected.length === 1
      ? problem
      : { ...problem, expected: `one of ${expected.map((e) => e.replace(/^one of /, '')).join(', ')}` },
  );
}

function problemFromAjv(e: ErrorObject, data: unknown): ConfigProblem | null {
  const p = e.params as Record<string, unknown>;
  const found = describeAt(dotted(e.instancePath), valueAt(data, e.instancePath));
  const parent = e.parentSchema as { description?: string; format?: string } | undefined;
  switch (e.keyword) {
    case 'required': {
      const path = dotted(`${e.instancePath}/${p['missingProperty']}`);
      return { path, expected: 'a value (this key is required)', found: 'nothing' };
    }
    case 'additionalProperties': {
      const path = dotted(`${e.instancePath}/${p['additionalProperty']}`);
      const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      return { path, expected: `no such key (known keys: ${known.join(', ')})`, found: 'an unknown key' };
    }
    case 'type':
      return { path: dotted(e.instancePath), expected: `${p['type']}`, found };
    case 'enum':
      return {
        path: dotted(e.instancePath),
        expected: `one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        found,
      };
    case 'const':
      return { path: dotted(e.instancePath), expected: JSON.stringify(p['allowedValue']), found };
    case 'pattern':
      if (parent?.format === 'uai') return null; // the format error says what is wrong with it
      return {
        path: dotted(e.instancePath),
        expected: parent?.description ?? `text matching ${p['pattern']}`,
        found,
      };
    case 'format':
      if (p['format'] === 'uai')
        return {
          path: dotted(e.instancePath),
          expected: parent?.description ?? 'a school UAI: 7 digits and their check letter',
          found: `${found}: ${uaiProblem(e.data)}`,
        };
      return { path: dotted(e.instancePath), expected: `a ${p['format']}`, found };
    case 'anyOf':
    case 'oneOf':
      return null; // the branch errors say more
    default:
      return { path: dotted(e.instancePath), expected: `a value that ${e.message}`, found };
  }
}

/** Parse a scalar from the environment the way YAML would: 5 → number, true → boolean. */
function envScalar(raw: string): unknown {
  try {
    const v = parseYaml(raw, { maxAliasCount: MAX_YAML_ALIASES });
    return v === null || typeof v === 'object' ? raw : v;
  } catch {
    return raw;
  }
}

export interface EnvOverrides {
  /** `VIGIE_COLLECTOR__INFLUX__URL → collector.influx.url`, for the startup log (no values). */
  applied: string[];
  /** Dotted key path → the variable that set it: an error about that key blames the variable. */
  sources: Map<string, string>;
  /** VIGIE_… variables that look meant for the config but set nothing, each with the nearest known one. */
  warnings: string[];
}

/**
 * VIGIE_COLLECTOR__INFLUX__URL=http://db:8086 sets collector.influx.url. Path segments are matched
 * case-insensitively against the keys the schema knows, so camelCase keys work from SHOUTING env names.
 * A variable that names no key is ignored with a warning when it looks meant for the config (it holds
 * `__`, or starts like a section of this schema); others (VIGIE_LOG_LEVEL…) are not the config's.
 */
export function applyEnvOverrides(
  data: Record<string, unknown>,
  schema: TSchema,
  env: NodeJS.ProcessEnv,
): EnvOverrides {
  const result: EnvOverrides = { applied: [], sources: new Map(), warnings: [] };
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    // The whole path is matched against the schema first: a misspelt leaf must not create its parents.
    const path: string[] = [];
    let nodeSchema: TSchema | undefined = schema;
    for (const segment of name.slice(ENV_PREFIX.length).split('__')) {
      const props: Record<string, TSchema> =
        (nodeSchema as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {};
      const key = Object.keys(props).find((k) => k.toLowerCase() === segment.toLowerCase());
      if (!key) {
        path.length = 0;
        break;
      }
      path.push(key);
      nodeSchema = props[key];
    }
    if (!path.length) {
      const problem = envNameProblem(name, schema);
      if (problem) result.warnings.push(problem);
      continue;
    }
    let node: Record<string, unknown> = data;
    let blocked: string | null = null;
    for (const [i, key] of path.slice(0, -1).entries()) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) {
        blocked = path.slice(0, i + 1).join('.');
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
    if (blocked) {
      result.warnings.push(
        `environment variable ${name} is ignored: ${blocked} in the file is not a mapping of keys`,
      );
      continue;
    }
    node[path[path.length - 1]!] = envScalar(raw);
    result.applied.push(`${name} → ${path.join('.')}`);
    result.sources.set(path.join('.'), name);
  }
  return result;
}

/** The variable that set this key path, or one of its parents. */
function envSource(sources: Map<string, string>, path: string): string | undefined {
  for (let p = path; p; p = p.replace(/(\.[^.[]*|\[\d+\])$/, '')) {
    const name = sources.get(p);
    if (name) return `environment variable ${name}`;
    if (!/[.[]/.test(p)) break;
  }
  return undefined;
}

export interface LoadedConfig<T> {
  file: string;
  config: T;
  /** Environment variables that changed the file's values, for the startup log. */
  overrides: string[];
  /** Said at start and by `vigie config check`, never fatal: an ignored VIGIE_ variable, a risky setting. */
  warnings: string[];
}

function yamlProblem(err: unknown): ConfigProblem {
  if (err instanceof YAMLParseError) {
    const pos = err.linePos?.[0];
    return {
      path: pos ? `line ${pos.line} column ${pos.col}` : '(file)',
      expected: 'valid YAML',
      found: err.message.split('\n')[0]!,
    };
  }
  if (/alias count/i.test((err as Error).message))
    return {
      path: '(file)',
      expected: `YAML whose aliases (*name) expand to a reasonable size (at most ${MAX_YAML_ALIASES} expansions)`,
      found: 'aliases that multiply far beyond that (a "billion laughs"): refused, nothing expanded',
    };
  return { path: '(file)', expected: 'valid YAML', found: (err as Error).message.split('\n')[0]! };
}

/**
 * Parses config text (`file` names it in errors), applies VIGIE_* overrides from `env`, fills defaults
 * and validates against `schema`, then runs `check` (rules across keys). Returns the config, the
 * overrides applied and warnings. Throws ConfigError listing every problem: YAML syntax (line, column),
 * an empty file, an alias bomb, each bad key (secrets described, never shown).
 */
export function parseConfigText<S extends TSchema>(
  file: string,
  text: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
  check?: ConfigCheck<Type.Static<S>>,
): LoadedConfig<Type.Static<S>> {
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw new ConfigError(file, [yamlProblem(err)]);
  }
  if (data === null || data === undefined) {
    throw new ConfigError(file, [
      {
        path: '(file)',
        expected: 'a mapping of keys',
        found: 'an empty file (nothing but blanks or comments)',
      },
    ]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, [
      { path: '(top level)', expected: 'a mapping of keys', found: describeValue(data) },
    ]);
  }
  const fromEnv = applyEnvOverrides(data as Record<string, unknown>, schema, env);
  const blame = (p: ConfigProblem): ConfigProblem => {
    const source = envSource(fromEnv.sources, p.path);
    return source ? { ...p, source } : p;
  };
  // Precompiled by scripts/build for the config files Vigie reads, else compiled here.
  const validate = validatorFor('config', schema);
  if (!validate(data)) {
    const problems = mergeAlternatives(
      (validate.errors ?? [])
        .map((e) => problemFromAjv(e, data))
        .filter((p): p is ConfigProblem => p !== null),
    ).map(blame);
    throw new ConfigError(
      file,
      problems.length
        ? problems
        : [{ path: '(top level)', expected: 'a valid config', found: 'something else' }],
      fromEnv.warnings,
    );
  }
  const config = data as Type.Static<S>;
  const checked = check?.(config) ?? {};
  if (checked.problems?.length)
    throw new ConfigError(file, checked.problems.map(blame), [
      ...fromEnv.warnings,
      ...(checked.warnings ?? []),
    ]);
  return {
    file,
    config,
    overrides: fromEnv.applied,
    warnings: [...fromEnv.warnings, ...(checked.warnings ?? [])],
  };
}

/** Reads `file` (UTF-8, see shared/text-file.ts) and parses it with parseConfigText. Throws ConfigError. */
export function loadConfigFile<S extends TSchema>(
  file: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
  check?: ConfigCheck<Type.Static<S>>,
) {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (err) {
    if (err instanceof TextFileError)
      throw new ConfigError(file, [{ path: '(file)', expected: 'UTF-8 text', found: err.detail }]);
    throw new ConfigError(file, [
      {
        path: '(file)',
        expected: 'a readable YAML file',
        found: (err as NodeJS.ErrnoException).code ?? String(err),
      },
    ]);
  }
  return parseConfigText(file, text, schema, env, check);
}
