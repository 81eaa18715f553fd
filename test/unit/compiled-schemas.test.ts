import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { ValidateFunction } from 'ajv';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
// @ts-expect-error plain JavaScript module (run by scripts/build before any TypeScript loader)
import { precompiledSchemas, writeStandaloneValidators } from '../../scripts/precompile-validators.js';
import { type AjvProfile, ajvFor, loadPrecompiled, schemaKey } from '../../shared/compiled-schemas.ts';
import { buildBatch, eventMessage, statusMessage } from '../../shared/messages.ts';
import { everySample } from '../harness/collector.ts';

// scripts/build writes the schemas' validators as ajv standalone code so that no process compiles
// them at start (issue 16: the collector took 5.5 s to be ready, most of it ajv compiling). The
// standalone code must answer exactly as ajv's compiled validator does: same verdict, same errors
// (messages name the key from them), same defaults filled in.
const ROOT = join(import.meta.dirname, '..', '..');
const load = (module: string) => import(/* @vite-ignore */ pathToFileURL(join(ROOT, `${module}.ts`)).href);

interface Entry {
  profile: AjvProfile;
  schema: object;
  where: string;
}

let dir: string;
let entries: Entry[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigie-validators-'));
  await writeStandaloneValidators({
    outDir: dir,
    load,
    formatsFile: join(ROOT, 'shared/ajv-formats.ts'),
    esbuild,
  });
  entries = await precompiledSchemas(load);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dirUrl = () => pathToFileURL(`${dir}/`);
const yamlFile = (path: string) =>
  parseYaml(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;

/** Valid inputs per schema (by its `where`), from the examples and the protocol's builders. */
function fixtures(where: string): unknown[] {
  const sender = { uai: '0381234K', agent: 'box-1' };
  const t = 1_767_000_000_000;
  const collector = yamlFile('examples/collector.yaml');
  const agent = yamlFile('examples/agent.yaml');
  const deployed = yamlFile('deploy/collector.yaml');
  const window = {
    id: 'w1',
    scope: { uai: ['0381234K'] },
    startsAt: t,
    endsAt: t + 3_600_000,
    createdAt: t,
    comment: 'works',
    createdBy: 'team',
  };
  const byWhere: Record<string, unknown[]> = {
    'collector/config-file.CollectorFile': [collector, deployed],
    'agent/config.AgentFile': [agent],
    'cli/config-file.VigieConfig': [{ ...collector, ...agent }, deployed],
    'collector/config.CollectorConfig': [collector['collector'], deployed['collector']],
    'shared/registry.School': [
      {
        uai: '0381234K',
        name: 'École élémentaire Saint-Exupéry',
        commune: 'Vienne',
        lat: 45.5243,
        lon: 4.8742,
        isp: 'Orange',
        contractedDownMbps: 100,
        contractedUpMbps: 20,
        hours: 'school',
      },
    ],
    'shared/validate.MetricsEnvelope': [buildBatch(sender.uai, sender.agent, 1, t, everySample(t))],
    'shared/schemas.StatusMessage': [
      statusMessage(sender, {
        state: 'online',
        t,
        version: '0.1.0',
        reason: 'birth',
        startedAt: t,
        instance: 'a1b2c3d4e5f60718',
      }),
    ],
    'shared/schemas.EventMessage': [
      eventMessage(sender, { t, kind: 'probe_error', message: 'dns failed', data: { probe: 'dns', n: 1 } }),
    ],
    'collector/http/schemas.StoredSilence': [{ ...window, kinds: ['school_offline'] }],
    'collector/http/schemas.StoredMaintenance': [window],
  };
  const kind = /^shared\/schemas\.SAMPLE_SCHEMAS\.(.+)$/.exec(where)?.[1];
  if (kind) return everySample(t).filter((s) => s.probe === kind);
  const found = byWhere[where];
  if (!found) throw new Error(`no fixture for ${where}`);
  return found;
}

/** The fixture and copies of it broken one place at a time: each key removed, retyped, or one added. */
function variants(valid: unknown): unknown[] {
  const out: unknown[] = [undefined, null, 'x', 42, [], {}, valid];
  const walk = (path: (string | number)[], value: unknown, depth: number) => {
    if (depth > 4 || value === null || typeof value !== 'object') return;
    const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    const change = (key: string | number, to: unknown, remove = false) => {
      const copy = structuredClone(valid);
      let at = copy as Record<string | number, unknown>;
      for (const p of path) at = at[p] as Record<string | number, unknown>;
      if (remove) delete at[key];
      else at[key] = to;
      out.push(copy);
    };
    if (!Array.isArray(value)) change('notAKey', 1);
    for (const key of keys) {
      change(key, undefined, true);
      for (const to of [null, 'x', -1, 1.5, true, {}, [], '0690001A', '']) change(key, to);
      walk([...path, key], (value as Record<string | number, unknown>)[key], depth + 1);
    }
  };
  walk([], valid, 0);
  return out;
}

/** What a validator says about one input: verdict, errors and the input once defaults are filled. */
function verdict(validate: ValidateFunction, input: unknown) {
  const data = structuredClone(input);
  const ok = validate(data);
  return { ok, errors: validate.errors ?? null, data };
}

describe('precompiled schema validators (scripts/build)', () => {
  it('every schema the build lists is found by its key, and an unlisted one is not', () => {
    expect(entries.length).toBeGreaterThanOrEqual(17);
    for (const { profile, schema, where } of entries) {
      const v = loadPrecompiled(dirUrl(), profile, schema);
      expect(v, where).toBeTypeOf('function');
      // ajv's compiled functions carry their schema; standalone code does not: this one was not compiled.
      expect((v as ValidateFunction).schema, where).toBeUndefined();
    }
    expect(loadPrecompiled(dirUrl(), 'wire', { type: 'object', properties: { other: {} } })).toBeUndefined();
    // The key follows the schema's content: an edited schema never runs old code.
    const { profile, schema } = entries[0]!;
    expect(schemaKey(profile, { ...schema, description: 'edited' })).not.toBe(schemaKey(profile, schema));
  });

  // ~4,500 inputs and 17 compilations: ~5 s idle, 14 s at load 12.
  it('answers every input exactly as ajv compiling the schema at run time', { timeout: 120_000 }, () => {
    let compared = 0;
    for (const { profile, schema, where } of entries) {
      const standalone = loadPrecompiled(dirUrl(), profile, schema)!;
      const compiled = ajvFor(profile).compile(schema);
      for (const valid of fixtures(where)) {
        expect(verdict(compiled, valid).errors, `${where}: fixture is valid`).toBeNull();
        for (const input of variants(valid)) {
          const got = verdict(standalone, input);
          const want = verdict(compiled, input);
          // Compared quickly first; vitest's diff (slow) only for a difference.
          if (!isDeepStrictEqual(got, want))
            expect(got, `${where}: ${JSON.stringify(input)?.slice(0, 200)}`).toEqual(want);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});
