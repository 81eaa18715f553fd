import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module (bin/ runs before any TypeScript loader)
import { SOURCE_DIRS } from '../../bin/dist-fresh.js';

// scripts/build compiles SOURCE_DIRS to dist/ and bin/vigie.js runs dist/ while it is fresh: a folder of
// code left out (report/ once was) builds a dist/ whose imports fail at run time, in CI and in the image.
const ROOT = join(import.meta.dirname, '..', '..');
/** Top-level folders of code that the CLI never loads: tests, benchmarks, build scripts. */
const NOT_SHIPPED = new Set(['test', 'bench', 'scripts', 'node_modules', 'dist']);

const hasCode = (dir: string): boolean =>
  readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? hasCode(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'),
  );

describe('compiled sources', () => {
  it('every top-level folder of code is compiled to dist/', () => {
    const folders = readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !NOT_SHIPPED.has(e.name))
      .map((e) => e.name)
      .filter((name) => hasCode(join(ROOT, name)))
      .sort();
    expect([...SOURCE_DIRS].sort()).toEqual(folders);
  });
});
