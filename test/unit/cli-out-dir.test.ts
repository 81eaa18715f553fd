import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { outDirProblem } from '../../cli/out-dir.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigie-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--out folders', () => {
  it('takes an existing folder or one to create, under a folder or several missing ones', () => {
    mkdirSync(join(dir, 'exists'));
    expect(outDirProblem(join(dir, 'exists'))).toBeNull();
    expect(outDirProblem(join(dir, 'new'))).toBeNull();
    expect(outDirProblem(join(dir, 'new/deeper/still'))).toBeNull();
  });

  it('refuses an existing file, and a path that goes through one, naming the option', () => {
    const file = join(dir, 'grafana.json');
    writeFileSync(file, '{}');
    expect(outDirProblem(file)).toBe(
      `--out ${file}: is a file, not a folder; give a folder (created if missing)`,
    );
    expect(outDirProblem(join(file, 'sub'), '--data')).toBe(
      `--data ${join(file, 'sub')}: ${file} is a file, so no folder can be made under it; give a folder`,
    );
  });
});
