// The CLI on the Node.js line under test (scripts/test-node-lines runs this on 24, 22 and the
// machine's own): the agent warns in its journal exactly when that line is past its end of life.
// Integration tests start Node with process.execPath, so they run on the line under test.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeRuntimeWarning } from '../../cli/node-support.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('the CLI on this Node.js line', () => {
  it(`warns when ${process.version} is past its end of life, and only then`, () => {
    const res = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/vigie.js'), 'agent', '--config', '/nonexistent/agent.yaml'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(res.stderr).toContain('/nonexistent/agent.yaml');
    const expected = nodeRuntimeWarning(process.version, new Date());
    if (expected) expect(res.stderr).toContain(expected);
    else expect(res.stderr).not.toContain('end of life');
  });

  it("starts Node children with process.execPath, never the PATH's `node`", () => {
    // A `node` looked up on PATH would test the machine's Node under every line's name.
    const offenders: string[] = [];
    for (const folder of ['test/harness', 'test/integration']) {
      for (const file of readdirSync(join(ROOT, folder))) {
        if (!file.endsWith('.ts') || file === basename(import.meta.filename)) continue;
        const text = readFileSync(join(ROOT, folder, file), 'utf8');
        if (/binary: 'node'|(spawn|spawnSync|execFile|execFileSync|fork)\(\s*'node'/.test(text))
          offenders.push(`${folder}/${file}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
