// Config loading: a YAML file, then VIGIE_* environment overrides, then schema validation.
// Every error names the file, the key path, what was expected and what was found.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type Type from 'typebox';
import type { TSchema } from 'typebox';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { uaiProblem } from './uai.ts';
import { addVigieFormats } from './validate.ts';

export interface ConfigProblem {
  path: string;
  expected: string;
  found: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map((p) => `${file}: ${p.path}: expected ${p.expected}, found ${p.found}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const ajv = addVigieFormats(
  new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes: false, verbose: true }),
);

export const ENV_PREFIX = 'VIGIE_';

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return `${text.length > 60 ? `${text.slice(0, 57)}...` : text} (${typeof value})`;
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

function problemFromAjv(e: ErrorObject, data: unknown): ConfigProblem | null {
  const p = e.params as Record<string, unknown>;
  const found = describeValue(valueAt(data, e.instancePath));
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
    case 'pattern': {
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      return {
        path: dotted(e.instancePath),
        expected: description ?? `text matching ${p['pattern']}`,
        found,
      };
    }
    case 'format':
      if (p['format'] === 'uai')
        return {
          path: dotted(e.instancePath),
          expected: `a UAI with its check letter (${uaiProblem(e.data)})`,
          found,
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
    const v = parseYaml(raw);
    return v === null || typeof v === 'object' ? raw : v;
  } catch {
    return raw;
  }
}

/**
 * VIGIE_COLLECTOR__INFLUX__URL=http://db:8086 sets collector.influx.url. Path segments are matched
 * case-insensitively against the keys the schema knows, so camelCase keys work from SHOUTING env names.
 */
export function applyEnvOverrides(
  data: Record<string, unknown>,
  schema: TSchema,
  env: NodeJS.ProcessEnv,
): string[] {
  const applied: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__');
    let node: Record<string, unknown> = data;
    let nodeSchema: TSchema | undefined = schema;
    const path: string[] = [];
    let ok = true;
    for (let i = 0; i < segments.length; i++) {
      const props: Record<string, TSchema> =
        (nodeSchema as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {};
      const key = Object.keys(props).find((k) => k.toLowerCase() === segments[i]!.toLowerCase());
      if (!key) {
        ok = false;
        break;
      }
      path.push(key);
      nodeSchema = props[key];
      if (i === segments.length - 1) {
        node[key] = envScalar(raw);
      } else {
        const next = node[key];
        if (next === undefined || next === null) node[key] = {};
        else if (typeof next !== 'object') {
          ok = false;
          break;
        }
        node = node[key] as Record<string, unknown>;
      }
    }
    if (ok) applied.push(`${name} → ${path.join('.')}`);
  }
  return applied;
}

export interface LoadedConfig<T> {
  file: string;
  config: T;
  /** Environment variables that changed the file's values, for the startup log. */
  overrides: string[];
}

export function parseConfigText<S extends TSchema>(
  file: string,
  text: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig<Type.Static<S>> {
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      throw new ConfigError(file, [
        {
          path: pos ? `line ${pos.line} column ${pos.col}` : '(file)',
          expected: 'valid YAML',
          found: err.message.split('\n')[0]!,
        },
      ]);
    }
    throw err;
  }
  if (typeof data !== 'object' || Array.isArray(data) || data === null) {
    throw new ConfigError(file, [
      { path: '(top level)', expected: 'a mapping of keys', found: describeValue(data) },
    ]);
  }
  const overrides = applyEnvOverrides(data as Record<string, unknown>, schema, env);
  const validate = ajv.compile(schema);
  if (!validate(data)) {
    const problems = (validate.errors ?? [])
      .map((e) => problemFromAjv(e, data))
      .filter((p): p is ConfigProblem => p !== null);
    throw new ConfigError(
      file,
      problems.length
        ? problems
        : [{ path: '(top level)', expected: 'a valid config', found: 'something else' }],
    );
  }
  return { file, config: data as Type.Static<S>, overrides };
}

export function loadConfigFile<S extends TSchema>(
  file: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      {
        path: '(file)',
        expected: 'a readable YAML file',
        found: (err as NodeJS.ErrnoException).code ?? String(err),
      },
    ]);
  }
  return parseConfigText(file, text, schema, env);
}
