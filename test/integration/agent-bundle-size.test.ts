import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../harness/daemon.ts';

// The box's bundle holds the agent's code only: the other areas' commands are left out (scripts/build-agent
// SERVER_SIDE). When `vigie report` came, its charts and PDF printing were bundled in (1.4 → 6.7 MB, agent RSS
// 1.50× → 2.53× a bare Node in bench/agent-footprint).
const ROOT = join(import.meta.dirname, '..', '..');
/** Today 1.4 MB; the bound leaves room for the agent to grow, not for a server area to slip in. */
const MAX_BYTES = 2 * 1024 * 1024;

describe('agent bundle', () => {
  it(`stays under ${MAX_BYTES / 1024 / 1024} MiB: no server-side area in it`, () => {
    const out = join(tempDir('agent-bundle-size'), 'vigie-agent.mjs');
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-agent'), out], {
      stdio: 'pipe',
      timeout: 60_000,
    });
    expect(statSync(out).size).toBeLessThan(MAX_BYTES);
  });
});
