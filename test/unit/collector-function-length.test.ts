import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Issue 13: no function in collector/ over ~80 lines without a reason written beside it (`// Long: why`).
const ROOT = join(import.meta.dirname, '..', '..');
const MAX_LINES = 85;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const isFunction = (n: ts.Node) =>
  ts.isFunctionDeclaration(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isArrowFunction(n) ||
  ts.isFunctionExpression(n) ||
  ts.isConstructorDeclaration(n);

/** The statement a function stands in (`export const x = () => {}` keeps its comments on the statement). */
function holder(n: ts.Node): ts.Node {
  let h = n;
  while (h.parent && !ts.isSourceFile(h.parent) && !ts.isBlock(h.parent) && !ts.isClassLike(h.parent))
    h = h.parent;
  return h;
}

function hasReason(n: ts.Node, text: string): boolean {
  const ranges = ts.getLeadingCommentRanges(text, holder(n).getFullStart()) ?? [];
  return ranges.some((r) => /^\/\/ Long: \S/.test(text.slice(r.pos, r.end)));
}

/** Functions longer than MAX_LINES with no `// Long:` reason, neither their own nor an enclosing one's. */
function unexplainedLongFunctions(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node, explained: boolean) => {
    let inside = explained;
    if (isFunction(n)) {
      const from = src.getLineAndCharacterOfPosition(n.getStart()).line + 1;
      const to = src.getLineAndCharacterOfPosition(n.getEnd()).line + 1;
      const long = to - from + 1 > MAX_LINES;
      const reason = hasReason(n, text);
      if (long && !reason && !explained)
        found.push(`${relative(ROOT, file)}:${from} (${to - from + 1} lines)`);
      inside = explained || reason;
    }
    ts.forEachChild(n, (c) => visit(c, inside));
  };
  visit(src, false);
  return found;
}

describe('collector functions', () => {
  it(`are at most ${MAX_LINES} lines, or say why beside them`, () => {
    const found = tsFiles(join(ROOT, 'collector')).flatMap(unexplainedLongFunctions);
    expect(found).toEqual([]);
  });
});
