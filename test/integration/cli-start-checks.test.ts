// What `vigie config check` and the processes' start say about a config that cannot work: an hours
// profile nobody defined, a CA or registry that is not there, a folder that cannot be written, alert
// links to loopback; and the processes exit 2 with one line instead of retrying with stack traces.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../harness/daemon.ts';

const root = new URL('../../', import.meta.url).pathname;
const vigie = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin/vigie.js'), ...args], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, VIGIE_LOG_LEVEL: 'info' },
    timeout: 60_000,
  });

const dir = tempDir('cli-start-checks');
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const HEADER = 'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours';
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe('unknown hours profiles are refused before run time', { timeout: 120_000 }, () => {
  const registry = file(
    'schools.csv',
    `${HEADER}\n0381966F,École Ponsard,Vienne,45.5,4.8,Orange,100,20,closed-wednesday\n0381234K,École Saint-Exupéry,Vienne,45.5,4.8,Orange,100,20,school\n0692033K,École Zola,Condrieu,45.4,4.7,Orange,20,2,closed-wednesday\n`,
  );

  it('config check: exit 2 naming the profile, its schools and the known ones', () => {
    const out = vigie([
      'config',
      'check',
      file('c.yaml', `collector:\n  schools: ${registry}\n  wal: { dir: ${dir}/wal }\n`),
    ]);
    expect(out.status, out.stdout + out.stderr).toBe(2);
    expect(out.stderr).toContain('"closed-wednesday" is not an hours profile');
    expect(out.stderr).toContain('0381966F, 0692033K');
    expect(out.stderr).toContain('known: school, school-wednesday');
  });

  it('config check: a profile defined under collector.alerts.hours is known', () => {
    const cfg = file(
      'c-own.yaml',
      `collector:\n  schools: ${registry}\n  wal: { dir: ${dir}/wal }\n  alerts:\n    hours:\n      closed-wednesday: { mon: ["08:00-17:00"], tue: ["08:00-17:00"], thu: ["08:00-17:00"], fri: ["08:00-17:00"] }\n`,
    );
    const out = vigie(['config', 'check', cfg]);
    expect(out.stdout + out.stderr).toContain('valid (collector)');
    expect(out.status).toBe(0);
  });

  it('the examples registry names only profiles that exist', () => {
    const out = vigie([
      'config',
      'check',
      file(
        'ex.yaml',
        `collector:\n  schools: ${join(root, 'examples/schools.csv')}\n  wal: { dir: ${dir}/wal }\n`,
      ),
    ]);
    expect(out.stdout + out.stderr).toContain('valid (collector)');
    expect(out.status).toBe(0);
  });

  it('enroll: exit 2 naming the profile; with --config defining it, enrolled', () => {
    const bad = vigie([
      'enroll',
      '--schools',
      registry,
      '--out',
      join(dir, 'enroll-bad'),
      '--broker',
      'mqtts://mqtt.example.org:8883',
    ]);
    expect(bad.status, bad.stdout + bad.stderr).toBe(2);
    expect(bad.stderr).toContain('"closed-wednesday" is not an hours profile');
    const cfg = file(
      'collector-hours.yaml',
      'collector:\n  alerts:\n    hours:\n      closed-wednesday: { mon: ["08:00-17:00"] }\n',
    );
    const ok = vigie([
      'enroll',
      '--schools',
      registry,
      '--out',
      join(dir, 'enroll-ok'),
      '--broker',
      'mqtts://mqtt.example.org:8883',
      '--config',
      cfg,
    ]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
  });

  it('a near match is offered for a typo', () => {
    const typo = file(
      'typo.csv',
      `${HEADER}\n0381966F,École Ponsard,Vienne,45.5,4.8,Orange,100,20,school-wendesday\n`,
    );
    const out = vigie([
      'config',
      'check',
      file('typo.yaml', `collector:\n  schools: ${typo}\n  wal: { dir: ${dir}/wal }\n`),
    ]);
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('(did you mean "school-wednesday"?)');
  });
});

describe('every file a process opens at start is checked', { timeout: 120_000 }, () => {
  let taken: Server;
  let takenPort: number;
  beforeAll(async () => {
    takenPort = await freePort();
    taken = createServer();
    await new Promise<void>((r) => taken.listen(takenPort, '127.0.0.1', r));
  });
  afterAll(() => taken?.close());

  const aFile = file('a-file', 'not a folder\n');
  const missingCa = join(dir, 'missing', 'ca.crt');

  it('config check reports each missing one with its key, exit 2', () => {
    const cfg = file(
      'all.yaml',
      [
        'agent:',
        '  uai: "0690001B"',
        `  mqtt: { url: "mqtts://198.18.0.7:8883", ca: ${missingCa} }`,
        `  spool: { dir: ${aFile}/spool }`,
        'collector:',
        `  schools: ${join(dir, 'no-such.csv')}`,
        `  mqtt: { url: "mqtts://198.18.0.7:8883", ca: ${missingCa} }`,
        `  wal: { dir: ${dir}/wal2 }`,
        `  http: { windowsFile: ${aFile}/windows.json }`,
        '',
      ].join('\n'),
    );
    const out = vigie(['config', 'check', cfg]);
    expect(out.status, out.stdout + out.stderr).toBe(2);
    expect(out.stderr).toContain(`agent.mqtt.ca: expected a readable file, found "${missingCa}": ENOENT`);
    expect(out.stderr).toContain('agent.spool.dir: expected a writable folder');
    expect(out.stderr).toContain(
      `collector.schools: expected a readable file, found "${join(dir, 'no-such.csv')}": ENOENT`,
    );
    expect(out.stderr).toContain(`collector.mqtt.ca: expected a readable file, found "${missingCa}": ENOENT`);
    expect(out.stderr).toContain('collector.http.windowsFile: expected a writable file');
    expect(out.stderr).not.toContain('valid');
  });

  it('the agent with a missing CA exits 2 with one line, no retry, no stack trace', () => {
    const cfg = file(
      'agent-ca.yaml',
      `agent:\n  uai: "0690001B"\n  mqtt: { url: "mqtts://127.0.0.1:${takenPort}", ca: ${missingCa} }\n  spool: { dir: ${dir}/spool }\n`,
    );
    const out = vigie(['agent', '--config', cfg]);
    expect(out.status, out.stdout + out.stderr).toBe(2);
    expect(out.stderr.trim().split('\n')).toEqual([
      `${cfg}: agent.mqtt.ca: expected a readable file, found "${missingCa}": ENOENT (not there)`,
    ]);
    expect(out.stdout + out.stderr).not.toMatch(STACK);
  });

  it('the collector with a missing CA exits 2 with one line', () => {
    const cfg = file(
      'collector-ca.yaml',
      `collector:\n  mqtt: { url: "mqtts://127.0.0.1:${takenPort}", ca: ${missingCa} }\n  wal: { dir: ${dir}/wal3 }\n`,
    );
    const out = vigie(['collector', '--config', cfg]);
    expect(out.status, out.stdout + out.stderr).toBe(2);
    expect(out.stderr.trim().split('\n')).toEqual([
      `vigie collector: ${cfg}: collector.mqtt.ca: expected a readable file, found "${missingCa}": ENOENT (not there)`,
    ]);
  });

  it('the collector whose broker port is taken exits 2 with one line, no stack trace', () => {
    mkdirSync(join(dir, 'wal4'), { recursive: true });
    const cfg = file(
      'collector-port.yaml',
      `collector:\n  broker: { host: 127.0.0.1, port: ${takenPort} }\n  wal: { dir: ${dir}/wal4 }\n  influx: { url: "http://127.0.0.1:1" }\n  presence: { rebuildFromInflux: false }\n`,
    );
    const out = vigie(['collector', '--config', cfg]);
    expect(out.status, out.stdout + out.stderr).toBe(2);
    expect(out.stderr).toMatch(/^vigie collector: cannot start: .*EADDRINUSE/m);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stdout + out.stderr).not.toMatch(STACK);
  });
});

describe('alerts link to a dashboard the team can open', { timeout: 120_000 }, () => {
  it('config check warns about loopback dashboard URLs in a deployment, not in the demo', () => {
    const deployed = vigie([
      'config',
      'check',
      file(
        'deployed.yaml',
        `collector:\n  mqtt: { url: "mqtt://127.0.0.1:1883" }\n  wal: { dir: ${dir}/wal }\n`,
      ),
    ]);
    expect(deployed.status, deployed.stderr).toBe(0);
    expect(deployed.stderr).toContain(
      'warning: collector.alerts.dashboard.schoolUrl is http://localhost:3000/',
    );
    expect(deployed.stderr).toContain(
      'warning: collector.alerts.dashboard.fleetUrl is http://localhost:3000/',
    );
    const demo = vigie([
      'config',
      'check',
      file('demo.yaml', `collector:\n  broker: { port: 0 }\n  wal: { dir: ${dir}/wal }\n`),
    ]);
    expect(demo.stderr).not.toContain('collector.alerts.dashboard');
  });

  it('deploy/collector.yaml sets them, and config check says they are still the example', () => {
    const text = readFileSync(join(root, 'deploy/collector.yaml'), 'utf8');
    expect(text).toMatch(/schoolUrl: https:\/\/\S+\{uai\}/);
    expect(text).toMatch(/fleetUrl: https:\/\/\S+/);
    // The file as the container reads it, its paths moved here.
    const here = text
      .replace('/etc/vigie/schools.csv', join(root, 'examples/schools.csv'))
      .replace('/etc/vigie/ca.crt', file('ca.crt', 'PEM\n'))
      .replace('/var/lib/vigie/collector-wal', join(dir, 'wal5'));
    const out = vigie(['config', 'check', file('deploy-collector.yaml', here)]);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toContain('collector.alerts.dashboard.schoolUrl is https://vigie.example.org/');
    expect(out.stderr).toContain('still the example address');
  });
});
