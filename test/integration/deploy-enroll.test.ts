// `vigie enroll` as an installer runs it: exit codes, clear errors, file modes, idempotent re-runs,
// one-school rotation, revocation, and agent configs that `vigie config check` accepts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { verifyPassword } from '../../deploy/mosquitto-passwd.ts';
import { tempDir } from '../harness/daemon.ts';
import { REPO, SCHOOLS_YAML, UAI_A, UAI_B } from './deploy-pki.ts';

let dir: string;
let schools: string;
let out: string;

/** The real `vigie` process: exit code and streams as an installer sees them. */
const vigieProcess = (...args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin/vigie.js'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });

/** The same CLI in this process (a process start costs seconds on a busy machine). */
async function vigie(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const captured = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') =>
    vi.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      captured[stream] += String(chunk);
      return true;
    });
  const spies = [capture('stdout'), capture('stderr')];
  process.exitCode = undefined;
  try {
    const status = await main(['node', 'vigie', ...args]);
    return { status, ...captured };
  } finally {
    for (const spy of spies) spy.mockRestore();
    process.exitCode = undefined;
  }
}
const enroll = (...extra: string[]) => vigie('enroll', '--schools', schools, '--out', out, ...extra);
const read = (path: string) => readFileSync(join(out, path), 'utf8');
const credentials = () => JSON.parse(read('credentials.json'));

beforeAll(() => {
  dir = tempDir('deploy-enroll');
  schools = join(dir, 'schools.yaml');
  out = join(dir, 'out');
  writeFileSync(schools, SCHOOLS_YAML);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vigie enroll', () => {
  it('refuses a bad registry with the line and the reason (exit 2), and writes nothing', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(
      bad,
      'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps\n0690001A,École,Vienne,45,4,Orange,100,20\n',
    );
    const res = vigieProcess(
      'enroll',
      '--schools',
      bad,
      '--out',
      join(dir, 'never'),
      '--broker',
      'mqtts://m:8883',
    );
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('bad.csv: line 2');
    expect(res.stderr).toMatch(/uai/i);
    expect(existsSync(join(dir, 'never'))).toBe(false);

    const missing = await vigie(
      'enroll',
      '--schools',
      join(dir, 'nope.csv'),
      '--out',
      join(dir, 'never'),
      '--broker',
      'x',
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.csv: cannot read: ENOENT/);
  });

  it('asks for the broker URL on the first run', async () => {
    const res = await vigie('enroll', '--schools', schools, '--out', join(dir, 'first'));
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/--broker is required/);
    expect(existsSync(join(dir, 'first'))).toBe(false);
  });

  it('issues credentials, with secrets readable by the owner only, and agent configs config check accepts', async () => {
    const res = vigieProcess(
      'enroll',
      '--schools',
      schools,
      '--out',
      out,
      '--broker',
      'mqtts://mqtt.example.org:8883',
    );
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/issued \(3\)/);
    const creds = credentials();
    expect(res.stdout).not.toContain(creds.schools[UAI_A].password);
    expect(readdirSync(join(out, 'agents')).sort()).toEqual([`${UAI_B}.yaml`, `${UAI_A}.yaml`]);
    for (const f of ['credentials.json', 'collector.env', `agents/${UAI_A}.yaml`, `agents/${UAI_B}.yaml`])
      expect(statSync(join(out, f)).mode & 0o777, f).toBe(0o600);
    for (const f of ['mosquitto/passwd', 'mosquitto/acl'])
      expect(statSync(join(out, f)).mode & 0o777, f).toBe(0o644);
    for (const uai of [UAI_A, UAI_B]) {
      const check = await vigie('config', 'check', join(out, 'agents', `${uai}.yaml`));
      expect(check.status, check.stderr).toBe(0);
    }
    // Every password in the broker's file matches the issued credential.
    const hashes: Record<string, string> = Object.fromEntries(
      read('mosquitto/passwd')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    );
    expect(verifyPassword(creds.schools[UAI_A].password, hashes[UAI_A] ?? '')).toBe(true);
    expect(verifyPassword(creds.collector.password, hashes['vigie-collector'] ?? '')).toBe(true);
    expect(verifyPassword(creds.schools[UAI_A].password, hashes[UAI_B] ?? '')).toBe(false);
  });

  it('changes nothing when run again', async () => {
    const before = ['credentials.json', 'mosquitto/passwd', 'collector.env', `agents/${UAI_A}.yaml`].map(
      read,
    );
    const res = await enroll();
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/kept: 2/);
    expect(
      ['credentials.json', 'mosquitto/passwd', 'collector.env', `agents/${UAI_A}.yaml`].map(read),
    ).toEqual(before);
  });

  it('rotates one school with one flag, and refuses an unknown one', async () => {
    const before = credentials();
    const res = await enroll('--rotate', UAI_B);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`rotated \\(1\\): ${UAI_B}`));
    const after = credentials();
    expect(after.schools[UAI_B].password).not.toBe(before.schools[UAI_B].password);
    expect(after.schools[UAI_A]).toEqual(before.schools[UAI_A]);
    expect(read(`agents/${UAI_B}.yaml`)).toContain(after.schools[UAI_B].password);

    const unknown = await enroll('--rotate', '0010001W');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/cannot rotate 0010001W: not in the school registry/);
  });

  it('revokes a school removed from the registry: out of the password file, its config deleted', async () => {
    const onlyA = join(dir, 'only-a.yaml');
    writeFileSync(
      onlyA,
      SCHOOLS_YAML.split('\n')
        .filter((l) => !l.includes(UAI_B))
        .join('\n'),
    );
    const res = await vigie('enroll', '--schools', onlyA, '--out', out);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`revoked .*: ${UAI_B}`));
    expect(read('mosquitto/passwd')).not.toContain(UAI_B);
    expect(existsSync(join(out, `agents/${UAI_B}.yaml`))).toBe(false);
  });

  it('refuses to run over a damaged state file, and leaves it as it was', async () => {
    writeFileSync(join(out, 'credentials.json'), '{"version": 1, "schools": ');
    const res = await enroll();
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/credentials\.json: not valid JSON.*holds every issued credential/);
    expect(read('credentials.json')).toBe('{"version": 1, "schools": ');
  });

  it('reads a hash mosquitto_passwd wrote', () => {
    const file = join(dir, 'mosquitto-passwd');
    execFileSync('mosquitto_passwd', ['-c', '-b', file, 'someone', 'a password with spaces']);
    const [user, hash] = readFileSync(file, 'utf8').trim().split(/:(.*)/s) as [string, string];
    expect(user).toBe('someone');
    expect(verifyPassword('a password with spaces', hash)).toBe(true);
  });
});
