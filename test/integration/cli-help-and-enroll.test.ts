// What the CLI lists is what it runs: `vigie config` offers no `show` it does not have, the agent
// bundle lists only the commands a school's box runs, and a re-run of `enroll` that changes what every
// agent config carries (the broker URL) says the configs must be copied again.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../harness/daemon.ts';
import { REPO, SCHOOLS_YAML } from './deploy-pki.ts';

let dir: string;
const vigie = (args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin/vigie.js'), ...args], { encoding: 'utf8', timeout: 90_000 });

beforeAll(() => {
  dir = tempDir('cli-help');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('what the CLI lists', () => {
  it('`vigie config --help` names only the subcommands it has', () => {
    const r = vigie(['config', '--help']);
    expect(r.stdout).toContain('check');
    expect(r.stdout).not.toMatch(/\bshow\b/);
  });

  it("the agent bundle's --help lists the agent and config check, none of the server's commands", {
    timeout: 120_000,
  }, () => {
    const bundle = join(dir, 'vigie-agent.mjs');
    execFileSync(process.execPath, [join(REPO, 'scripts/build-agent'), bundle], { cwd: REPO, stdio: 'pipe' });
    const r = spawnSync(process.execPath, [bundle, '--help'], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    const commands = [...r.stdout.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]);
    expect(commands.sort()).toEqual(['agent', 'config', 'help']);
    const config = spawnSync(process.execPath, [bundle, 'config', '--help'], { encoding: 'utf8', cwd: dir });
    expect(config.stdout).toContain('check');
  });

  it('enroll says the agent configs changed when --broker changes', { timeout: 120_000 }, () => {
    const schools = join(dir, 'schools.yaml');
    writeFileSync(schools, SCHOOLS_YAML);
    const out = join(dir, 'enroll');
    const first = vigie([
      'enroll',
      '--schools',
      schools,
      '--out',
      out,
      '--broker',
      'mqtts://old.example.org:8883',
    ]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).not.toContain('agent configs changed');
    const same = vigie(['enroll', '--schools', schools, '--out', out]);
    expect(same.stdout).not.toContain('agent configs changed');
    const moved = vigie([
      'enroll',
      '--schools',
      schools,
      '--out',
      out,
      '--broker',
      'mqtts://new.example.org:8883',
    ]);
    expect(moved.status, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(
      'agent configs changed (broker mqtts://old.example.org:8883 → mqtts://new.example.org:8883): copy each agents/<UAI>.yaml to its box',
    );
  });
});
