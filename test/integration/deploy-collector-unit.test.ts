// The collector's systemd unit (deploy/systemd/vigie-collector.service), run as docs/deploy.md's
// "Debian without Docker" section installs it: inside a private mount namespace /etc, /opt and
// /var/lib are throwaway copies; the repository sits at /opt/vigie/vigie, the config and the enrolled
// secrets in /etc/vigie, owned root:vigie 0640. The unit's own ExecStart line then runs as `vigie`,
// without privileges, with the unit's Environment= and EnvironmentFile= settings, against the
// stack's Mosquitto (TLS, enrolled accounts and ACL) and a real InfluxDB, and must become ready.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort, tempDir, waitFor } from '../harness/daemon.ts';
import type { InfluxHandle } from '../harness/influxdb.ts';
import type { MosquittoHandle } from '../harness/mosquitto.ts';
import { enrollSchools, makePki, REPO, startStackPeers } from './deploy-pki.ts';

const UNIT = readFileSync(join(REPO, 'deploy/systemd/vigie-collector.service'), 'utf8');
const setting = (key: string) => [...UNIT.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

// The unit's environment as systemd builds it: Environment= lines, then each EnvironmentFile
// ("-" = optional), in order. The files are read inside the namespace, where /etc/vigie exists.
const INSIDE = `set -eu
work=$1; repo=$2
cp -a /etc "$work/etc" && mount --bind "$work/etc" /etc
mkdir -p "$work/opt" "$work/varlib" && mount --bind "$work/opt" /opt && mount --bind "$work/varlib" /var/lib
getent group vigie >/dev/null || groupadd --system vigie
getent passwd vigie >/dev/null || useradd --system --gid vigie --home-dir /var/lib/vigie --shell /usr/sbin/nologin vigie
mkdir -p /opt/vigie && ln -s "$repo" /opt/vigie/vigie
install -d -m 0750 -o root -g vigie /etc/vigie
install -m 0640 -o root -g vigie "$work/etc-vigie/"* /etc/vigie/
install -d -m 0750 -o vigie -g vigie /var/lib/vigie
cp "$work/vigie-collector.service" /etc/systemd/system/vigie-collector.service
if systemd-analyze verify /etc/systemd/system/vigie-collector.service >"$work/verify.log" 2>&1; then echo "@unit-verify ok"; else echo "@unit-verify failed"; fi
env_args=""
for f in $(sed -n 's/^EnvironmentFile=-\\{0,1\\}//p' /etc/systemd/system/vigie-collector.service); do
  [ -r "$f" ] && env_args="$env_args $(grep -E '^[A-Z_][A-Z0-9_]*=' "$f" | tr '\\n' ' ')"
done
exec_start=$(sed -n 's/^ExecStart=//p' /etc/systemd/system/vigie-collector.service)
workdir=$(sed -n 's/^WorkingDirectory=//p' /etc/systemd/system/vigie-collector.service)
echo "@exec-start $exec_start"
cd "$workdir"
exec runuser -u vigie -- setpriv --no-new-privs --inh-caps=-all --bounding-set=-all \\
  env -i PATH=/usr/bin:/bin $ENVIRONMENT $env_args $exec_start
`;

let dir: string;
let peers: [MosquittoHandle, InfluxHandle];
let output = '';
let exited: number | null | undefined;
let pid: number | undefined;

beforeAll(async () => {
  dir = tempDir('collector-unit');
  chmodSync(dir, 0o755);
  const tlsPort = await freePort();
  const healthPort = await freePort();
  const httpPort = await freePort();
  makePki(join(dir, 'pki'), 'localhost');
  enrollSchools(dir, `mqtts://localhost:${tlsPort}`, '/etc/vigie/ca.crt');
  peers = await startStackPeers(dir, tlsPort, healthPort);
  // /etc/vigie as the docs fill it: the config, the CA, the registry and enroll's collector.env.
  const etc = join(dir, 'etc-vigie');
  mkdirSync(etc);
  copyFileSync(join(dir, 'pki/ca.crt'), join(etc, 'ca.crt'));
  copyFileSync(join(dir, 'schools.yaml'), join(etc, 'schools.yaml'));
  copyFileSync(join(dir, 'enroll/collector.env'), join(etc, 'collector.env'));
  writeFileSync(
    join(etc, 'vigie.yaml'),
    stringify({
      collector: {
        schools: '/etc/vigie/schools.yaml',
        mqtt: { url: `mqtts://localhost:${tlsPort}`, ca: '/etc/vigie/ca.crt', clientId: 'vigie-collector' },
        influx: { url: peers[1].url, database: 'vigie' },
        wal: { dir: '/var/lib/vigie/collector-wal' },
        http: { host: '127.0.0.1', port: httpPort },
      },
    }),
  );
  writeFileSync(join(dir, 'vigie-collector.service'), UNIT);
  const environment = setting('Environment').join(' ');
  const child = spawn('unshare', ['--mount', '--fork', 'sh', '-c', INSIDE, 'sh', dir, REPO], {
    env: { ...process.env, ENVIRONMENT: environment },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  pid = child.pid;
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  child.once('exit', (code) => {
    exited = code;
  });
  await waitFor(
    'the collector started by its unit to connect to the broker',
    async () => {
      if (exited !== undefined) throw new Error(`exited with ${exited}:\n${output}`);
      return output.includes('connected to the MQTT broker');
    },
    90_000,
    200,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n--- output ---\n${output}`);
  });
}, 180_000);

afterAll(async () => {
  if (pid && exited === undefined) {
    process.kill(-pid, 'SIGTERM');
    await waitFor('the collector to stop', async () => exited !== undefined, 30_000).catch(() =>
      process.kill(-pid!, 'SIGKILL'),
    );
  }
  await Promise.all((peers ?? []).map((p) => p.daemon.dispose()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vigie-collector.service', () => {
  it('is a unit systemd accepts, running the repository in /opt/vigie/vigie as vigie without privilege', () => {
    expect(output).toContain('@unit-verify ok');
    expect(setting('ExecStart')).toEqual([
      '/usr/bin/node /opt/vigie/vigie/bin/vigie.js collector --config /etc/vigie/vigie.yaml',
    ]);
    expect(setting('User')).toEqual(['vigie']);
    expect(setting('NoNewPrivileges')).toEqual(['yes']);
    expect(setting('ReadWritePaths')).toEqual(['/var/lib/vigie']);
    expect(setting('RestartPreventExitStatus')).toEqual(['2']);
  });

  it("runs with the unit's command line and environment: connected with enroll's credential, logging readable lines", () => {
    // VIGIE_LOG_FORMAT=text from the unit: one readable line per event, no JSON.
    const line = output.split('\n').find((l) => l.includes('connected to the MQTT broker'))!;
    expect(line.trim().startsWith('{')).toBe(false);
    expect(line).toMatch(/INFO/);
  });

  it('is ready on its HTTP port: broker and InfluxDB reachable', async () => {
    const cfg = readFileSync(join(dir, 'etc-vigie/vigie.yaml'), 'utf8');
    const port = /port: (\d+)/.exec(cfg)![1];
    await waitFor(
      'the collector to answer 200 on /readyz',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      30_000,
      200,
    );
  });
});
