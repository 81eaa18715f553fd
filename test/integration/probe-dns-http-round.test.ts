// DNS and HTTP rounds against silent hosts (a resolver or web services unreachable during a WAN cut):
// addresses in a network namespace given a MAC nobody has, so queries and SYNs get no answer and no
// ICMP error. Each silent check waits its whole timeout; the round must still end with every sample
// (and the live target's) instead of being abandoned at its timeout with none.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addSilentHosts,
  createNetnsPair,
  execInNetns,
  type NetnsPair,
  nodeEvalArgs,
} from '../harness/netns.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

let pair: NetnsPair;
/** First three octets of the silent hosts' /24, inside the namespace only. */
let deadNet: string;

beforeAll(async () => {
  pair = await createNetnsPair();
  deadNet = await addSilentHosts(pair, ['198.19.248', '198.19.247'], 16);
}, 30_000);

afterAll(async () => {
  await pair?.destroy();
});

interface RoundResult {
  samples: Record<string, unknown>[];
  failure: { code: string; message: string } | null;
  durationMs: number;
  warns: { msg: string }[];
}

/**
 * One scheduled round (agent/scheduler.ts runRound) of `kind` inside the namespace, with `section` as
 * its config; an HTTP server on 127.0.0.1 (its port in LIVE_PORT) stands for a live web service.
 */
async function roundInNetns(kind: 'dns' | 'http', section: unknown): Promise<RoundResult> {
  const probe = kind === 'dns' ? 'DnsProbe' : 'HttpProbe';
  const code = `
    import http from 'node:http';
    import { resolveProbesConfig } from '${ROOT}agent/probes/config.ts';
    import { ${probe} } from '${ROOT}agent/probes/${kind}.ts';
    import { runRound } from '${ROOT}agent/scheduler.ts';
    import { createLogger } from '${ROOT}shared/log.ts';
    const server = http.createServer((_, res) => res.end('ok'));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const section = JSON.parse(${JSON.stringify(JSON.stringify(section))}.replaceAll('LIVE_PORT', String(server.address().port)));
    const cfg = resolveProbesConfig({ ${kind}: section }).${kind};
    const warns = [];
    const log = createLogger('${kind}', 'warn', { write: (line) => warns.push(JSON.parse(line)) });
    const sp = { name: '${kind}', probe: new ${probe}(cfg), intervalMs: cfg.intervalS * 1000, timeoutMs: cfg.timeoutS * 1000, jitter: 0 };
    const out = await runRound(sp, { log });
    console.log(JSON.stringify({ samples: out.samples, failure: out.failure ?? null, durationMs: out.durationMs, warns }));
    process.exit(0);
  `;
  const r = await execInNetns(pair.a.ns, process.execPath, nodeEvalArgs(code), 120_000);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('dns round against a silent resolver (default config: timeoutS 15, queryTimeoutS 5)', () => {
  it('20 queries: every one a TIMEOUT within the round, none lost', async () => {
    // On the old code (4 at a time, 5 s each: 25 s) the round passed 15 s and the queries started
    // after the cut kept it waiting past the grace: nothing at all.
    const queries = Array.from({ length: 20 }, (_, i) => ({
      resolver: `${deadNet}.10`,
      name: `ent${i}.vigie.test`,
    }));
    const res = await roundInNetns('dns', { queries });
    const seen = JSON.stringify({ ...res, samples: res.samples.length });
    expect(res.failure, seen).toBeNull();
    expect(res.samples).toHaveLength(20);
    for (const s of res.samples) expect(s).toMatchObject({ ok: false, rcode: 'TIMEOUT' });
    expect(res.warns).toEqual([]);
  }, 120_000);
});

describe('http round with silent web services (default config: timeoutS 30, requestTimeoutS 15)', () => {
  it('12 silent and 1 live: every target within the round, the live one up', async () => {
    // On the old code (4 at a time, 15 s per silent target) the round was abandoned at 30 s: nothing.
    const targets = [
      ...Array.from({ length: 12 }, (_, i) => ({ url: `http://${deadNet}.${10 + i}/`, name: `dead${i}` })),
      { url: 'http://127.0.0.1:LIVE_PORT/', name: 'live' },
    ];
    const res = await roundInNetns('http', { targets });
    const seen = JSON.stringify({ ...res, samples: res.samples.length });
    expect(
      res.samples.find((s) => s.target === 'live'),
      seen,
    ).toMatchObject({ ok: true, status: 200 });
    expect(res.failure, seen).toBeNull();
    const dead = res.samples.filter((s) => String(s.target).startsWith('dead'));
    expect(dead).toHaveLength(12);
    for (const s of dead) expect(s).toMatchObject({ ok: false, status: 0, error: 'ETIMEDOUT' });
  }, 120_000);
});
