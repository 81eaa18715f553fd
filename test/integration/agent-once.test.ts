// `vigie agent --once` is what an installer runs on site: the real CLI, as a child process, runs
// every probe once against local targets (ping 127.0.0.1, a DNS responder, an HTTP server with a
// speed-test endpoint, the real snmpd as router and access point) and prints them, publishing nothing.
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnceReport } from '../../agent/once.ts';
import { PROBE_KINDS, type ProbeKind } from '../../shared/schemas.ts';
import { tempDir } from '../harness/daemon.ts';
import { type SnmpdHandle, startSnmpd } from '../harness/snmpd.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;
let snmpd: SnmpdHandle;
let web: Server;
let dns: Socket;
let fakeBroker: TcpServer;
let brokerConnections = 0;

/** A minimal DNS responder: every A question gets 198.18.0.10. */
function answer(query: Buffer): Buffer {
  let end = 12;
  while (query[end] !== 0) end += query[end]! + 1;
  const question = query.subarray(12, end + 5);
  const header = Buffer.from(query.subarray(0, 12));
  header.writeUInt16BE(0x8180, 2); // response, recursion desired + available, NOERROR
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  header.writeUInt32BE(0, 8);
  const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 10]);
  return Buffer.concat([header, question, record]);
}

const port = (s: { address(): AddressInfo | string | null }) => (s.address() as AddressInfo).port;

beforeAll(async () => {
  dir = tempDir('agent-once');
  snmpd = await startSnmpd();
  web = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/speed/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(Number(url.searchParams.get('bytes'))));
    } else if (url.pathname === '/speed/upload') {
      const start = performance.now();
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => {
        const durationMs = Math.max(1, performance.now() - start);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bytes, bps: (bytes * 8 * 1000) / durationMs, durationMs }));
      });
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<h1>ENT</h1>');
    }
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  dns = createSocket('udp4');
  dns.on('message', (msg, rinfo) => dns.send(answer(msg), rinfo.port, rinfo.address));
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  fakeBroker = createTcpServer((sock) => {
    brokerConnections++;
    sock.destroy();
  });
  await new Promise<void>((r) => fakeBroker.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  web?.close();
  dns?.close();
  fakeBroker?.close();
  await snmpd?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/vigie.js'), 'agent', ...args], {
      cwd: ROOT,
      env: { ...process.env, VIGIE_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function writeConfig(): string {
  const web_ = `http://127.0.0.1:${port(web)}`;
  const snmp = { host: snmpd.host, port: snmpd.port, community: snmpd.community };
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      agent: {
        uai: '0690001B',
        id: 'installer-check',
        mqtt: { url: `mqtt://127.0.0.1:${port(fakeBroker)}` },
        spool: { dir: join(dir, 'spool') },
        contractedMbps: { down: 100, up: 20 },
        probes: {
          ping: { targets: [{ host: '127.0.0.1', role: 'gateway' }], echoIntervalMs: 200 },
          dns: { queries: [{ resolver: `127.0.0.1:${port(dns)}`, name: 'ent.example' }] },
          http: { targets: [{ url: `${web_}/`, name: 'ent' }] },
          wan: { interfaces: ['lo'], routers: [{ ...snmp, interfaces: ['lo'], name: 'router' }] },
          wifi: { accessPoints: [{ name: 'hall', ...snmp }] },
          speedtest: { url: `${web_}/speed`, durationS: 2, warmupS: 0, maxBytes: 4 * 1024 * 1024 },
          self: {},
        } satisfies Record<ProbeKind, object>,
      },
    }),
  );
  return file;
}

describe('vigie agent --once', () => {
  it('prints one JSON document with a result from every probe, and publishes nothing', async () => {
    const { code, stdout, stderr } = await runCli(['--config', writeConfig(), '--once', '--json']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as OnceReport;
    expect(report).toMatchObject({ uai: '0690001B', agent: 'installer-check' });
    const byKind = Object.fromEntries(report.results.map((r) => [r.kind, r]));
    expect(Object.keys(byKind).sort()).toEqual([...PROBE_KINDS].sort());
    for (const r of report.results)
      expect(r.samples.length, `${r.kind}: ${JSON.stringify(r)}`).toBeGreaterThan(0);

    expect(byKind['ping']!.samples[0]).toMatchObject({ target: '127.0.0.1', lossPct: 0, received: 10 });
    expect(byKind['dns']!.samples[0]).toMatchObject({ name: 'ent.example', ok: true, rcode: 'NOERROR' });
    expect(byKind['http']!.samples[0]).toMatchObject({ target: 'ent', ok: true, status: 200 });
    expect(byKind['speedtest']!.samples[0]).toMatchObject({ ok: true });
    expect(byKind['wifi']!.samples[0]).toMatchObject({ ap: 'hall', reachable: true });
    const wanSources = byKind['wan']!.samples.map((s) => (s as { source: string }).source);
    expect(wanSources).toContain('box');
    expect(wanSources).toContain('snmp');
    expect(byKind['self']!.samples[0]).toMatchObject({ version: expect.any(String) });
    expect(brokerConnections).toBe(0);
  }, 90_000);

  it('prints a table an installer can read, one row per sample', async () => {
    const { code, stdout, stderr } = await runCli(['--config', writeConfig(), '--once']);
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^PROBE\s+TARGET\s+STATUS\s+TIME\s+DETAILS$/);
    expect(stdout).toMatch(/^ping\s+127\.0\.0\.1 \(gateway\)\s+ok\s+\d+ ms\s+loss 0\.0% \(10\/10\)/m);
    expect(stdout).toMatch(/^dns\s+ent\.example @127\.0\.0\.1:\d+\s+NOERROR/m);
    expect(stdout).toMatch(/^http\s+ent\s+ok 200/m);
    expect(stdout).toMatch(/^wan\s+box:lo\s+ok/m);
    expect(stdout).toMatch(/^wifi\s+hall\s+up/m);
    expect(stdout).toMatch(/^speedtest\s+\S+\s+ok\s+\d+ ms\s+down [\d.]+ [kMG]?bit\/s/m);
    expect(stdout).toMatch(/^self\s+agent\s+ok/m);
    expect(stdout).toMatch(
      new RegExp(
        `${PROBE_KINDS.length} probe\\(s\\), \\d+ sample\\(s\\), 0 round\\(s\\) failed; nothing was published`,
      ),
    );
    expect(brokerConnections).toBe(0);
  }, 90_000);

  it('exits 2 and names the problem when the config is wrong', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'agent:\n  uai: "0690001A"\n  probes:\n    ping:\n      count: 3\n');
    const { code, stdout, stderr } = await runCli(['--config', file, '--once']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('agent.uai');
    expect(stderr).toContain('expected B, got A');
    expect(stderr).toContain('agent.probes.ping.count');
  }, 30_000);
});
