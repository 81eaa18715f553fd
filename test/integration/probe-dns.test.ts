// The dns probe against a real DNS server on loopback: a small UDP responder written for the test
// (no DNS daemon is installed here) that answers, denies, fails or stays silent by name.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { DnsProbe } from '../../agent/probes/dns.ts';
import { createLogger } from '../../shared/log.ts';
import { decodeMetrics } from '../../shared/validate.ts';

const log = createLogger('probe-test', 'silent');
const ctx = () => ({ signal: new AbortController().signal, now: () => Date.now(), log });

function rejected(...samples: unknown[]): string | undefined {
  const d = decodeMetrics(
    JSON.stringify({ v: 1, uai: '0750001U', agent: 'box', seq: 0, t: Date.now(), samples }),
  );
  return d.ok ? undefined : d.error;
}

/** The query name and the end offset of the question section. */
function question(msg: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i]! > 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString('ascii'));
    i += msg[i]! + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 5 }; // zero byte + QTYPE + QCLASS
}

const RCODE: Record<string, number> = { 'fail.vigie.test': 2, 'refused.vigie.test': 5 };
let queries = 0;

function answer(msg: Buffer): Buffer | undefined {
  queries++;
  const q = question(msg);
  if (q.name === 'slow.vigie.test') return undefined;
  const withA = q.name === 'ok.vigie.test';
  const known = withA || q.name === 'empty.vigie.test';
  const rcode = RCODE[q.name] ?? (known ? 0 : 3);
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | rcode, 2); // QR, RD, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(withA ? 1 : 0, 6);
  const parts = [header, msg.subarray(12, q.end)];
  if (withA) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    Buffer.from([198, 18, 0, 10]).copy(rr, 12);
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

let server: Socket;
let port = 0;

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const reply = answer(msg);
    if (reply) server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  port = server.address().port;
});

afterAll(() => {
  server?.close();
});

describe('dns probe', () => {
  it('times answers and names each result code', async () => {
    const resolver = `127.0.0.1:${port}`;
    const cfg = resolveProbesConfig({
      dns: {
        queryTimeoutS: 1,
        queries: ['ok', 'empty', 'missing', 'fail', 'refused', 'slow'].map((n) => ({
          resolver,
          name: `${n}.vigie.test`,
        })),
      },
    });
    const before = queries;
    const samples = await new DnsProbe(cfg.dns).run(ctx());
    expect(queries - before).toBeGreaterThanOrEqual(6); // every one went to our server
    expect(samples.map((s) => [s.name, s.ok, s.rcode])).toEqual([
      ['ok.vigie.test', true, 'NOERROR'],
      ['empty.vigie.test', false, 'NODATA'],
      ['missing.vigie.test', false, 'NXDOMAIN'],
      ['fail.vigie.test', false, 'SERVFAIL'],
      ['refused.vigie.test', false, 'REFUSED'],
      ['slow.vigie.test', false, 'TIMEOUT'],
    ]);
    for (const s of samples.slice(0, 5)) {
      expect(s.resolver).toBe(resolver);
      expect(s.timeMs).toBeGreaterThan(0);
      expect(s.timeMs).toBeLessThan(1000);
    }
    expect(samples[5]!.timeMs).toBeUndefined(); // a timeout measures nothing
    expect(rejected(...samples)).toBeUndefined();
  }, 30_000);

  it('reports a bad resolver address as a sample', async () => {
    const cfg = resolveProbesConfig({
      dns: { queries: [{ resolver: 'not an address', name: 'ok.vigie.test' }] },
    });
    const [s] = await new DnsProbe(cfg.dns).run(ctx());
    expect(s).toMatchObject({ ok: false, rcode: 'BADSERVER', resolver: 'not an address' });
  });

  it('stops when the probe is cut', async () => {
    const cfg = resolveProbesConfig({
      dns: { queryTimeoutS: 10, queries: [{ resolver: `127.0.0.1:${port}`, name: 'slow.vigie.test' }] },
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const started = Date.now();
    const [s] = await new DnsProbe(cfg.dns).run({ signal: abort.signal, now: () => Date.now(), log });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(s).toMatchObject({ ok: false, rcode: 'CANCELLED' });
  }, 15_000);
});
