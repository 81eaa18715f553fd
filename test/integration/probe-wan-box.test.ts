// The wan probe's box source against the real kernel: an interface deleted and created again under
// the same name (a USB modem plugged back, a PPP link redialled) restarts its counters under a new
// ifindex. The probe runs in a namespace, in a child process that keeps its state between rounds.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WanSample } from '../../shared/schemas.ts';
import { requireBinary } from '../harness/daemon.ts';
import { createNetnsPair, execInNetns, type NetnsPair, nodeEvalArgs } from '../harness/netns.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const execFileP = promisify(execFile);

let pair: NetnsPair;
let child: ChildProcess | undefined;

beforeAll(async () => {
  pair = await createNetnsPair();
}, 30_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill();
    await once(child, 'exit');
  }
  await pair?.destroy();
});

async function ip(...args: string[]) {
  await execFileP(requireBinary('ip'), args);
}

/** Deletes a's veth (and so b's) and creates the pair again with the same names and addresses. */
async function recreateLink() {
  const { a, b } = pair;
  await ip('-n', a.ns, 'link', 'del', a.dev);
  await ip('link', 'add', a.dev, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'netns', b.ns);
  for (const end of [a, b]) {
    await ip('-n', end.ns, 'addr', 'add', `${end.addr}/30`, 'dev', end.dev);
    await ip('-n', end.ns, 'link', 'set', end.dev, 'up');
  }
}

async function pingB(count: number, size: number) {
  const r = await execInNetns(pair.a.ns, requireBinary('ping'), [
    '-n',
    '-q',
    '-c',
    String(count),
    '-i',
    '0.2',
    '-s',
    String(size),
    '-w',
    '10',
    pair.b.addr,
  ]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
}

describe('wan probe, box source', () => {
  it('reads an interface created again under the same name as a counter reset, not as traffic', async () => {
    await pingB(2, 56);
    // One probe, two rounds: each line on stdin runs a round, whose samples come back as a line.
    const code = `
      import { createInterface } from 'node:readline';
      import { WanProbe } from '${ROOT}agent/probes/wan.ts';
      import { resolveProbesConfig } from '${ROOT}agent/probes/config.ts';
      import { createLogger } from '${ROOT}shared/log.ts';
      const probe = new WanProbe(resolveProbesConfig({ wan: { interfaces: ['${pair.a.dev}'] } }).wan);
      const ctx = () => ({ signal: new AbortController().signal, now: () => Date.now(), log: createLogger('p', 'silent') });
      for await (const _ of createInterface({ input: process.stdin })) console.log(JSON.stringify(await probe.run(ctx())));
    `;
    child = spawn(
      requireBinary('ip'),
      ['netns', 'exec', pair.a.ns, process.execPath, ...nodeEvalArgs(code)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const rounds = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const round = async (): Promise<WanSample[]> => {
      child!.stdin!.write('\n');
      const line = await rounds.next();
      expect(line.done, 'the probe process ended').toBe(false);
      return JSON.parse(line.value as string);
    };

    const [first] = await round();
    expect(first).toMatchObject({ source: 'box', iface: pair.a.dev });
    expect(first!.counterReset).toBeUndefined();

    // Same name, new ifindex, counters from 0 and already past their old values both ways.
    await recreateLink();
    await pingB(10, 1000);
    const [second] = await round();
    expect(second).toMatchObject({
      source: 'box',
      iface: pair.a.dev,
      counterReset: true,
      inBps: 0,
      outBps: 0,
    });
    child.stdin!.end();
    await once(child, 'exit');
  }, 90_000);
});
