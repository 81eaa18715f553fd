// deploy/install-agent.sh run for real, as root, inside a private mount and network namespace:
// /etc, /opt and /var/lib are throwaway copies and ping_group_range belongs to the namespace, so
// the host is untouched. The installed agent then runs as `vigie` with no_new_privs (as systemd's
// NoNewPrivileges), where /bin/ping's file capability is ignored: ping must work through the
// unprivileged ICMP socket the script opened, and fail without it.
// The box's own `node` is Node 18 (Debian 12's): installed alone, the bundle is refused with the fix;
// the package of scripts/pack-agent installs with the Node.js it ships, and the unit runs that one.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { tempDir } from '../harness/daemon.ts';
import { enrollSchools, makePki, REPO, UAI_A } from './deploy-pki.ts';

/** The versions scripts/node-versions pins for lines 24 and 22. */
const pinned = (line: string) =>
  `v${new RegExp(`^${line} (\\S+)`, 'm').exec(readFileSync(join(REPO, 'scripts/node-versions'), 'utf8'))![1]}`;
const NODE_24 = pinned('24');
const NODE_22 = pinned('22');

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
work=$1; repo=$2; pkg=$3; pkg_arm=$4; node18=$5; node22=$6
ip link set lo up
cp -a /etc "$work/etc" && mount --bind "$work/etc" /etc
mkdir -p "$work/opt" "$work/varlib" && mount --bind "$work/opt" /opt && mount --bind "$work/varlib" /var/lib
echo "@range-before $(sysctl -n net.ipv4.ping_group_range | tr -s '\\t ' ' ')"
# The box's own node: an end-of-life line.
export PATH="$node18:$PATH"
echo "@box-node $(node --version)"
# The bundle alone, on that node: refused, nothing installed.
echo "@eol-status $(sh "$repo/deploy/install-agent.sh" "$work/bare/vigie-agent.mjs" "$work/agent.yaml" "$work/pki/ca.crt" >"$work/eol.log" 2>&1 && echo 0 || echo $?)"
echo "@eol-opt $(ls -A /opt | wc -l)"
# A package made for another architecture: refused.
echo "@arch-status $(sh "$pkg_arm/install-agent.sh" "$pkg_arm/vigie-agent.mjs" "$work/agent.yaml" "$work/pki/ca.crt" >"$work/arch.log" 2>&1 && echo 0 || echo $?)"
sh "$pkg/install-agent.sh" "$pkg/vigie-agent.mjs" "$work/agent.yaml" "$work/pki/ca.crt" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
echo "@installed yes"
echo "@runtime $(/opt/vigie/node/bin/node --version) $(stat -c '%a %U:%G %F' /opt/vigie/node/bin/node)"
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
sh "$pkg/install-agent.sh" "$pkg/vigie-agent.mjs" "$work/agent.yaml" "$work/pki/ca.crt" >"$work/install2.log" 2>&1 && echo "@reinstall ok" || echo "@reinstall failed"
# The bundle alone on a box whose own node is a supported line: the unit runs that node, linked.
PATH="$node22/bin:$PATH" sh "$repo/deploy/install-agent.sh" "$work/bare/vigie-agent.mjs" "$work/agent.yaml" "$work/pki/ca.crt" >"$work/install3.log" 2>&1 && echo "@box-runtime-install ok" || echo "@box-runtime-install failed"
echo "@box-runtime $(readlink /opt/vigie/node/bin/node) $(runuser -u vigie -- /opt/vigie/node/bin/node --version)"
`;

/** A script of the repository, run by the Node under test; its last output line. */
function script(name: string, ...args: string[]): string {
  return execFileSync(join(REPO, 'scripts', name), args, { cwd: REPO, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
}

beforeAll(() => {
  dir = tempDir('deploy-install');
  chmodSync(dir, 0o755);
  execFileSync(process.execPath, [join(REPO, 'scripts/build-agent'), join(dir, 'bare/vigie-agent.mjs')], {
    cwd: REPO,
    stdio: 'pipe',
  });
  // The packages an installer copies to the box, unpacked: this machine's architecture and the other one.
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const other = arch === 'x64' ? 'arm64' : 'x64';
  script('pack-agent', arch, join(dir, 'pkg'));
  script('pack-agent', other, join(dir, `pkg-${other}`));
  const node18 = join(script('node-runtime', '18'), 'bin');
  // The box's own supported node, where the vigie user can reach it (the cache is under /root).
  const node22 = join(dir, 'node22');
  cpSync(script('node-runtime', '22'), node22, { recursive: true });
  makePki(join(dir, 'pki'), 'localhost');
  enrollSchools(dir, 'mqtts://localhost:8883', '/etc/vigie/ca.crt');
  // What an installer edits in the enrolled config: the school's own targets (here, loopback only).
  const doc = parse(readFileSync(join(dir, `enroll/agents/${UAI_A}.yaml`), 'utf8'));
  doc.agent.probes = {
    ping: { targets: [{ host: '127.0.0.1', name: 'loopback', role: 'gateway' }], echoIntervalMs: 200 },
  };
  writeFileSync(join(dir, 'agent.yaml'), stringify(doc));
  const args = [dir, REPO, join(dir, 'pkg'), join(dir, `pkg-${other}`), node18, node22];
  const res = spawnSync('unshare', ['--mount', '--net', '--fork', 'sh', '-c', INSIDE, 'sh', ...args], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  result = { status: res.status, stdout: res.stdout, stderr: res.stderr };
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('install-agent.sh', () => {
  it("refuses the box's Node 18 and says how to get a supported Node.js, installing nothing", () => {
    const m = marks();
    expect(m['box-node']).toMatch(/^v18\./);
    const log = readFileSync(join(dir, 'eol.log'), 'utf8');
    expect(m['eol-status'], log).toBe('2');
    expect(m['eol-opt']).toBe('0');
    expect(log).toContain(`Node.js ${m['box-node']}`);
    expect(log).toContain('past its end of life');
    expect(log).toContain('npm run pack:agent');
    expect(log).toContain('Node.js 24');
    expect(log).toContain("Debian 12's own `nodejs` package is Node 18");
    expect(log).toContain('en fin de vie');
  });

  it('refuses a package made for another architecture, saying so', () => {
    const log = readFileSync(join(dir, 'arch.log'), 'utf8');
    expect(marks()['arch-status'], log).toBe('2');
    expect(log).toContain('does not run on this box');
  });

  it('installs the Node.js the package ships, which the unit runs', () => {
    expect(marks()['runtime']).toBe(`${NODE_24} 755 root:root regular file`);
    expect(marks()['exec-start']).toMatch(/^\/opt\/vigie\/node\/bin\/node /);
    expect(readFileSync(join(dir, 'install.log'), 'utf8')).toContain(`Node.js ${NODE_24} (shipped with it)`);
  });

  it("without a shipped Node.js, links the box's own supported one", () => {
    expect(marks()['box-runtime-install'], readFileSync(join(dir, 'install3.log'), 'utf8')).toBe('ok');
    expect(marks()['box-runtime']).toBe(`${join(dir, 'node22/bin/node')} ${NODE_22}`);
  });

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
