// Writes the JSON schemas Vigie validates at start as ajv standalone code, so that no process compiles
// them (shared/compiled-schemas.ts loads these files; a schema missing here is compiled at first use).
// Run by scripts/build on the freshly compiled dist/ modules: the schema objects hashed here are the
// very ones the processes will look up. test/unit/compiled-schemas.test.ts runs it on the sources.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _, Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/**
 * Every schema a Vigie process validates at or soon after its start: the module (path from the
 * repository's root, no extension) and export holding it, and the ajv profile it is validated with
 * (shared/compiled-schemas.ts). `each`: the export is a record of schemas, one per key.
 */
export const PRECOMPILED = [
  { profile: 'config', module: 'collector/config-file', name: 'CollectorFile' },
  { profile: 'config', module: 'agent/config', name: 'AgentFile' },
  { profile: 'config', module: 'cli/config-file', name: 'VigieConfig' },
  { profile: 'collectorConfig', module: 'collector/config', name: 'CollectorConfig' },
  { profile: 'registry', module: 'shared/registry', name: 'School' },
  { profile: 'wire', module: 'shared/validate', name: 'MetricsEnvelope' },
  { profile: 'wire', module: 'shared/schemas', name: 'StatusMessage' },
  { profile: 'wire', module: 'shared/schemas', name: 'EventMessage' },
  { profile: 'wire', module: 'shared/schemas', name: 'SAMPLE_SCHEMAS', each: true },
  { profile: 'wire', module: 'collector/http/schemas', name: 'StoredSilence' },
  { profile: 'wire', module: 'collector/http/schemas', name: 'StoredMaintenance' },
];

/**
 * The schemas of PRECOMPILED as `load` (module path → its namespace) gives them.
 * @returns [{ profile, schema, where }], `where` naming the export (`shared/schemas.SAMPLE_SCHEMAS.dns`).
 * @throws Error naming the module and export when one is missing.
 */
export async function precompiledSchemas(load) {
  const out = [];
  for (const { profile, module, name, each } of PRECOMPILED) {
    const value = (await load(module))[name];
    if (!value || typeof value !== 'object') throw new Error(`${module}.${name}: no such schema`);
    if (each)
      for (const [key, schema] of Object.entries(value))
        out.push({ profile, schema, where: `${module}.${name}.${key}` });
    else out.push({ profile, schema: value, where: `${module}.${name}` });
  }
  return out;
}

/**
 * Writes one CommonJS file per schema into `outDir`, named by shared/compiled-schemas.ts's schemaKey:
 * ajv's standalone code with its runtime helpers and Vigie's formats (`formatsFile`: the path of
 * shared/ajv-formats.ts) bundled in, minified, by `esbuild`. `load` imports a module of Vigie by its
 * path from the root without extension (dist/'s .js files at build time).
 * @returns the file names written.
 */
export async function writeStandaloneValidators({ outDir, load, formatsFile, esbuild }) {
  const { AJV_PROFILES, addVigieFormats, schemaKey } = await load('shared/compiled-schemas');
  mkdirSync(outDir, { recursive: true });
  const written = [];
  for (const { profile, schema } of await precompiledSchemas(load)) {
    // The key first: nothing below may change what the process will hash.
    const name = `${schemaKey(profile, schema)}.cjs`;
    const { options, formats } = AJV_PROFILES[profile];
    const ajv = new Ajv({
      ...options,
      code: { source: true, formats: _`require(${formatsFile}).VIGIE_FORMATS` },
    });
    if (formats) addVigieFormats(ajv);
    const source = standaloneCode(ajv, ajv.compile(schema));
    const out = await esbuild.build({
      // ajv's runtime helpers (require('ajv/dist/runtime/…')) resolved from this repository.
      stdin: { contents: source, resolveDir: REPO, sourcefile: name, loader: 'js' },
      bundle: true,
      write: false,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // A third of the size: less to read and parse at each start (the config's is ~0.5 MB unminified).
      minify: true,
      logLevel: 'warning',
    });
    writeFileSync(join(outDir, name), out.outputFiles[0].text);
    written.push(name);
  }
  return written;
}
