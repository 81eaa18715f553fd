// One place that turns a JSON schema into a validator. Compiling with ajv at run time is most of a
// process's start-up (~0.3 s of CPU for the collector's config alone, seconds on a loaded box), so
// scripts/build writes each schema it knows (scripts/precompile-validators.js) as ajv standalone code
// into dist/shared/validators/, named by a hash of the profile and the schema's JSON. A schema found there
// is loaded as plain JavaScript; any other (sources through tsx, the agent bundle, a schema the build
// does not list) is compiled here on first use. Same ajv, same options, same code: same errors.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { VIGIE_FORMATS } from './ajv-formats.ts';

/**
 * Every ajv set-up Vigie validates with. `formats`: the schema may use Vigie's formats (VIGIE_FORMATS).
 * wire: messages (first error only; verbose for the UAI format's message). config: config files
 * (every error, defaults filled, parentSchema for the messages). registry: one school's row.
 * collectorConfig: a programmatic collector config (resolveCollectorConfig).
 */
export const AJV_PROFILES = {
  wire: { options: { allErrors: false, strict: false, verbose: true }, formats: true },
  config: {
    options: { allErrors: true, strict: false, useDefaults: true, coerceTypes: false, verbose: true },
    formats: true,
  },
  registry: { options: { strict: false, useDefaults: true, verbose: true, allErrors: true }, formats: true },
  collectorConfig: {
    options: { allErrors: true, strict: false, useDefaults: true, coerceTypes: false },
    formats: false,
  },
} satisfies Record<string, { options: Options; formats: boolean }>;
export type AjvProfile = keyof typeof AJV_PROFILES;

/** Adds Vigie's formats to an Ajv instance (every instance compiling the shared schemas, fastify's too). */
export function addVigieFormats<A extends Ajv>(instance: A): A {
  for (const [name, format] of Object.entries(VIGIE_FORMATS)) instance.addFormat(name, format);
  return instance;
}

/** A new Ajv instance set up as `profile` says. */
export function ajvFor(profile: AjvProfile): Ajv {
  const { options, formats } = AJV_PROFILES[profile];
  const instance = new Ajv(options);
  return formats ? addVigieFormats(instance) : instance;
}

/**
 * The precompiled module's name for `schema` validated with `profile`: the profile and a SHA-256 of
 * the schema's JSON, so a schema edited since the build is never matched with old code.
 */
export function schemaKey(profile: AjvProfile, schema: object): string {
  const hash = createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 20);
  return `${profile}-${hash}`;
}

/** Where scripts/build writes the standalone validators: validators/ beside this module in dist/. */
const PRECOMPILED_DIR = new URL('./validators/', import.meta.url);
const requireHere = createRequire(import.meta.url);

/**
 * The standalone validator of `schema` under `profile` in the folder `dir` (a file: URL ending in
 * '/'), or undefined when that folder has none for it (sources, the agent bundle, an unlisted schema).
 */
export function loadPrecompiled(dir: URL, profile: AjvProfile, schema: object): ValidateFunction | undefined {
  if (dir.protocol !== 'file:') return undefined;
  const file = fileURLToPath(new URL(`${schemaKey(profile, schema)}.cjs`, dir));
  if (!existsSync(file)) return undefined;
  const mod = requireHere(file) as ValidateFunction & { default?: ValidateFunction };
  return mod.default ?? mod;
}

const instances = new Map<AjvProfile, Ajv>();
const validators = new WeakMap<object, Map<AjvProfile, ValidateFunction>>();

/**
 * The validator of `schema` under `profile`: the build's standalone code when dist/ has it, else
 * compiled now (ajv; once per schema object and profile). Throws what ajv.compile throws on a bad schema.
 */
export function validatorFor<T = unknown>(profile: AjvProfile, schema: object): ValidateFunction<T> {
  const byProfile = validators.get(schema) ?? new Map<AjvProfile, ValidateFunction>();
  validators.set(schema, byProfile);
  let v = byProfile.get(profile);
  if (v) return v as ValidateFunction<T>;
  v = loadPrecompiled(PRECOMPILED_DIR, profile, schema);
  if (!v) {
    const instance = instances.get(profile) ?? ajvFor(profile);
    instances.set(profile, instance);
    v = instance.compile(schema);
  }
  byProfile.set(profile, v);
  return v as ValidateFunction<T>;
}
