// The ping probe against real peers: loopback answers every echo; a host in a network namespace
// that ignores echoes is a black hole; a name that cannot be resolved is a sample, not a throw; a
// host that duplicates, delays, drops or invents replies (a raw-socket responder) is counted by what
// really came back for each echo.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { PingProbe } from '../../agent/probes/ping.ts';
import { createLogger } from '../../shared/log.ts';
import type { PingSample } from '../../shared/schemas.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import { type IcmpResponder, type ResponderPlan, startIcmpResponder } from '../harness/icmp-responder.ts';
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

/** Runs one ping round inside namespace a (of `from`, default the black-hole pair). */
async function pingFromNetns(targets: unknown[], from: NetnsPair = pair): Promise<PingSample[]> {
  const code = `
    import { PingProbe } from '${ROOT}agent/probes/ping.ts';
    import { resolveProbesConfig } from '${ROOT}agent/probes/config.ts';
    import { createLogger } from '${ROOT}shared/log.ts';
    const cfg = resolveProbesConfig({ ping: { targets: ${JSON.stringify(targets)}, echoIntervalMs: 200, echoTimeoutS: 1 } });
    const ctx = { signal: new AbortController().signal, now: () => Date.now(), log: createLogger('p', 'silent') };
    console.log(JSON.stringify(await new PingProbe(cfg.ping).run(ctx)));
  `;
  const r = await execInNetns(from.a.ns, process.execPath, nodeEvalArgs(code), 60_000);
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

describe('ping probe against a misbehaving host: each echo counted once, by sequence number', () => {
  let host: NetnsPair;
  let responder: IcmpResponder | undefined;

  beforeAll(async () => {
    host = await createNetnsPair();
  }, 30_000);
  afterAll(async () => {
    await responder?.stop();
    await host?.destroy();
  });

  /** One round from a to b, with b answering by `plan` (echo timeout 1 s, 200 ms apart). */
  async function roundAgainst(plan: ResponderPlan): Promise<PingSample> {
    responder = await startIcmpResponder(host.b.ns, plan);
    try {
      const [s] = await pingFromNetns([{ host: host.b.addr, name: 'school-gw' }], host);
      expect(rejected(s)).toBeUndefined();
      return s!;
    } finally {
      await responder.stop();
      responder = undefined;
    }
  }

  it('keeps duplicated replies out of the RTT figures and the loss', async () => {
    // Every first reply leaves the responder at once, every copy 100 ms later: no RTT may reach
    // 100 ms. (The copies came 50 ms later; on this loaded machine a first reply was seen
    // leaving the Python responder 44 ms late, so the copies keep twice that away.)
    const s = await roundAgainst({ duplicateAfterMs: 100 });
    const seen = JSON.stringify(s);
    expect(s.maxMs, seen).toBeLessThan(100);
    expect(s.p95Ms, seen).toBeLessThan(100);
    expect(s.jitterMs, seen).toBeLessThan(50);
    expect(s).toMatchObject({ target: 'school-gw', lossPct: 0, late: 0 });
    expect(s.received).toBe(s.sent);
    // ping ends on its 10th reply: the copy of that last echo may not be seen.
    expect(s.duplicates).toBeGreaterThanOrEqual(s.sent - 1);
    expect(s.duplicates).toBeLessThanOrEqual(s.sent);
  }, 60_000);

  it('counts a reply after the echo timeout as late and lost, and ignores a reply never asked for', async () => {
    // Echo 2 comes back after 1.2 s (timeout 1 s); 4 and 5 never; echo 1 brings a stray reply
    // numbered 1001 along. ping itself counts the late and the stray replies as received.
    const s = await roundAgainst({ delayMs: { 2: 1200 }, drop: [4, 5], stray: { 1: 1001 } });
    const seen = JSON.stringify(s);
    expect(s.maxMs, seen).toBeLessThan(1000);
    expect(s.received, seen).toBe(s.sent - 3);
    expect(s.lossPct).toBeCloseTo(300 / s.sent, 2);
    expect(s).toMatchObject({ late: 1, duplicates: 0 });
  }, 60_000);
});
