// Network namespaces joined by veth pairs, for tests that need a real link: a black-hole host,
// a shaped uplink. Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking) only, and every name
// carries a per-run prefix so parallel runs never collide; destroy() removes all of it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary, tempDir } from './daemon.ts';

const execFileP = promisify(execFile);

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

async function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string; message: string };
    return {
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? e.message,
      code: typeof e.code === 'number' ? e.code : 1,
    };
  }
}

async function ip(...args: string[]): Promise<void> {
  const r = await run(requireBinary('ip'), args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr.trim()}`);
}

export interface NetnsEnd {
  /** Namespace name. */
  ns: string;
  /** veth interface inside it. */
  dev: string;
  /** Its IPv4 address (in 198.18.0.0/15). */
  addr: string;
}

export interface NetnsPair {
  a: NetnsEnd;
  b: NetnsEnd;
  destroy(): Promise<void>;
}

/** A random /30 inside 198.18.0.0/15: hosts .1 and .2 of it. */
function randomSubnet(): [string, string] {
  const block = randomBytes(2).readUInt16BE(0) & 0x7fff; // one of the 32768 /30s of the /15
  const base = ((198 << 24) >>> 0) + (18 << 16) + block * 4;
  const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  return [dotted(base + 1), dotted(base + 2)];
}

/** Unique short tag: veth names are limited to 15 characters. */
export function runTag(): string {
  return `vg${randomBytes(3).toString('hex')}`;
}

/** Two namespaces, `${tag}a` and `${tag}b`, linked by a veth pair with a /30 between them. */
export async function createNetnsPair(tag = runTag()): Promise<NetnsPair> {
  const [addrA, addrB] = randomSubnet();
  const a: NetnsEnd = { ns: `${tag}a`, dev: `${tag}a0`, addr: addrA };
  const b: NetnsEnd = { ns: `${tag}b`, dev: `${tag}b0`, addr: addrB };
  const destroy = async () => {
    for (const end of [a, b]) await run(requireBinary('ip'), ['netns', 'del', end.ns]);
  };
  try {
    await ip('netns', 'add', a.ns);
    await ip('netns', 'add', b.ns);
    await ip('link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns);
    for (const end of [a, b]) {
      await ip('-n', end.ns, 'addr', 'add', `${end.addr}/30`, 'dev', end.dev);
      await ip('-n', end.ns, 'link', 'set', end.dev, 'up');
      await ip('-n', end.ns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { a, b, destroy };
}

/** Egress shaping with a token bucket: `tc qdisc replace dev DEV root tbf rate …`. */
export async function shape(
  end: NetnsEnd,
  opts: { rate: string; burst?: string; latency?: string },
): Promise<void> {
  const r = await run(requireBinary('tc'), [
    '-n',
    end.ns,
    'qdisc',
    'replace',
    'dev',
    end.dev,
    'root',
    'tbf',
    'rate',
    opts.rate,
    'burst',
    opts.burst ?? '32kbit',
    'latency',
    opts.latency ?? '400ms',
  ]);
  if (r.code !== 0) throw new Error(`tc tbf on ${end.ns}/${end.dev} failed: ${r.stderr.trim()}`);
}

/** Makes a namespace a black hole for ICMP echo: packets arrive and are never answered. */
export async function ignoreEchoes(ns: string): Promise<void> {
  const r = await run(requireBinary('ip'), [
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv4.icmp_echo_ignore_all=1',
  ]);
  if (r.code !== 0) throw new Error(`sysctl in ${ns} failed: ${r.stderr.trim()}`);
}

/** Runs a command inside a namespace to its end. */
export function execInNetns(
  ns: string,
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<CommandResult> {
  return run(requireBinary('ip'), ['netns', 'exec', ns, cmd, ...args], timeoutMs);
}

/** Starts a long-running command inside a namespace; the caller kills it (by its pid). */
export function spawnInNetns(ns: string, cmd: string, args: string[]): ChildProcess {
  return spawn(requireBinary('ip'), ['netns', 'exec', ns, cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Node with the tsx loader running an ES module given as text: lets a test run TypeScript code in a namespace. */
export function nodeEvalArgs(code: string): string[] {
  return ['--import', 'tsx', '--input-type=module', '-e', code];
}

/**
 * A school behind its router, the router's WAN a veth to the host (where Mosquitto, the collector and
 * the "internet" anchors listen):
 *
 *   [school ns] lanSchool ── lanRouter [router ns] wanRouter ══WAN══ wanHost [host]
 *
 * Two /30s at random inside 198.18.0.0/15. `setWan('down')` cuts the school off as a failed ISP line
 * would (the gateway still answers); `destroy()` removes both namespaces and the host's veth.
 */
export interface SchoolBehindRouter {
  nsSchool: string;
  nsRouter: string;
  lanSchool: string;
  lanRouter: string;
  wanRouter: string;
  /** The host's end of the WAN: where the school's agent finds the broker and its anchors. */
  wanHost: string;
  setWan(state: 'up' | 'down'): Promise<void>;
  destroy(): Promise<void>;
}

export async function createSchoolBehindRouter(tag = runTag()): Promise<SchoolBehindRouter> {
  const block = (randomBytes(2).readUInt16BE(0) & 0x3fff) * 8; // one of the /29s of the /15
  const addr = (offset: number) => {
    const n = ((198 << 24) >>> 0) + (18 << 16) + block + offset;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  };
  const nsSchool = `${tag}s`;
  const nsRouter = `${tag}r`;
  const wanDevHost = `${tag}w0`;
  const wanDevRouter = `${tag}w1`;
  const lanNet = `${addr(0)}/30`;
  const net = {
    nsSchool,
    nsRouter,
    lanRouter: addr(1),
    lanSchool: addr(2),
    wanHost: addr(5),
    wanRouter: addr(6),
  };
  // Replies to the school go back through its router; setting a link down flushes the IPv4 routes
  // through it, so the route returns with the link.
  const routeBack = () => ip('route', 'replace', lanNet, 'via', net.wanRouter, 'dev', wanDevHost);
  const destroy = async () => {
    for (const ns of [nsSchool, nsRouter]) await run(requireBinary('ip'), ['netns', 'del', ns]);
    await run(requireBinary('ip'), ['link', 'del', wanDevHost]);
  };
  try {
    await ip('netns', 'add', nsSchool);
    await ip('netns', 'add', nsRouter);
    await ip(
      'link',
      'add',
      `${tag}l0`,
      'netns',
      nsSchool,
      'type',
      'veth',
      'peer',
      'name',
      `${tag}l1`,
      'netns',
      nsRouter,
    );
    await ip('link', 'add', wanDevHost, 'type', 'veth', 'peer', 'name', wanDevRouter, 'netns', nsRouter);
    await ip('-n', nsSchool, 'addr', 'add', `${net.lanSchool}/30`, 'dev', `${tag}l0`);
    await ip('-n', nsRouter, 'addr', 'add', `${net.lanRouter}/30`, 'dev', `${tag}l1`);
    await ip('-n', nsRouter, 'addr', 'add', `${net.wanRouter}/30`, 'dev', wanDevRouter);
    await ip('addr', 'add', `${net.wanHost}/30`, 'dev', wanDevHost);
    for (const [ns, dev] of [
      [nsSchool, `${tag}l0`],
      [nsRouter, `${tag}l1`],
      [nsRouter, wanDevRouter],
      [nsSchool, 'lo'],
      [nsRouter, 'lo'],
    ] as const)
      await ip('-n', ns, 'link', 'set', dev, 'up');
    await ip('link', 'set', wanDevHost, 'up');
    await ip('-n', nsSchool, 'route', 'add', 'default', 'via', net.lanRouter);
    await ip('-n', nsRouter, 'route', 'add', 'default', 'via', net.wanHost);
    const fwd = await execInNetns(nsRouter, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    if (fwd.code !== 0) throw new Error(`sysctl ip_forward in ${nsRouter} failed: ${fwd.stderr.trim()}`);
    await routeBack();
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    ...net,
    async setWan(state) {
      await ip('link', 'set', wanDevHost, state);
      if (state === 'up') await routeBack();
    },
    destroy,
  };
}

/**
 * Silent hosts seen from `pair.a`: a /24 (the first of `nets` not holding the pair's own address)
 * routed to the veth, `count` of its addresses (.10 on) given a MAC nobody has. Frames leave; no
 * answer and no ICMP error ever comes back, as from hosts behind a switch that lost power.
 * @returns the /24's first three octets, e.g. '198.19.251'
 * @throws Error when `ip -batch` fails in the namespace
 */
export async function addSilentHosts(
  pair: NetnsPair,
  nets: [string, string],
  count: number,
): Promise<string> {
  const net = pair.a.addr.startsWith(`${nets[0]}.`) ? nets[1] : nets[0];
  const batch = join(tempDir('silent-hosts'), 'silent-hosts.ip');
  const neighbours = Array.from(
    { length: count },
    (_, i) => `neigh add ${net}.${10 + i} lladdr 02:00:00:00:de:ad dev ${pair.a.dev} nud permanent`,
  );
  writeFileSync(batch, [`route add ${net}.0/24 dev ${pair.a.dev}`, ...neighbours, ''].join('\n'));
  const r = await execInNetns(pair.a.ns, requireBinary('ip'), ['-batch', batch]);
  if (r.code !== 0) throw new Error(`ip -batch ${batch} in ${pair.a.ns}: ${r.stderr}`);
  return net;
}
