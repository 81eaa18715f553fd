// Secrets never printed by running processes: the real collector and the real agent, given broker
// and InfluxDB URLs with the password inside, connect to the stack's Mosquitto (deploy/mosquitto/
// mosquitto.conf, TLS, `vigie enroll`'s password file and ACL) and log the connection without it.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { agentCli, exited } from '../harness/agent-cli.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { freePort, GiveUp, tempDir, waitFor } from '../harness/daemon.ts';
import type { InfluxHandle } from '../harness/influxdb.ts';
import type { MosquittoHandle } from '../harness/mosquitto.ts';
import { enrollSchools, envFile, makePki, startStackPeers, UAI_A } from './deploy-pki.ts';

const INFLUX_PASSWORD = 'influx-pw-7f3a9c';
let dir: string;
let tlsPort: number;
let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorProcess | undefined;
let agent: ChildProcess | undefined;
let collectorPassword: string;
let schoolPassword: string;

beforeAll(async () => {
  dir = tempDir('secrets-logs');
  chmodSync(dir, 0o755); // the broker drops to its own user before it reads the password file
  makePki(join(dir, 'pki'), 'localhost', '127.0.0.1');
  tlsPort = await freePort();
  const healthPort = await freePort();
  enrollSchools(dir, `mqtts://localhost:${tlsPort}`, join(dir, 'pki/ca.crt'));
  collectorPassword = envFile(join(dir, 'enroll/collector.env'))['VIGIE_COLLECTOR__MQTT__PASSWORD']!;
  schoolPassword = parse(readFileSync(join(dir, 'enroll/agents', `${UAI_A}.yaml`), 'utf8')).agent.mqtt
    .password;
  [broker, influx] = await startStackPeers(dir, tlsPort, healthPort);
}, 120_000);

afterAll(async () => {
  agent?.kill('SIGKILL');
  if (agent) await exited(agent);
  await collector?.daemon.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('credentials in URLs, in the logs of running processes', () => {
  it('the collector connects with mqtts://user:password@ and logs neither password', async () => {
    expect(collectorPassword.length).toBeGreaterThan(16);
    collector = collectorProcess(
      {
        mqttUrl: `mqtts://vigie-collector:${collectorPassword}@localhost:${tlsPort}`,
        influxUrl: influx.url.replace('http://', `http://admin:${INFLUX_PASSWORD}@`),
        database: 'secrets',
        clientId: 'vigie-collector',
        extra: { mqtt: { ca: join(dir, 'pki/ca.crt') } },
      },
      { VIGIE_COLLECTOR__INFLUX__PASSWORD: INFLUX_PASSWORD },
    );
    await collector.daemon.start(); // ready once it logged "connected to the MQTT broker"
    const log = () => readFileSync(collector!.daemon.logFile, 'utf8');
    await waitFor('"collector running" in the log', async () => log().includes('collector running'), 30_000);
    const text = log();
    expect(text).toContain(`"url":"mqtts://vigie-collector:[redacted]@localhost:${tlsPort}"`);
    expect(text).toContain(`"influx":"http://admin:[redacted]@127.0.0.1:${influx.port}"`);
    expect(text).not.toContain(collectorPassword);
    expect(text).not.toContain(INFLUX_PASSWORD);
  });

  it('the agent connects with its password in the URL and logs it nowhere', async () => {
    const agentDir = tempDir('secrets-agent');
    const cli = agentCli(agentDir, {
      uai: UAI_A,
      id: 'box',
      mqtt: { url: `mqtts://${UAI_A}:${schoolPassword}@localhost:${tlsPort}`, ca: join(dir, 'pki/ca.crt') },
    });
    agent = cli.start();
    const child = agent;
    await waitFor(
      'the agent connected',
      async () => {
        if (child.exitCode !== null) throw new GiveUp(`agent exited ${child.exitCode}:\n${cli.logTail()}`);
        return cli.log().includes('connected to the broker');
      },
      30_000,
    );
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    const text = cli.log();
    expect(text).toContain(`"url":"mqtts://${UAI_A}:[redacted]@localhost:${tlsPort}"`);
    expect(text).not.toContain(schoolPassword);
    rmSync(agentDir, { recursive: true, force: true });
  });
});
