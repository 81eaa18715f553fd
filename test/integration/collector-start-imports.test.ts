// What the collector loads before it is ready (issue 16: 5.5 s to be ready on a loaded machine, most of
// it ajv compiling JSON schemas at import and packages only needed later). Loading the composition root
// must compile no schema (they are compiled, or loaded precompiled from dist/, at first use) and leave
// out what serves only after ingest is connected: the HTTP server, the embedded broker, the mail sender,
// the report. Measured in a fresh Node process, whose ESM resolve hook lists every package loaded.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../harness/daemon.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const SCRIPT = `
import { register } from 'node:module';
import { Ajv } from 'ajv';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.LOADED_FILE, r.url + '\\\\n');
  return r;
}\`));
let compiled = 0;
const compile = Ajv.prototype.compile;
Ajv.prototype.compile = function (...args) { compiled++; return compile.apply(this, args); };
const { runCollectorCommand } = await import(new URL('collector/main.ts', process.env.ROOT_URL).href);
await import(new URL('collector/alerts/channels/email.ts', process.env.ROOT_URL).href);
process.stdout.write(JSON.stringify({ compiled, loaded: typeof runCollectorCommand }));
`;

it('loading the collector compiles no JSON schema and leaves out what serves after ready', () => {
  const loadedFile = join(tempDir('start-imports'), 'loaded.txt');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, LOADED_FILE: loadedFile, ROOT_URL: `file://${ROOT}/` },
    encoding: 'utf8',
  });
  const result = JSON.parse(out) as { compiled: number; loaded: string };
  expect(result.loaded).toBe('function');
  expect(result.compiled).toBe(0);
  const packages = new Set(
    readFileSync(loadedFile, 'utf8')
      .split('\n')
      .map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
      .filter((p): p is string => Boolean(p)),
  );
  // What ingest needs is there (the hook does see packages)...
  expect(packages).toContain('mqtt');
  // ...and none of what is loaded only when used: HTTP API, embedded broker, email, report.
  const later = [
    'fastify',
    '@fastify/swagger',
    'prom-client',
    'aedes',
    'nodemailer',
    '@socialgouv/jours-feries',
  ];
  expect(later.filter((p) => packages.has(p))).toEqual([]);
});
