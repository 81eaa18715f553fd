// The real `vigie` CLI as a user runs it: a child process, its output and exit code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const vigie = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(root, 'bin/vigie.js'), ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, ...env },
    timeout: 30_000,
  });

describe('vigie CLI', () => {
  it('lists its subcommands in --help', () => {
    const out = vigie(['--help']);
    expect(out.status).toBe(0);
    for (const cmd of ['agent', 'collector', 'config'])
      expect(out.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it('config check on a broken file prints each key path and exits 2', () => {
    const out = vigie(['config', 'check', 'test/fixtures/broken.yaml']);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(
      'test/fixtures/broken.yaml: agent.uai: expected a school UAI: 7 digits and their check letter, found "690001B" (string)',
    );
    expect(out.stderr).toContain('agent.mqtt.url');
    expect(out.stderr).toContain('collector.influx.databse: expected no such key');
  });

  it('config check on a valid file exits 0, and environment overrides are checked too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-cli-'));
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'agent:\n  uai: "0690001B"\n  id: box-1\n');
    const ok = vigie(['config', 'check', file]);
    expect(ok.stdout).toContain('valid (agent)');
    expect(ok.status).toBe(0);
    const bad = vigie(['config', 'check', file], { VIGIE_AGENT__UAI: '0690001A' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('agent.uai');
  });

  it('config check on a missing file says so and exits 2', () => {
    const out = vigie(['config', 'check', '/nonexistent/vigie.yaml']);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(
      '/nonexistent/vigie.yaml: (file): expected a readable YAML file, found ENOENT',
    );
  });
});
