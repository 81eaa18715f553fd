#!/usr/bin/env node
// Entry point. Runs the compiled JavaScript in dist/ (scripts/build, run by `npm ci` and `npm run
// build`) when it is newer than every source, else the TypeScript sources through tsx: an edited
// .ts file is always what runs, only slower (~1 s more per start) until the next `npm run build`.
// VIGIE_FROM_SOURCES=1 forces the sources.
import { fileURLToPath } from 'node:url';
import { distIsFresh } from './dist-fresh.js';

const root = fileURLToPath(new URL('../', import.meta.url));
let main;
// A variable, not a literal: bundlers (scripts/build-agent, the image's check) follow the sources.
const compiled = '../dist/cli/main.js';
if (process.env.VIGIE_FROM_SOURCES !== '1' && distIsFresh(root)) {
  ({ main } = await import(compiled));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv);
