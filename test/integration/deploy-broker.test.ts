// The stack's real mosquitto.conf with `vigie enroll`'s password files and ACLs and make-pki.sh's
// certificates: what a school's credential may do, that TLS is required and verified, and that the
// health-check listener gives nothing but the uptime.
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadVigieConfig } from '../../cli/config-file.ts';
import { HEALTH_PASSWORD, HEALTH_USER } from '../../deploy/acl.ts';
import { freePort, tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { enrollSchools, makePki, REPO, stackMosquittoConfig, UAI_A, UAI_B } from './deploy-pki.ts';

const run = promisify(execFile);

let dir: string;
let broker: MosquittoHandle;
let tlsUrl: string;
let healthPort: number;
let collector: { username: string; password: string };
const clients: MqttClient[] = [];

/** The agent's connection settings exactly as its generated config file gives them. */
function agentOptions(uai: string): IClientOptions & { url: string } {
  const { config } = loadVigieConfig(join(dir, 'enroll/agents', `${uai}.yaml`), {});
  const m = config.agent!.mqtt!;
  return {
    url: tlsUrl,
    username: m.username,
    password: m.password,
    ca: readFileSync(m.ca!),
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  };
}

async function connect(opts: IClientOptions & { url: string }): Promise<MqttClient> {
  const { url, ...rest } = opts;
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...rest });
  clients.push(client);
  return client;
}

/** Resolves with the error a connection attempt ends with, or rejects if it connects. */
function connectError(url: string, opts: IClientOptions): Promise<Error> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 4000, ...opts });
    clients.push(client);
    client.once('connect', () => reject(new Error('connected, but should have been refused')));
    client.once('error', (err) => resolve(err));
    client.once('close', () => resolve(new Error('closed before CONNACK')));
  });
}

async function collectorSubscriber(): Promise<{ client: MqttClient; seen: string[] }> {
  const client = await connect({ url: tlsUrl, ...collector, ca: readFileSync(join(dir, 'pki/ca.crt')) });
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload}`));
  await client.subscribeAsync('vigie/v1/#', { qos: 1 });
  return { client, seen };
}

/**
 * Publishes two messages the collector must receive. A refused subscriber would have been sent the
 * first one in the same broker loop turn; by the time the second reached the collector it would be here.
 */
async function deliverTwice(publisher: MqttClient, topic: string, seen: string[]): Promise<void> {
  const before = seen.length;
  for (const round of [1, 2]) {
    await publisher.publishAsync(topic, `round ${round}`, { qos: 1 });
    await waitFor(`round ${round} at the collector`, async () => seen.length >= before + round, 10_000);
  }
}

beforeAll(async () => {
  dir = tempDir('deploy-broker');
  chmodSync(dir, 0o755); // the broker drops to its own user before it reads the password file
  makePki(join(dir, 'pki'), 'localhost', '127.0.0.1');
  makePki(join(dir, 'other-pki'), 'localhost', '127.0.0.1');
  const [tlsPort, hp] = [await freePort(), await freePort()];
  healthPort = hp;
  tlsUrl = `mqtts://localhost:${tlsPort}`;
  enrollSchools(dir, tlsUrl, join(dir, 'pki/ca.crt'));
  const env = readFileSync(join(dir, 'enroll/collector.env'), 'utf8');
  collector = {
    username: /USERNAME=(.*)/.exec(env)![1]!,
    password: /PASSWORD=(.*)/.exec(env)![1]!,
  };
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
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await broker?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('broker security with the enrolled credentials', () => {
  it("lets school A publish under A and silently drops A's publish under B (MQTT 3.1.1)", async () => {
    const { seen } = await collectorSubscriber();
    const a = await connect({ ...agentOptions(UAI_A), protocolVersion: 4 });
    await a.publishAsync(`vigie/v1/${UAI_B}/box/metrics`, 'forged', { qos: 1 });
    await a.publishAsync(`vigie/v1/${UAI_A}/box/metrics`, 'genuine', { qos: 1 });
    // Same client, same broker: once the later message arrived, the earlier one would have too.
    await waitFor('genuine message at the collector', async () => seen.length > 0, 10_000);
    expect(seen).toEqual([`vigie/v1/${UAI_A}/box/metrics genuine`]);
  });

  it('tells an MQTT 5 client that the publish under another school is not authorised (reason 135)', async () => {
    const a = await connect({ ...agentOptions(UAI_A), protocolVersion: 5 });
    await expect(a.publishAsync(`vigie/v1/${UAI_B}/box/metrics`, 'forged', { qos: 1 })).rejects.toMatchObject(
      {
        code: 135,
      },
    );
    const accepted = await a.publishAsync(`vigie/v1/${UAI_A}/box/metrics`, 'genuine', { qos: 1 });
    expect((accepted as { reasonCode?: number } | undefined)?.reasonCode ?? 0).toBe(0);
  });

  it('does not let a school read anything, even its own topics', async () => {
    const { seen } = await collectorSubscriber();
    const a = await connect(agentOptions(UAI_A));
    const readByA: string[] = [];
    a.on('message', (topic) => readByA.push(topic));
    await a.subscribeAsync(`vigie/v1/${UAI_A}/#`, { qos: 1 });
    await deliverTwice(a, `vigie/v1/${UAI_A}/box/events`, seen);
    expect(readByA).toEqual([]);
  });

  it('gives the collector every school', async () => {
    const { seen } = await collectorSubscriber();
    const a = await connect(agentOptions(UAI_A));
    const b = await connect(agentOptions(UAI_B));
    await a.publishAsync(`vigie/v1/${UAI_A}/box/status`, 'a', { qos: 1 });
    await b.publishAsync(`vigie/v1/${UAI_B}/box/status`, 'b', { qos: 1 });
    await waitFor('both schools at the collector', async () => seen.length >= 2, 10_000);
    expect(seen.sort()).toEqual([`vigie/v1/${UAI_B}/box/status b`, `vigie/v1/${UAI_A}/box/status a`]);
  });

  it('refuses a wrong password, an unknown user and an anonymous client', async () => {
    const ca = readFileSync(join(dir, 'pki/ca.crt'));
    const wrong = await connectError(tlsUrl, { ca, username: UAI_A, password: 'not-the-password' });
    expect(wrong.message).toMatch(/Not authorized|Bad username or password/i);
    const unknown = await connectError(tlsUrl, { ca, username: '0010001W', password: 'x' });
    expect(unknown.message).toMatch(/Not authorized|Bad username or password/i);
    const anonymous = await connectError(tlsUrl, { ca });
    expect(anonymous.message).toMatch(/Not authorized|Bad username or password/i);
  });

  it('refuses plaintext MQTT on the TLS listener', async () => {
    const opts = agentOptions(UAI_A);
    const err = await connectError(opts.url.replace('mqtts:', 'mqtt:'), {
      username: opts.username,
      password: opts.password,
    });
    // The broker reads the CONNECT packet as a malformed TLS ClientHello and drops the connection.
    expect((err as NodeJS.ErrnoException).code ?? err.message).toMatch(
      /ECONNRESET|EPIPE|closed before CONNACK/,
    );
  });

  it('makes an agent refuse a broker whose certificate its CA did not sign', async () => {
    const opts = agentOptions(UAI_A);
    const err = await connectError(opts.url, { ...opts, ca: readFileSync(join(dir, 'other-pki/ca.crt')) });
    expect((err as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });

  it('makes an agent refuse the right CA under a name the certificate does not carry', async () => {
    const opts = agentOptions(UAI_A);
    const err = await connectError(opts.url.replace('localhost', '127.0.0.2'), opts);
    expect((err as NodeJS.ErrnoException).code ?? err.message).toMatch(
      /ERR_TLS_CERT_ALTNAME_INVALID|ECONNREFUSED/,
    );
  });

  it('refuses the old password once a school is rotated and the broker reloaded, and takes the new one', async () => {
    const before = agentOptions(UAI_B);
    const { changes } = enrollSchools(dir, tlsUrl, join(dir, 'pki/ca.crt'), [UAI_B]);
    expect(changes.rotated).toEqual([UAI_B]);
    const after = agentOptions(UAI_B);
    expect(after.password).not.toBe(before.password);
    expect(agentOptions(UAI_A).password).toBeTruthy();
    process.kill(broker.daemon.pid!, 'SIGHUP');
    await waitFor(
      'the broker to refuse the old password',
      async () => connectError(tlsUrl, before).then((e) => /Not authorized/i.test(e.message)),
      10_000,
      200,
    );
    const fresh = await connect(after);
    expect(fresh.connected).toBe(true);
  });

  it("does not let a school take the collector's client id and knock it off", async () => {
    const col = await connect({
      url: tlsUrl,
      ...collector,
      ca: readFileSync(join(dir, 'pki/ca.crt')),
      clientId: 'vigie-collector',
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 600 },
    });
    let closed = false;
    col.on('close', () => {
      closed = true;
    });
    const seen: string[] = [];
    col.on('message', (topic) => seen.push(topic));
    await col.subscribeAsync('vigie/v1/#', { qos: 1 });
    const intruder = await connect({ ...agentOptions(UAI_A), clientId: 'vigie-collector' });
    await deliverTwice(intruder, `vigie/v1/${UAI_A}/box/events`, seen);
    expect(closed).toBe(false);
  });
});

describe('the health-check listener', () => {
  const healthUrl = () => `mqtt://127.0.0.1:${healthPort}`;
  const health = { username: HEALTH_USER, password: HEALTH_PASSWORD };

  /** The collector's persistent session on the TLS listener, watched for being knocked off. */
  async function collectorSession(): Promise<{ seen: string[]; closed: () => boolean }> {
    const col = await connect({
      url: tlsUrl,
      ...collector,
      ca: readFileSync(join(dir, 'pki/ca.crt')),
      clientId: 'vigie-collector',
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 600 },
    });
    let closed = false;
    col.on('close', () => {
      closed = true;
    });
    const seen: string[] = [];
    col.on('message', (topic, payload) => seen.push(`${topic} ${payload}`));
    await col.subscribeAsync('vigie/v1/#', { qos: 1 });
    return { seen, closed: () => closed };
  }

  it("passes docker-compose.yml's health check, run as written, with the uptime", async () => {
    const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'));
    const [form, binary, ...args] = compose.services.mosquitto.healthcheck.test as string[];
    expect(form).toBe('CMD');
    // Compose writes a literal dollar as $$; the container's 1883 is this test's health port.
    const argv = args.map((a) => a.replaceAll('$$', '$'));
    argv[argv.indexOf('-p') + 1] = String(healthPort);
    const { stdout } = await run(binary!, argv, { timeout: 20_000 });
    expect(stdout).toMatch(/^\d+ seconds$/m);
  });

  it("refuses the collector's and a school's name without their password", async () => {
    for (const username of ['vigie-collector', UAI_A]) {
      const err = await connectError(healthUrl(), { username, protocolVersion: 5 });
      expect(err.message, username).toMatch(/Not authorized|Bad username or password/i);
    }
    const anonymous = await connectError(healthUrl(), { protocolVersion: 5 });
    expect(anonymous.message).toMatch(/Not authorized|Bad username or password/i);
    // A real credential is no use here either: only the health account logs in on this listener.
    const a = agentOptions(UAI_A);
    const school = await connectError(healthUrl(), { username: a.username, password: a.password });
    expect(school.message).toMatch(/Not authorized|Bad username or password/i);
  });

  it('gives its own account the uptime and nothing else: no reading the schools, no publishing as one', async () => {
    const client = await connect({ url: healthUrl(), ...health, protocolVersion: 5 });
    const read: string[] = [];
    client.on('message', (topic) => read.push(topic));
    await client.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
    await waitFor('the uptime', async () => read.includes('$SYS/broker/uptime'), 10_000);
    // Mosquitto 2.0 grants the subscription and checks the ACL at each delivery: nothing must arrive.
    await client.subscribeAsync('vigie/v1/#', { qos: 1 });
    await expect(client.publishAsync(`vigie/v1/${UAI_A}/box/metrics`, 'x', { qos: 1 })).rejects.toMatchObject(
      {
        code: 135,
      },
    );
    const { seen } = await collectorSubscriber();
    await deliverTwice(await connect(agentOptions(UAI_A)), `vigie/v1/${UAI_A}/box/events`, seen);
    expect(read.filter((t) => t.startsWith('vigie/'))).toEqual([]);
  });

  it("lets no client there take the collector's client id and knock it off", async () => {
    const session = await collectorSession();
    // Anonymous, the collector's name without password, and the health account: each asks for its id.
    await connectError(healthUrl(), { clientId: 'vigie-collector', protocolVersion: 5 });
    await connectError(healthUrl(), { clientId: 'vigie-collector', username: 'vigie-collector' });
    const asHealth = await connect({ url: healthUrl(), ...health, clientId: 'vigie-collector', clean: true });
    expect(asHealth.connected).toBe(true);
    await deliverTwice(await connect(agentOptions(UAI_A)), `vigie/v1/${UAI_A}/box/events`, session.seen);
    expect(session.closed()).toBe(false);
  });
});
