// The secure chain end to end, as the compose stack wires it: the bundled agent with its enrolled
// config → Mosquitto (stack mosquitto.conf, TLS, password file, ACL) → the collector started from
// deploy/collector.yaml with its enrolled credential in the environment → InfluxDB. And the agents'
// speed test: the bundled agent's probe, with the URL and token enroll wrote, against that collector.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { enroll } from '../../deploy/enroll.ts';
import { Daemon, freePort, tempDir, waitFor } from '../harness/daemon.ts';
import type { InfluxHandle } from '../harness/influxdb.ts';
import type { MosquittoHandle } from '../harness/mosquitto.ts';
import { enrollSchools, envFile, makePki, REPO, startStackPeers, UAI_A, UAI_B } from './deploy-pki.ts';

let dir: string;
let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: Daemon;
let agent: ChildProcess | undefined;
/** Where the collector's HTTP server listens here; in the stack, the TLS proxy forwards to it. */
let httpOrigin: string;
const SPEEDTEST_URL = 'https://vigie.example.org/speedtest';

beforeAll(async () => {
  dir = tempDir('deploy-stack');
  chmodSync(dir, 0o755);
  execFileSync(process.execPath, [join(REPO, 'scripts/build-agent'), join(dir, 'vigie-agent.mjs')], {
    cwd: REPO,
    stdio: 'pipe',
  });
  makePki(join(dir, 'pki'), 'localhost');
  const [tlsPort, healthPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const tlsUrl = `mqtts://localhost:${tlsPort}`;
  enrollSchools(dir, tlsUrl, join(dir, 'pki/ca.crt'));
  // The speed-test URL given on a later run, as an operator would once the proxy is up.
  enroll({ schools: join(dir, 'schools.yaml'), out: join(dir, 'enroll'), speedtestUrl: SPEEDTEST_URL });
  httpOrigin = `http://127.0.0.1:${httpPort}`;
  [broker, influx] = await startStackPeers(dir, tlsPort, healthPort);

  // deploy/collector.yaml with the container's names and paths moved to this machine.
  const doc = parse(readFileSync(join(REPO, 'deploy/collector.yaml'), 'utf8'));
  const c = doc.collector;
  expect(new URL(c.mqtt.url).hostname).toBe('mosquitto');
  c.mqtt.url = tlsUrl;
  c.mqtt.ca = join(dir, 'pki/ca.crt');
  c.influx.url = influx.url;
  c.influx.flushMs = 50;
  c.wal.dir = join(dir, 'wal');
  c.schools = join(dir, 'schools.yaml');
  c.http = { ...c.http, host: '127.0.0.1', port: httpPort };
  writeFileSync(join(dir, 'collector.yaml'), stringify(doc));
  // The environment docker-compose.yml gives the collector, secrets and container paths moved here.
  const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'));
  const composeEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(compose.services.collector.environment as Record<string, string>))
    composeEnv[k] = String(v)
      .replace('/etc/vigie/ca.crt', join(dir, 'pki/ca.crt'))
      .replace(/^\$\{[A-Z_]+:\?.*\}$/, '');
  collector = new Daemon({
    name: 'collector',
    binary: process.execPath,
    args: [join(REPO, 'bin/vigie.js'), 'collector', '--config', join(dir, 'collector.yaml')],
    dir: tempDir('deploy-stack-collector'),
    env: { VIGIE_LOG_LEVEL: 'info', ...composeEnv, ...envFile(join(dir, 'enroll/collector.env')) },
    ready: async () => readFileSync(collector.logFile, 'utf8').includes('connected to the MQTT broker'),
  });
  await collector.start();
}, 120_000);

afterAll(async () => {
  agent?.kill('SIGKILL');
  await collector?.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the secured stack, end to end', () => {
  it("stores the bundled agent's measurements, sent with its enrolled credential over TLS", async () => {
    const conf = parse(readFileSync(join(dir, `enroll/agents/${UAI_A}.yaml`), 'utf8'));
    conf.agent.spool.dir = join(dir, 'spool');
    conf.agent.batchIntervalS = 1;
    conf.agent.probes = {
      ping: {
        targets: [{ host: '127.0.0.1', name: 'loopback', role: 'gateway' }],
        echoIntervalMs: 200,
        intervalS: 5,
      },
    };
    writeFileSync(join(dir, 'agent.yaml'), stringify(conf));
    agent = spawn(
      process.execPath,
      [join(dir, 'vigie-agent.mjs'), 'agent', '--config', join(dir, 'agent.yaml')],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
    const database = parse(readFileSync(join(REPO, 'deploy/collector.yaml'), 'utf8')).collector.influx
      .database;
    await waitFor(
      'a ping sample of the school in InfluxDB',
      async () => (await influx.rows(`SELECT * FROM ping WHERE uai = '${UAI_A}'`, database)).length > 0,
      60_000,
      500,
    );
    const rows = await influx.rows(`SELECT * FROM ping WHERE uai = '${UAI_A}'`, database);
    expect(rows[0]).toMatchObject({ target: 'loopback' });
  }, 90_000);

  it("runs the bundled agent's speed test with the URL and token enroll wrote; the collector refuses a forged token", async () => {
    const conf = parse(readFileSync(join(dir, `enroll/agents/${UAI_A}.yaml`), 'utf8'));
    const enrolled = conf.agent.probes.speedtest as { url: string; token: string };
    expect(enrolled.url).toBe(SPEEDTEST_URL);
    // The proxy's public origin swapped for the collector's address here; the path goes through as is.
    const url = `${httpOrigin}${new URL(enrolled.url).pathname}`;
    // One object each: YAML would write a shared one as an alias, which the config's defaults then fill for all.
    const off = () => ({ enabled: false });
    conf.agent.probes = {
      ping: off(),
      dns: off(),
      http: off(),
      wan: off(),
      wifi: off(),
      self: off(),
      speedtest: { ...enrolled, url, durationS: 2, warmupS: 0, maxBytes: 4 * 1024 * 1024 },
    };
    writeFileSync(join(dir, 'agent-speedtest.yaml'), stringify(conf));
    const out = execFileSync(
      process.execPath,
      [
        join(dir, 'vigie-agent.mjs'),
        'agent',
        '--config',
        join(dir, 'agent-speedtest.yaml'),
        '--once',
        '--json',
      ],
      { cwd: dir, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const report = JSON.parse(String(out));
    const sample = report.results.find((r: { probe: string }) => r.probe === 'speedtest').samples[0];
    expect(sample).toMatchObject({ probe: 'speedtest', ok: true });
    expect(sample.downBytes).toBeGreaterThan(0);
    expect(sample.upBytes).toBeGreaterThan(0);

    const other = parse(readFileSync(join(dir, `enroll/agents/${UAI_B}.yaml`), 'utf8')).agent.probes
      .speedtest;
    const forged = `${UAI_A}.${String(other.token).split('.')[1]}`;
    const refused = await fetch(`${url}/download?bytes=1024`, {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(refused.status).toBe(401);
    // The log line reaches the file a moment after the answer.
    await waitFor(
      'the refusal in the collector log',
      async () => /speed test refused: unknown token/.test(readFileSync(collector.logFile, 'utf8')),
      15_000,
      100,
    );
    const log = readFileSync(collector.logFile, 'utf8');
    const secret = envFile(join(dir, 'enroll/collector.env'))['VIGIE_COLLECTOR__HTTP__SPEEDTEST__SECRET']!;
    for (const s of [secret, enrolled.token, forged]) expect(log).not.toContain(s);
  }, 90_000);
});
