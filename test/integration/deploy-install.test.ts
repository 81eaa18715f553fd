// deploy/install-agent.sh run for real, as root, inside a private mount and network namespace:
// /etc, /opt and /var/lib are throwaway copies and ping_group_range belongs to the namespace, so
// the host is untouched. The installed agent then runs as `vigie` with no_new_privs (as systemd's
// NoNewPrivileges), where /bin/ping's file capability is ignored: ping must work through the
// unprivileged ICMP socket the script opened, and fail without it.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { tempDir } from '../harness/daemon.ts';
import { enrollSchools, makePki, REPO, UAI_A } from './deploy-pki.ts';

let dir: string;
let result: { status: number | null; stdout: string; stderr: string };
const marks = () =>
  Object.fromEntries(
    result.stdout
      .split('\n')
      .filter((l) => l.startsWith('@'))
      .map((l) => {
        const i = l.indexOf(' ');
        return [l.slice(1, i), l.slice(i + 1)];
      }),
  );

const INSIDE = `set -eu
work=$1; repo=$2
ip link set lo up
cp -a /etc "$work/etc" && mount --bind "$work/etc" /etc
mkdir -p "$work/opt" "$work/varlib" && mount --bind "$work/opt" /opt && mount --bind "$work/varlib" /var/lib
echo "@range-before $(sysctl -n net.ipv4.ping_group_range | tr -s '\\t ' ' ')"
sh "$repo/deploy/install-agent.sh" "$work/vigie-agent.mjs" "$work/agent.yaml" "$work/pki/ca.crt" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
echo "@installed yes"
echo "@range-after $(sysctl -n net.ipv4.ping_group_range | tr -s '\\t ' ' ')"
echo "@vigie-gid $(getent group vigie | cut -d: -f3)"
echo "@vigie-shell $(getent passwd vigie | cut -d: -f7)"
echo "@config $(stat -c '%a %U:%G' /etc/vigie/agent.yaml)"
echo "@bundle $(stat -c '%a %U:%G' /opt/vigie/vigie-agent.mjs)"
echo "@spool $(stat -c '%a %U:%G' /var/lib/vigie/spool)"
echo "@sysctl-file $(cat /etc/sysctl.d/60-vigie-ping.conf)"
if runuser -u vigie -- sh -c 'echo x >> /etc/vigie/agent.yaml' 2>/dev/null; then echo "@config-writable yes"; else echo "@config-writable no"; fi
if runuser -u vigie -- setpriv --no-new-privs ping -c 1 -W 2 127.0.0.1 >/dev/null 2>&1; then echo "@ping yes"; else echo "@ping no"; fi
if systemd-analyze verify /etc/systemd/system/vigie-agent.service >"$work/verify.log" 2>&1; then echo "@unit-verify ok"; else echo "@unit-verify failed"; fi
# The unit's own command line, as its user, without privileges (NoNewPrivileges, empty bounding set).
exec_start=$(sed -n 's/^ExecStart=//p' /etc/systemd/system/vigie-agent.service)
echo "@exec-start $exec_start"
runuser -u vigie -- setpriv --no-new-privs --inh-caps=-all --bounding-set=-all \\
  $exec_start --once --json >"$work/once.json" 2>"$work/once.err" || true
echo "@once-status done"
saved=$(sysctl -n net.ipv4.ping_group_range)
sysctl -q -w "net.ipv4.ping_group_range=1 0"
if runuser -u vigie -- setpriv --no-new-privs ping -c 1 -W 2 127.0.0.1 >/dev/null 2>&1; then echo "@ping-closed yes"; else echo "@ping-closed no"; fi
sysctl -q -w "net.ipv4.ping_group_range=$saved"
sh "$repo/deploy/install-agent.sh" "$work/vigie-agent.mjs" "$work/agent.yaml" "$work/pki/ca.crt" >"$work/install2.log" 2>&1 && echo "@reinstall ok" || echo "@reinstall failed"
`;

beforeAll(() => {
  dir = tempDir('deploy-install');
  chmodSync(dir, 0o755);
  execFileSync(process.execPath, [join(REPO, 'scripts/build-agent'), join(dir, 'vigie-agent.mjs')], {
    cwd: REPO,
    stdio: 'pipe',
  });
  makePki(join(dir, 'pki'), 'localhost');
  enrollSchools(dir, 'mqtts://localhost:8883', '/etc/vigie/ca.crt');
  // What an installer edits in the enrolled config: the school's own targets (here, loopback only).
  const doc = parse(readFileSync(join(dir, `enroll/agents/${UAI_A}.yaml`), 'utf8'));
  doc.agent.probes = {
    ping: { targets: [{ host: '127.0.0.1', name: 'loopback', role: 'gateway' }], echoIntervalMs: 200 },
  };
  writeFileSync(join(dir, 'agent.yaml'), stringify(doc));
  const res = spawnSync('unshare', ['--mount', '--net', '--fork', 'sh', '-c', INSIDE, 'sh', dir, REPO], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  result = { status: res.status, stdout: res.stdout, stderr: res.stderr };
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('install-agent.sh', () => {
  it('installs without error and can run again', () => {
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(marks()['installed']).toBe('yes');
    expect(marks()['reinstall']).toBe('ok');
  });

  it('creates an unprivileged vigie user and gives it the config read-only', () => {
    const m = marks();
    expect(m['vigie-shell']).toBe('/usr/sbin/nologin');
    expect(m['config']).toBe('640 root:vigie');
    expect(m['bundle']).toBe('644 root:root');
    expect(m['spool']).toBe('750 vigie:vigie');
    expect(m['config-writable']).toBe('no');
  });

  it('opens unprivileged ICMP echo to the vigie group, which is what lets it ping without capabilities', () => {
    const m = marks();
    expect(m['range-before']).toBe('1 0');
    expect(m['range-after']).toBe(`${m['vigie-gid']} ${m['vigie-gid']}`);
    expect(m['sysctl-file']).toBe(`net.ipv4.ping_group_range = ${m['vigie-gid']} ${m['vigie-gid']}`);
    expect(m['ping']).toBe('yes');
    expect(m['ping-closed']).toBe('no');
  });

  it('installs the agent unit, which systemd accepts and which runs the installed bundle and config', () => {
    const m = marks();
    expect(m['unit-verify'], readFileSync(join(dir, 'verify.log'), 'utf8')).toBe('ok');
    expect(m['exec-start']).toContain('/opt/vigie/vigie-agent.mjs agent --config /etc/vigie/agent.yaml');
    const unit = readFileSync(join(REPO, 'deploy/systemd/vigie-agent.service'), 'utf8');
    expect(unit).toMatch(/^User=vigie$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=$/m);
  });

  it("runs the installed agent with the unit's command line as vigie with no capability, and it measures", () => {
    const report = JSON.parse(readFileSync(join(dir, 'once.json'), 'utf8'));
    const ping = report.results.find((r: { probe: string }) => r.probe === 'ping');
    expect(ping.samples[0]).toMatchObject({ target: 'loopback', lossPct: 0 });
  });
});
