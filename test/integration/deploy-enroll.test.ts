// `vigie enroll` as an installer runs it: exit codes, clear errors, file modes, idempotent re-runs,
// one-school rotation, revocation, and agent configs that `vigie config check` accepts. The speed test:
// the token each agent config carries against the collector's HTTP server, configured as the stack
// configures it (deploy/collector.yaml and collector.env), across re-runs, rotation and an old state.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { loadVigieConfig } from '../../cli/config-file.ts';
import { main } from '../../cli/main.ts';
import { SchoolReadings } from '../../collector/http/readings.ts';
import { buildHttpServer } from '../../collector/http/server.ts';
import { speedtestPlugin } from '../../collector/http/speedtest.ts';
import { verifyPassword } from '../../deploy/mosquitto-passwd.ts';
import { createLogger } from '../../shared/log.ts';
import { tempDir } from '../harness/daemon.ts';
import { StatusPresence } from '../harness/status-presence.ts';
import { envFile, REPO, SCHOOLS_YAML, UAI_A, UAI_B } from './deploy-pki.ts';

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
      const check = await vigie('config', 'check', '--no-files', join(out, 'agents', `${uai}.yaml`));
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

/**
 * The collector's HTTP server with the config the stack gives it: deploy/collector.yaml read by the
 * collector's own loader with collector.env as its environment. Requests go through fastify's inject.
 */
async function stackCollectorHttp(envDir: string) {
  const { config } = loadVigieConfig(
    join(REPO, 'deploy/collector.yaml'),
    envFile(join(envDir, 'collector.env')),
  );
  const http = config.collector!.http;
  return buildHttpServer(
    http,
    {
      registry: { schools: () => [], school: () => undefined },
      presence: new StatusPresence(),
      readings: new SchoolReadings(),
      influx: { query: async () => [], ping: async () => false, database: 'vigie' },
      stats: () => ({
        messagesIn: { metrics: 0, status: 0, events: 0 },
        rejected: {},
        batchesWritten: 0,
        batchesFailed: 0,
        pointsWritten: 0,
        queueDepth: { walBytes: 0 },
        alertsSent: {},
      }),
    },
    { logger: createLogger('test', 'silent'), speedtest: speedtestPlugin },
  );
}

describe('vigie enroll: the speed test', () => {
  const URL_ = 'https://vigie.example.org/speedtest';
  let st: string;
  const run = (...extra: string[]) => vigie('enroll', '--schools', schools, '--out', st, ...extra);
  const at = (path: string) => readFileSync(join(st, path), 'utf8');
  const agentSpeedtest = (uai: string) =>
    parse(at(`agents/${uai}.yaml`)).agent.probes?.speedtest as { url: string; token: string } | undefined;
  /** A download as the agent makes it: {url}/download with its token; the path is the one the proxy forwards. */
  const download = async (app: Awaited<ReturnType<typeof stackCollectorHttp>>, url: string, token: string) =>
    app.inject({
      url: `${new URL(url).pathname}/download?bytes=4096`,
      headers: { authorization: `Bearer ${token}` },
    });

  beforeAll(() => {
    st = join(dir, 'speedtest');
  });

  it('issues the secret on the first run, into collector.env, and says once how to give agents the speed test', async () => {
    const res = await run('--broker', 'mqtts://mqtt.example.org:8883');
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/speed-test secret: issued/);
    expect(res.stdout.split('\n').filter((l) => l.includes('--speedtest-url'))).toHaveLength(1);
    const { speedtest, version } = JSON.parse(at('credentials.json'));
    expect(version).toBe(2);
    expect(Buffer.from(speedtest.secret, 'base64url')).toHaveLength(32);
    expect(envFile(join(st, 'collector.env'))['VIGIE_COLLECTOR__HTTP__SPEEDTEST__SECRET']).toBe(
      speedtest.secret,
    );
    expect(res.stdout).not.toContain(speedtest.secret);
    expect(agentSpeedtest(UAI_A)).toBeUndefined();
  });

  it("gives each agent config the URL and its school's token, which the stack's collector accepts", async () => {
    const before = { creds: at('credentials.json'), env: at('collector.env') };
    const res = await run('--speedtest-url', `${URL_}/`);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).not.toMatch(/--speedtest-url|speed-test secret/);
    expect(res.stdout).toMatch(
      new RegExp(`the agent configs now use ${URL_}: copy each agents/<UAI>\\.yaml to its box`),
    );
    expect(at('collector.env')).toBe(before.env);
    expect(JSON.parse(at('credentials.json')).speedtest).toEqual(JSON.parse(before.creds).speedtest);
    const app = await stackCollectorHttp(st);
    try {
      for (const uai of [UAI_A, UAI_B]) {
        const conf = agentSpeedtest(uai)!;
        expect(conf.url).toBe(URL_);
        expect(conf.token.startsWith(`${uai}.`)).toBe(true);
        expect(res.stdout).not.toContain(conf.token);
        const check = await vigie('config', 'check', '--no-files', join(st, 'agents', `${uai}.yaml`));
        expect(check.status, check.stderr).toBe(0);
        const ok = await download(app, conf.url, conf.token);
        expect(ok.statusCode, ok.body).toBe(200);
        expect(ok.rawPayload).toHaveLength(4096);
      }
      const forged = `${UAI_A}.${agentSpeedtest(UAI_B)!.token.split('.')[1]}`;
      expect((await download(app, URL_, forged)).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('keeps the secret and every token on a re-run, and remembers the URL', async () => {
    const files = ['credentials.json', 'collector.env', `agents/${UAI_A}.yaml`, `agents/${UAI_B}.yaml`];
    const before = files.map(at);
    const res = await run();
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).not.toMatch(/speed-test|speed test|collector\.env changed/);
    expect(files.map(at)).toEqual(before);
  });

  it('rotates the secret with --rotate speedtest: the old tokens are refused, the new ones accepted', async () => {
    const old = { creds: JSON.parse(at('credentials.json')), token: agentSpeedtest(UAI_A)!.token };
    const res = await run('--rotate', 'speedtest');
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/speed-test secret: rotated, so every school's speed-test token changed/);
    expect(res.stdout).toMatch(/docker compose up -d collector/);
    const creds = JSON.parse(at('credentials.json'));
    expect(creds.speedtest.secret).not.toBe(old.creds.speedtest.secret);
    expect(creds.schools).toEqual(old.creds.schools);
    expect(creds.collector).toEqual(old.creds.collector);
    const fresh = agentSpeedtest(UAI_A)!.token;
    expect(fresh).not.toBe(old.token);
    const app = await stackCollectorHttp(st);
    try {
      expect((await download(app, URL_, old.token)).statusCode).toBe(401);
      expect((await download(app, URL_, fresh)).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('upgrades a state file from the previous version: credentials kept, a secret added', async () => {
    const current = JSON.parse(at('credentials.json'));
    const { speedtest: _, speedtestUrl: __, ...v1 } = { ...current, version: 1 };
    writeFileSync(join(st, 'credentials.json'), JSON.stringify(v1, null, 2));
    const passwd = at('mosquitto/passwd');
    const res = await run('--speedtest-url', URL_);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/credentials\.json upgraded from version 1/);
    expect(res.stdout).toMatch(/speed-test secret: issued/);
    const creds = JSON.parse(at('credentials.json'));
    expect(creds.version).toBe(2);
    expect(creds.schools).toEqual(current.schools);
    expect(creds.collector).toEqual(current.collector);
    expect(at('mosquitto/passwd')).toBe(passwd);
    expect(creds.speedtest.secret).not.toBe(current.speedtest.secret);
    const app = await stackCollectorHttp(st);
    try {
      expect((await download(app, URL_, agentSpeedtest(UAI_B)!.token)).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses a plaintext URL, and a state from a newer version, leaving the state as it was', async () => {
    const before = at('credentials.json');
    const http = await run('--speedtest-url', 'http://vigie.example.org/speedtest');
    expect(http.status).toBe(2);
    expect(http.stderr).toMatch(/--speedtest-url http:\/\/vigie\.example\.org\/speedtest: use https:\/\//);
    expect(at('credentials.json')).toBe(before);
    const newer = JSON.stringify({ ...JSON.parse(before), version: 3 });
    writeFileSync(join(st, 'credentials.json'), newer);
    const res = await run();
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/credentials\.json: version 3, this vigie reads versions 1 and 2/);
    expect(at('credentials.json')).toBe(newer);
  });
});
