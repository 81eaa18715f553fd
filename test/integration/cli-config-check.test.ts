// The real `vigie` CLI as a user runs it: a child process, its output and exit code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

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

const dir = mkdtempSync(join(tmpdir(), 'vigie-cli-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** Writes a file in the test folder and returns its path. */
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const AGENT = 'agent:\n  uai: "0690001B"\n';
const HEADER = 'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps';

// Each vigie process starts in seconds on a busy machine: tests that run two or three get room.
describe('vigie config check on what real users produce', { timeout: 120_000 }, () => {
  it('refuses an empty file (exit 2) instead of "valid (no section)", and a file with no section', () => {
    const empty = file('empty.yaml', '');
    const out = vigie(['config', 'check', empty]);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(`${empty}: (file): expected a mapping of keys, found an empty file`);
    const none = vigie(['config', 'check', file('none.yaml', '{}\n')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('expected at least one section (agent, collector), found none');
  });

  it('refuses a YAML alias bomb with the file named, exit 2', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [i, k] of [...'bcdefgh'].entries())
      lines.push(`${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`);
    const bomb = file('bomb.yaml', `${lines.join('\n')}\n`);
    const out = vigie(['config', 'check', bomb]);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(new RegExp(`^${bomb}: \\(file\\): expected YAML whose aliases`));
  });

  it('never prints a secret: wrong types, short tokens, URLs, from the file or the environment', () => {
    const secrets = ['918273645', 'adm1n', 'r3ad', 'sp33d', 'hunter2', '8675309', 'fr0mF1le', 'em4il'];
    const bad = file(
      'secrets.yaml',
      [
        'agent:',
        '  uai: "0690001B"',
        '  mqtt:',
        '    url: htps://school:hunter2@broker.example.org:8883',
        '    password: 918273645',
        'collector:',
        '  http:',
        '    auth: { adminToken: adm1n, readTokens: [r3ad] }',
        '    speedtest: { secret: sp33d }',
        '',
      ].join('\n'),
    );
    const out = vigie(['config', 'check', bad], { VIGIE_COLLECTOR__INFLUX__PASSWORD: '8675309' });
    expect(out.status).toBe(2);
    for (const s of secrets) expect(out.stdout + out.stderr).not.toContain(s);
    expect(out.stderr).toContain(
      'collector.http.auth.adminToken: expected a value that must NOT have fewer than 16 characters, found a string of 5 characters (hidden)',
    );
    expect(out.stderr).toContain(
      'environment variable VIGIE_COLLECTOR__INFLUX__PASSWORD: collector.influx.password',
    );
    expect(out.stderr).toContain('htps://school:[redacted]@broker');
    // --print of a valid file: every secret masked, list of tokens and URL passwords included.
    const good = file(
      'good.yaml',
      [
        'collector:',
        '  influx: { url: "http://admin:hunter2@influx:8086", password: "fr0mF1le" }',
        '  mqtt: { url: "mqtts://vigie-collector:918273645@broker:8883" }',
        '  http:',
        '    auth: { adminToken: adm1n-0123456789abcdef, readTokens: [r3ad-0123456789abcdef] }',
        '    speedtest: { secret: sp33d-0123456789abcdef }',
        '  alerts:',
        '    dashboard: { schoolUrl: "https://grafana.agglo.test/d/vigie-school/ecole?var-uai={uai}", fleetUrl: "https://grafana.agglo.test/d/vigie-fleet/parc" }',
        '    channels:',
        '      email: { to: [noc@example.org], from: vigie@example.org, host: smtp, password: em4il }',
        '',
      ].join('\n'),
    );
    const printed = vigie(['config', 'check', '--print', good]);
    expect(printed.stderr).toBe('');
    expect(printed.status).toBe(0);
    for (const s of secrets) expect(printed.stdout).not.toContain(s);
    expect(printed.stdout).toContain('"readTokens": "[redacted]"');
  });

  it('names the environment variable behind a bad value, and warns about a misspelt one', () => {
    const ok = file('ok.yaml', AGENT);
    const bad = vigie(['config', 'check', ok], { VIGIE_AGENT__BATCHINTERVALS: 'often' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(
      'environment variable VIGIE_AGENT__BATCHINTERVALS: agent.batchIntervalS: expected number, found "often" (string)',
    );
    const typo = vigie(['config', 'check', ok], { VIGIE_AGENT__MQTT__PASWORD: 'x', VIGIE_AGENT_ID: 'box-2' });
    expect(typo.status).toBe(0);
    expect(typo.stderr).toContain(
      'warning: environment variable VIGIE_AGENT__MQTT__PASWORD names no config key and is ignored; did you mean VIGIE_AGENT__MQTT__PASSWORD?',
    );
    expect(typo.stderr).toContain('did you mean VIGIE_AGENT__ID? (keys are separated by two underscores)');
  });

  it('refuses a broker password over plaintext mqtt:// unless allowed, then warns', () => {
    const mqtt =
      '  mqtt:\n    url: mqtt://broker.example.org:1883\n    username: "0690001B"\n    password: hunter2\n';
    const refused = vigie(['config', 'check', file('plain.yaml', AGENT + mqtt)]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      'agent.mqtt.url: expected a TLS URL (mqtts:// or wss://) since a password is set',
    );
    expect(refused.stdout + refused.stderr).not.toContain('hunter2');
    const allowed = vigie([
      'config',
      'check',
      file('allowed.yaml', `${AGENT + mqtt}    allowPlaintextPassword: true\n`),
    ]);
    expect(allowed.status).toBe(0);
    expect(allowed.stderr).toContain(
      'warning: agent.mqtt: the broker password goes to broker.example.org:1883 in clear',
    );
  });

  it('the collector and the agent refuse the same at start-up, exit 2, without the secret', () => {
    const collector = file(
      'collector.yaml',
      'collector:\n  influx: { password: 8675309 }\n  http: { auth: { adminToken: adm1n } }\n',
    );
    const c = vigie(['collector', '--config', collector]);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain(
      'collector.http.auth.adminToken: expected a value that must NOT have fewer than 16 characters, found a string of 5 characters (hidden)',
    );
    expect(c.stdout + c.stderr).not.toMatch(/8675309|adm1n/);
    const agent = file(
      'agent.yaml',
      `${AGENT}  mqtt:\n    url: mqtt://0690001B:hunter2@198.18.0.7:1883\n  spool: { dir: ${join(dir, 'spool')} }\n`,
    );
    const a = vigie(['agent', '--config', agent]);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain(
      'agent.mqtt.url: expected a TLS URL (mqtts:// or wss://) since a password is set',
    );
    expect(a.stdout + a.stderr).not.toContain('hunter2');
  });

  it("checks the registry as spreadsheets save it: Windows-1252 refused with the fix, ';' accepted, lost zeros and text in numbers named", () => {
    const config = (csv: string) => file(`${csv}.yaml`, `collector:\n  schools: ${join(dir, csv)}\n`);
    file('excel.csv', Buffer.from(`${HEADER}\r\n0690001B,École,Vienne,45,4,Orange,10,1\r\n`, 'latin1'));
    const excel = vigie(['config', 'check', config('excel.csv')]);
    expect(excel.status).toBe(2);
    expect(excel.stderr).toContain(`${join(dir, 'excel.csv')}: line 2, column 10: the file is not UTF-8`);
    expect(excel.stderr).toContain('"CSV UTF-8 (délimité par des virgules)"');

    file(
      'semi.csv',
      `\uFEFF${HEADER.replaceAll(',', ';')}\r\n0690001B;École;Vienne;45,5;4,8;Orange;10;1\r\n`,
    );
    const semi = vigie(['config', 'check', config('semi.csv')]);
    expect(semi.stderr).toBe('');
    expect(semi.status).toBe(0);

    file('zero.csv', `${HEADER}\n690001B,École,Vienne,abc,4,Orange,10,1\n`);
    const zero = vigie(['config', 'check', config('zero.csv')]);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain(
      'line 2, column uai (A): a UAI has 8 characters (7 digits + a letter), got 7 in "690001B": a spreadsheet probably dropped its leading zero; write "0690001B"',
    );
    expect(zero.stderr).toContain('line 2, column lat (D): "abc" is not a number');
  });
});
