// The single-file agent from scripts/build-agent, run with plain Node from a folder with no
// node_modules: --once measures; a real run connects with the enrolled config over TLS, and refuses
// a broker its CA did not sign.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort, tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { enrollSchools, makePki, REPO, stackMosquittoConfig, UAI_A } from './deploy-pki.ts';

let dir: string;
let bundle: string;
let broker: MosquittoHandle;
let tlsUrl: string;
let collector: MqttClient;
const agents: ChildProcess[] = [];
const seen: string[] = [];

/** The enrolled config for school A, with local-only probes and a spool in the temp dir. */
function agentConfig(name: string, ca: string): string {
  const doc = parse(readFileSync(join(dir, `enroll/agents/${UAI_A}.yaml`), 'utf8'));
  doc.agent.id = name;
  doc.agent.batchIntervalS = 1;
  doc.agent.mqtt.ca = ca;
  doc.agent.spool.dir = join(dir, `spool-${name}`);
  doc.agent.probes = {
    ping: { targets: [{ host: '127.0.0.1', name: 'loopback', role: 'gateway' }], echoIntervalMs: 200 },
  };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

function runAgent(config: string): { child: ChildProcess; stderr: string[] } {
  const stderr: string[] = [];
  const child = spawn(process.execPath, [bundle, 'agent', '--config', config], {
    cwd: dirname(bundle),
    env: { PATH: process.env['PATH'], VIGIE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => stderr.push(String(d)));
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  agents.push(child);
  return { child, stderr };
}

beforeAll(async () => {
  dir = tempDir('deploy-bundle');
  chmodSync(dir, 0o755);
  const build = join(dir, 'build');
  execFileSync(process.execPath, [join(REPO, 'scripts/build-agent'), join(build, 'vigie-agent.mjs')], {
    cwd: REPO,
    stdio: 'pipe',
  });
  // Only the bundle travels: no package.json, no node_modules beside it or above it.
  bundle = join(dir, 'box', 'vigie-agent.mjs');
  execFileSync('mkdir', ['-p', dirname(bundle)]);
  copyFileSync(join(build, 'vigie-agent.mjs'), bundle);
  expect(readdirSync(dirname(bundle))).toEqual(['vigie-agent.mjs']);

  makePki(join(dir, 'pki'), 'localhost');
  makePki(join(dir, 'other-pki'), 'localhost');
  const [tlsPort, healthPort] = [await freePort(), await freePort()];
  tlsUrl = `mqtts://localhost:${tlsPort}`;
  enrollSchools(dir, tlsUrl, join(dir, 'pki/ca.crt'));
  broker = await startMosquitto({
    listener: false,
    readyPort: tlsPort,
    extraConfig: stackMosquittoConfig({
      enrollDir: join(dir, 'enroll'),
      pkiDir: join(dir, 'pki'),
      tlsPort,
      healthPort,
    }),
  });
  const env = readFileSync(join(dir, 'enroll/collector.env'), 'utf8');
  collector = await mqtt.connectAsync(tlsUrl, {
    username: /USERNAME=(.*)/.exec(env)![1]!,
    password: /PASSWORD=(.*)/.exec(env)![1]!,
    ca: readFileSync(join(dir, 'pki/ca.crt')),
    reconnectPeriod: 0,
  });
  collector.on('message', (topic, payload) => seen.push(`${topic} ${payload}`));
  await collector.subscribeAsync('vigie/v1/#', { qos: 1 });
}, 120_000);

afterAll(async () => {
  for (const child of agents) child.kill('SIGKILL');
  await collector?.endAsync(true);
  await broker?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the bundled agent', () => {
  it('runs --once with plain Node and no node_modules, and pings', () => {
    expect(existsSync(join(dirname(bundle), 'node_modules'))).toBe(false);
    const out = execFileSync(
      process.execPath,
      [bundle, 'agent', '--config', agentConfig('once', join(dir, 'pki/ca.crt')), '--once', '--json'],
      {
        cwd: dirname(bundle),
        env: { PATH: process.env['PATH'] },
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const report = JSON.parse(String(out));
    expect(report.uai).toBe(UAI_A);
    const ping = report.results.find((r: { probe: string }) => r.probe === 'ping');
    expect(ping.samples[0]).toMatchObject({ probe: 'ping', target: 'loopback', lossPct: 0 });
    expect(ping.samples[0].received).toBeGreaterThanOrEqual(10);
  }, 60_000);

  it('connects with its enrolled config over TLS: the collector sees its birth and its metrics', async () => {
    runAgent(agentConfig('run', join(dir, 'pki/ca.crt')));
    await waitFor(
      'birth and a metrics batch from the bundled agent',
      async () =>
        seen.some((m) => m.startsWith(`vigie/v1/${UAI_A}/run/status`) && m.includes('"online"')) &&
        seen.some((m) => m.startsWith(`vigie/v1/${UAI_A}/run/metrics`)),
      45_000,
      200,
    );
  }, 60_000);

  it('refuses a broker whose certificate its CA did not sign', async () => {
    const { stderr } = runAgent(agentConfig('wrong-ca', join(dir, 'other-pki/ca.crt')));
    await waitFor(
      'a certificate error in the agent log',
      async () => /certificate|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(stderr.join('')),
      30_000,
      200,
    );
    // The TLS handshake failed before any MQTT packet: nothing of this agent can have reached the broker.
    expect(seen.filter((m) => m.startsWith(`vigie/v1/${UAI_A}/wrong-ca/`))).toEqual([]);
    expect(stderr.join('')).not.toMatch(/connected to the broker/);
  }, 60_000);
});
