// The ping probe against real peers: loopback answers every echo; a host in a network namespace
// that ignores echoes is a black hole; a name that cannot be resolved is a sample, not a throw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { PingProbe } from '../../agent/probes/ping.ts';
import { createLogger } from '../../shared/log.ts';
import type { PingSample } from '../../shared/schemas.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import {
  createNetnsPair,
  execInNetns,
  ignoreEchoes,
  type NetnsPair,
  nodeEvalArgs,
} from '../harness/netns.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const log = createLogger('probe-test', 'silent');
const ctx = () => ({ signal: new AbortController().signal, now: () => Date.now(), log });

let pair: NetnsPair;

/** What the collector would say of these samples: undefined when it accepts them. */
function rejected(...samples: unknown[]): string | undefined {
  const d = decodeMetrics(
    JSON.stringify({ v: 1, uai: '0750001U', agent: 'box', seq: 0, t: Date.now(), samples }),
  );
  return d.ok ? undefined : d.error;
}

beforeAll(async () => {
  pair = await createNetnsPair();
  await ignoreEchoes(pair.b.ns);
}, 30_000);

afterAll(async () => {
  await pair?.destroy();
});

/** Runs one ping round inside namespace a, where b's address is reachable but silent. */
async function pingFromNetns(targets: unknown[]): Promise<PingSample[]> {
  const code = `
    import { PingProbe } from '${ROOT}agent/probes/ping.ts';
    import { resolveProbesConfig } from '${ROOT}agent/probes/config.ts';
    import { createLogger } from '${ROOT}shared/log.ts';
    const cfg = resolveProbesConfig({ ping: { targets: ${JSON.stringify(targets)}, echoIntervalMs: 200, echoTimeoutS: 1 } });
    const ctx = { signal: new AbortController().signal, now: () => Date.now(), log: createLogger('p', 'silent') };
    console.log(JSON.stringify(await new PingProbe(cfg.ping).run(ctx)));
  `;
  const r = await execInNetns(pair.a.ns, process.execPath, nodeEvalArgs(code), 60_000);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('ping probe', () => {
  it('gets every echo back from 127.0.0.1, with RTT figures that hold together', async () => {
    const cfg = resolveProbesConfig({
      ping: { targets: [{ host: '127.0.0.1', name: 'loopback' }], echoIntervalMs: 200 },
    });
    const [s] = await new PingProbe(cfg.ping).run(ctx());
    expect(rejected(s)).toBeUndefined();
    expect(s).toMatchObject({
      probe: 'ping',
      target: 'loopback',
      role: 'other',
      sent: 10,
      received: 10,
      lossPct: 0,
    });
    expect(s!.error).toBeUndefined();
    expect(s!.minMs).toBeLessThanOrEqual(s!.medianMs!);
    expect(s!.medianMs).toBeLessThanOrEqual(s!.p95Ms!);
    expect(s!.p95Ms).toBeLessThanOrEqual(s!.maxMs!);
    expect(s!.jitterMs).toBeGreaterThanOrEqual(0);
    expect(s!.jitterMs).toBeLessThanOrEqual(s!.maxMs! - s!.minMs!);
  }, 30_000);

  it('reports 100 % loss from a black hole, and an unresolvable name as a sample', async () => {
    const [hole, unknown, neighbour] = await pingFromNetns([
      { host: pair.b.addr, name: 'black-hole', role: 'anchor' },
      { host: 'no-such-school-host.invalid', role: 'ent' },
      { host: pair.a.addr, name: 'self' },
    ]);
    expect(hole).toMatchObject({
      target: 'black-hole',
      role: 'anchor',
      received: 0,
      lossPct: 100,
      error: 'ETIMEDOUT',
    });
    expect(hole!.sent).toBeGreaterThanOrEqual(10);
    expect(hole!.minMs).toBeUndefined();
    // No DNS server is reachable from the namespace: the lookup fails, the round is still a sample.
    expect(unknown).toMatchObject({ role: 'ent', sent: 0, received: 0, lossPct: 100 });
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(unknown!.error);
    expect(neighbour).toMatchObject({ received: 10, lossPct: 0 });
    for (const s of [hole, unknown, neighbour]) expect(rejected(s)).toBeUndefined();
  }, 60_000);
});
