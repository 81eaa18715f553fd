// The real `vigie` process refusing what would go wrong later: an --out that is a file (enroll,
// dashboards build) and an enroll --broker URL carrying credentials. Exit 2, a clear line, nothing written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const vigie = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/vigie.js'), ...args], {
    encoding: 'utf8',
    cwd: root,
    timeout: 60_000,
  });

const dir = mkdtempSync(join(tmpdir(), 'vigie-out-broker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const schools = join(dir, 'schools.yaml');
writeFileSync(
  schools,
  'schools:\n  - { uai: "0690001B", name: École, commune: Vienne, lat: 45.5, lon: 4.8, isp: Orange, contractedDownMbps: 100, contractedUpMbps: 20 }\n',
);

describe('--out that is a file', () => {
  it('enroll: exit 2 with the path named, the file untouched', () => {
    const file = join(dir, 'enroll-out.txt');
    writeFileSync(file, 'keep me');
    const out = vigie(
      'enroll',
      '--schools',
      schools,
      '--out',
      file,
      '--broker',
      'mqtts://m.example.org:8883',
    );
    expect(out.status).toBe(2);
    expect(out.stderr).toBe(
      `vigie enroll: --out ${file}: is a file, not a folder; give a folder (created if missing)\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('dashboards build: exit 2, also when a parent of --out is a file', () => {
    const file = join(dir, 'grafana.json');
    writeFileSync(file, '{}');
    const out = vigie('dashboards', 'build', '--out', join(file, 'provisioning'));
    expect(out.status).toBe(2);
    expect(out.stderr).toBe(
      `vigie dashboards build: --out ${join(file, 'provisioning')}: ${file} is a file, so no folder can be made under it; give a folder\n`,
    );
  });
});

describe('enroll --broker with credentials', () => {
  it('is refused without printing the password: each school gets its own credential', () => {
    const out = join(dir, 'enroll');
    for (const broker of ['mqtts://admin:hunter2@m.example.org:8883', 'mqtt://admin:hunter2@m.example.org']) {
      const res = vigie('enroll', '--schools', schools, '--out', out, '--broker', broker);
      expect(res.status).toBe(2);
      expect(res.stderr).toMatch(
        /^vigie enroll: --broker mqtts?:\/\/admin:\[redacted\]@m\.example\.org.*: no user name or password in the URL/,
      );
      expect(res.stdout + res.stderr).not.toContain('hunter2');
    }
    const user = vigie(
      'enroll',
      '--schools',
      schools,
      '--out',
      out,
      '--broker',
      'mqtts://admin@m.example.org',
    );
    expect(user.status).toBe(2);
    expect(user.stderr).toContain('no user name or password in the URL');
    expect(existsSync(join(out, 'credentials.json'))).toBe(false);
  });
});
