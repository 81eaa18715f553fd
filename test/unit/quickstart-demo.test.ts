// The quick start's pure parts: the config it writes (checked by the real config loader), the loopback
// DNS answers, the console lines, and the points file the collector writes without InfluxDB.
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadVigieConfig } from '../../cli/config-file.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { PointsFile } from '../../collector/file-sink.ts';
import {
  DEMO_DNS_NAME,
  DEMO_UAI,
  type DemoSettings,
  demoConfig,
  demoRegistryCsv,
} from '../../demo/config.ts';
import { answerQuery, startDnsResponder } from '../../demo/dns-responder.ts';
import { runDemoCommand } from '../../demo/main.ts';
import { changes, fleetLine, promCounter, type SchoolBrief } from '../../demo/status.ts';
import { loadRegistry } from '../../shared/registry.ts';
import { tempDir } from '../harness/daemon.ts';

const settings = (over: Partial<DemoSettings> = {}): DemoSettings => ({
  dataDir: '/var/tmp/demo',
  host: '127.0.0.1',
  brokerPort: 1883,
  httpPort: 8080,
  dnsPort: 5300,
  intervalS: 10,
  registryFile: 'examples/agglomeration.csv',
  ...over,
});

/** A DNS question as a stub resolver sends it. */
function question(name: string, type = 1): Buffer {
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

describe('demo config', () => {
  it('is accepted by the config loader, probes loopback only, and keeps points on disk without InfluxDB', () => {
    const dir = tempDir('quickstart-config');
    const file = join(dir, 'vigie-demo.yaml');
    writeFileSync(file, stringify(demoConfig(settings({ dataDir: dir }))));
    const { config } = loadVigieConfig(file, {});
    expect(config.collector?.pointsFile).toBe(`${dir}/points.lp`);
    expect(config.collector?.mqtt).toBeUndefined(); // the embedded broker
    expect(config.collector?.presence.rebuildFromInflux).toBe(false);
    const agent = config.agent!;
    expect(agent.uai).toBe(DEMO_UAI);
    expect(agent.probes.ping.targets.map((t) => t.host)).toEqual(['127.0.0.1']);
    expect(agent.probes.dns.queries).toEqual([
      { resolver: '127.0.0.1:5300', name: DEMO_DNS_NAME, type: 'A' },
    ]);
    for (const t of agent.probes.http.targets) expect(t.url).toMatch(/^http:\/\/127\.0\.0\.1:8080\//);
    expect(agent.probes.wan.interfaces).toEqual(['lo']);
    expect(agent.probes.wifi.enabled).toBe(false);
    expect(agent.probes.speedtest.enabled).toBe(false);
    expect(JSON.stringify(config)).not.toContain('gateway');
  });

  it('writes to InfluxDB when one is given, and reaches a board on 0.0.0.0 through loopback', () => {
    const c = demoConfig(
      settings({ influxUrl: 'http://127.0.0.1:8086', host: '0.0.0.0', readToken: 'a'.repeat(32) }),
    ) as {
      collector: Record<string, unknown>;
      agent: { mqtt: { url: string } };
    };
    expect(c.collector['pointsFile']).toBeUndefined();
    expect(c.collector['influx']).toEqual({ url: 'http://127.0.0.1:8086' });
    expect(c.collector['presence']).toMatchObject({ rebuildFromInflux: true });
    expect(c.agent.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(c.collector['http']).toMatchObject({ host: '0.0.0.0', auth: { readTokens: ['a'.repeat(32)] } });
    expect(demoConfig(settings()).collector).not.toHaveProperty('http.auth');
  });

  it('keeps its broker, which has no accounts, on loopback when the board is shown to other machines', () => {
    for (const host of ['0.0.0.0', '::', '198.18.0.7']) {
      const c = demoConfig(settings({ host, readToken: 'a'.repeat(32) })) as {
        collector: { broker: { host: string } };
        agent: { mqtt: { url: string } };
      };
      expect(c.collector.broker.host, host).toBe('127.0.0.1');
      expect(c.agent.mqtt.url).toBe('mqtt://127.0.0.1:1883');
      // The collector the demo starts takes this config (beyond loopback it would want accounts and TLS).
      expect(() => resolveCollectorConfig(c.collector), host).not.toThrow();
    }
  });

  it("adds this machine's school to the registry", () => {
    const dir = tempDir('quickstart-registry');
    const file = join(dir, 'schools.csv');
    writeFileSync(file, demoRegistryCsv(readFileSync('examples/agglomeration.csv', 'utf8')));
    const registry = loadRegistry(file);
    expect(registry.size).toBe(loadRegistry('examples/agglomeration.csv').size + 1);
    expect(registry.get(DEMO_UAI)?.name).toBe('Ce poste (agent réel)');
  });
});

describe('loopback DNS responder', () => {
  it('answers A in its zone, NXDOMAIN outside, and ignores what is not a question', () => {
    const a = answerQuery(question('ent.vigie-demo.test'), 'vigie-demo.test')!;
    expect(a.readUInt16BE(0)).toBe(0x1234);
    expect(a[3]! & 0x0f).toBe(0);
    expect(a.readUInt16BE(6)).toBe(1);
    expect([...a.subarray(-4)]).toEqual([127, 0, 0, 1]);
    const aaaa = answerQuery(question('ent.vigie-demo.test', 28), 'vigie-demo.test')!;
    expect([aaaa[3]! & 0x0f, aaaa.readUInt16BE(6)]).toEqual([0, 0]);
    const outside = answerQuery(question('example.org'), 'vigie-demo.test')!;
    expect(outside[3]! & 0x0f).toBe(3);
    expect(answerQuery(Buffer.from([1, 2, 3]), 'vigie-demo.test')).toBeUndefined();
    const response = question('ent.vigie-demo.test');
    response[2] = 0x81;
    expect(answerQuery(response, 'vigie-demo.test')).toBeUndefined();
  });

  it('serves node:dns (the agent probe resolver) on loopback', async () => {
    const dns = await startDnsResponder('vigie-demo.test');
    try {
      const r = new Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`127.0.0.1:${dns.port}`]);
      expect(await r.resolve4(DEMO_DNS_NAME)).toEqual(['127.0.0.1']);
      await expect(r.resolve4('nothing.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      // Garbage is dropped without a reply and without stopping the responder.
      const sock = createSocket('udp4');
      await new Promise<void>((done) => sock.send(Buffer.from('junk'), dns.port, '127.0.0.1', () => done()));
      sock.close();
      expect(await r.resolve4(DEMO_DNS_NAME)).toEqual(['127.0.0.1']);
      expect(dns.queries).toBe(3);
    } finally {
      await dns.close();
    }
  });
});

describe('console lines', () => {
  const school = (uai: string, state: SchoolBrief['state'], reason = 'birth'): SchoolBrief => ({
    uai,
    name: `École ${uai}`,
    commune: 'Bron',
    state,
    reason,
    latencyMs: 0.05,
    lossPct: 0,
  });
  // 09:30:05 in Paris (+01:00 in November), whatever the process zone: the demo prints school time.
  const at = Date.UTC(2026, 10, 29, 8, 30, 5);

  it('says what changed, in words, and stays quiet for schools simply coming up', () => {
    const prev = new Map(
      [school('0690001B', 'online'), school('0690112X', 'unknown'), school(DEMO_UAI, 'online')].map((s) => [
        s.uai,
        s,
      ]),
    );
    const lines = changes(
      prev,
      [
        school('0690001B', 'offline', 'will'),
        school('0690112X', 'online'),
        school(DEMO_UAI, 'degraded', 'loss'),
      ],
      at,
    );
    expect(lines).toEqual([
      '09:30:05  École 0690001B (Bron, 0690001B): online → OFFLINE (connection lost without a goodbye: the broker published its will)',
      "09:30:05  this machine's agent: online → degraded (packet loss past the threshold)",
    ]);
  });

  it('sums the fleet up with this machine and where the points go', () => {
    const line = fleetLine(
      {
        schools: [school('0690001B', 'online'), school('0690112X', 'offline'), school(DEMO_UAI, 'online')],
        pointsWritten: 12345,
        rejected: 0,
        sink: '.vigie/demo/points.lp',
      },
      at,
    );
    expect(line).toBe(
      '09:30:05  3 schools: 2 online, 1 offline · this machine: online, ping 127.0.0.1 0.05 ms · 12,345 points written to .vigie/demo/points.lp',
    );
  });

  it('reads counters from the Prometheus text, summed over labels', () => {
    const text = [
      '# HELP vigie_collector_rejected_total Refused',
      'vigie_collector_rejected_total{reason="schema"} 2',
      'vigie_collector_rejected_total{reason="clock_future"} 3',
      'vigie_collector_rejected_totally_else 99',
      'vigie_collector_points_written_total 1500',
    ].join('\n');
    expect(promCounter(text, 'vigie_collector_rejected_total')).toBe(5);
    expect(promCounter(text, 'vigie_collector_points_written_total')).toBe(1500);
    expect(promCounter(text, 'vigie_collector_absent_total')).toBeNull();
  });
});

describe('vigie demo refuses bad options before starting anything', () => {
  const base = {
    data: '/nonexistent/never-created',
    host: '127.0.0.1',
    httpPort: '8080',
    brokerPort: '1883',
    interval: '10',
    outages: '0.2',
    seed: '1',
  };
  const stderr = () => {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => {
      lines.push(s);
      return true;
    }) as typeof process.stderr.write;
    return { lines, restore: () => (process.stderr.write = write) };
  };

  it('names a taken port and the option to change it', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const taken = (srv.address() as { port: number }).port;
    const err = stderr();
    try {
      expect(await runDemoCommand({ ...base, brokerPort: String(taken) }, () => {})).toBe(2);
    } finally {
      err.restore();
      srv.close();
    }
    expect(err.lines.join('')).toContain(`port ${taken} on 127.0.0.1 is taken`);
    expect(err.lines.join('')).toContain('--broker-port');
  });

  it('names a bad number or registry', async () => {
    const dir = tempDir('quickstart-bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bad.csv'), 'uai,name\n123,No check letter\n');
    const err = stderr();
    try {
      expect(await runDemoCommand({ ...base, httpPort: '99999' }, () => {})).toBe(2);
      expect(await runDemoCommand({ ...base, influx: 'localhost:8086' }, () => {})).toBe(2);
      expect(await runDemoCommand({ ...base, schools: join(dir, 'bad.csv') }, () => {})).toBe(2);
    } finally {
      err.restore();
    }
    const text = err.lines.join('');
    expect(text).toContain('--http-port must be a port number');
    expect(text).toContain('--influx must be a URL');
    expect(text).toContain('bad.csv');
    expect(existsSync(base.data)).toBe(false);
  });
});

describe('points file (collector without InfluxDB)', () => {
  it('appends every batch as it is, and says a write failed instead of losing it', async () => {
    const dir = tempDir('quickstart-points');
    const file = new PointsFile(join(dir, 'sub', 'points.lp'));
    for (const lines of ['a,t=1 v=1i 1000\n', 'b,t=2 v=2i 2000\nc v=3 3000\n']) {
      const encoded = await file.encode(Buffer.from(lines));
      expect(encoded.gzip).toBe(false);
      expect(await file.write(encoded)).toEqual({ ok: true });
    }
    await file.close();
    expect(readFileSync(join(dir, 'sub', 'points.lp'), 'utf8')).toBe(
      'a,t=1 v=1i 1000\nb,t=2 v=2i 2000\nc v=3 3000\n',
    );
    expect(file.bytesWritten).toBe(43);

    const blocked = new PointsFile(dir); // a directory: cannot be opened for appending
    const outcome = await blocked.write(await blocked.encode(Buffer.from('x v=1 1\n')));
    expect(outcome).toMatchObject({ ok: false, kind: 'failed' });
    await blocked.close();
  });
});
