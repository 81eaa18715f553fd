import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

describe('the collector composition root', () => {
  it('is the only place under collector/ that loads the registry, once: the others are given the map', () => {
    const loaders = sources('collector').filter((f) => /\bloadRegistry\b/.test(readFileSync(f, 'utf8')));
    expect(loaders).toEqual([join('collector', 'main.ts')]);
    const calls = readFileSync('collector/main.ts', 'utf8').match(/\bloadRegistry\(/g) ?? [];
    expect(calls).toHaveLength(1);
  });
});
