// The collector's embedded broker (aedes), started by the real collector: on loopback by default,
// where local clients get in but never onto the collector's client id; beyond loopback only with the
// accounts `vigie enroll` issued, over TLS, under the rules Mosquitto applies (deploy/acl.ts).
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CollectorObserver } from '../../collector/observer.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { createLogger } from '../../shared/log.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { everySample, makeBatch } from '../harness/collector.ts';
import { freePort, GiveUp, tempDir, waitFor } from '../harness/daemon.ts';
import { enrollSchools, makePki, REPO, UAI_A, UAI_B } from './deploy-pki.ts';

const clients: MqttClient[] = [];

/** What reached the collector, and whether it ever lost its own broker connection. */
function watcher() {
  const seen: string[] = [];
  let drops = 0;
  const observer: CollectorObserver = {
    onMetrics: (b) => seen.push(`${b.uai} ${b.seq}`),
    onBrokerConnection: (up) => {
      if (!up) drops++;
    },
  };
  return { seen, observer, drops: () => drops };
}

/** Log lines, to check what the broker said. */
function logLines(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

async function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    protocolVersion: 4,
    ...opts,
  });
  clients.push(client);
  return client;
}

/** Resolves with the error a connection attempt ends with; rejects if the broker lets it in. */
function connectError(url: string, opts: IClientOptions): Promise<Error> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      protocolVersion: 4,
      ...opts,
    });
    clients.push(client);
    client.once('connect', () => reject(new Error('connected, but should have been refused')));
    client.once('error', (err) => resolve(err));
    client.once('close', () => resolve(new Error('closed before CONNACK')));
  });
}

const batch = (uai: string, seq: number) =>
  JSON.stringify(makeBatch(uai, 'box', seq, Date.now(), everySample(Date.now())));

/** Publishes a batch of `uai` and waits for the collector to have it. */
async function delivered(publisher: MqttClient, uai: string, seq: number, seen: string[]): Promise<void> {
  await publisher.publishAsync(metricsTopic(uai, 'box'), batch(uai, seq), { qos: 1 });
  await waitFor(`${uai} ${seq} at the collector`, async () => seen.includes(`${uai} ${seq}`), 10_000);
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
});

describe('on loopback without accounts (the default, the demo)', () => {
  let collector: CollectorHandle;
  const w = watcher();
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('embedded-local');
    collector = await startCollector(
      {
        broker: { port: 0 }, // host: the default
        pointsFile: join(dir, 'points.lp'),
        wal: { dir: join(dir, 'wal'), fsyncMs: 20 },
        http: { enabled: false },
      },
      { observers: [w.observer], logger: createLogger('test', 'silent') },
    );
  }, 60_000);

  afterAll(async () => {
    await collector?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback only', () => {
    const port = Number(new URL(collector.brokerUrl).port);
    // Listening sockets (state 0A) as the kernel lists them: address:port in hex, the address byte-swapped.
    const listening = ['/proc/net/tcp', '/proc/net/tcp6']
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').slice(1))
      .map((l) => l.trim().split(/\s+/))
      .filter(
        (cols) =>
          cols[3] === '0A' && cols[1]!.endsWith(`:${port.toString(16).toUpperCase().padStart(4, '0')}`),
      )
      .map((cols) => cols[1]!.split(':')[0]);
    expect(listening).toEqual(['0100007F']); // 127.0.0.1, and nothing on 0.0.0.0 or ::
  });

  it("lets local clients in and publish, but not onto the collector's client id", async () => {
    const local = await connect(collector.brokerUrl, { clientId: `vigie-${UAI_A}-box` });
    await delivered(local, UAI_A, 1, w.seen);
    // The collector's client id, anonymously or under its name with a guessed password: refused.
    for (const opts of [
      { clientId: 'vigie-collector' },
      { clientId: 'vigie-collector', clean: false },
      { clientId: 'someone', username: 'vigie-collector', password: 'guess' },
    ]) {
      const err = await connectError(collector.brokerUrl, opts);
      expect(err.message, JSON.stringify(opts)).toMatch(/Not authorized/i);
    }
    // The collector kept its session: it never dropped, and still gets the next message.
    await delivered(local, UAI_A, 2, w.seen);
    expect(w.drops()).toBe(0);
  });
});

describe('with the enrolled accounts, over TLS', () => {
  let dir: string;
  let collector: CollectorHandle;
  const w = watcher();
  const log = logLines();
  let tlsUrl: string;
  let ca: Buffer;
  let passwords: Record<string, string>;
  let collectorPassword: string;

  const readCredentials = () => {
    const state = JSON.parse(readFileSync(join(dir, 'enroll/credentials.json'), 'utf8'));
    passwords = Object.fromEntries(
      Object.entries(state.schools as Record<string, { password: string }>).map(([u, c]) => [u, c.password]),
    );
    collectorPassword = state.collector.password;
  };
  const school = (uai: string, opts: IClientOptions = {}): IClientOptions => ({
    username: uai,
    password: passwords[uai],
    ca,
    clientId: `vigie-${uai}-box`,
    ...opts,
  });

  beforeAll(async () => {
    dir = tempDir('embedded-accounts');
    chmodSync(dir, 0o755);
    makePki(join(dir, 'pki'), 'localhost', '127.0.0.1');
    ca = readFileSync(join(dir, 'pki/ca.crt'));
    const port = await freePort();
    tlsUrl = `mqtts://localhost:${port}`;
    enrollSchools(dir, tlsUrl, join(dir, 'pki/ca.crt'));
    readCredentials();
    collector = await startCollector(
      {
        broker: {
          host: '127.0.0.1',
          port,
          passwordFile: join(dir, 'enroll/mosquitto/passwd'),
          tls: { cert: join(dir, 'pki/server.crt'), key: join(dir, 'pki/server.key') },
        },
        pointsFile: join(dir, 'points.lp'),
        wal: { dir: join(dir, 'wal'), fsyncMs: 20 },
        http: { enabled: false },
      },
      { observers: [w.observer], logger: createLogger('test', 'info', log.stream) },
    );
    await waitFor(
      'the collector on its own broker',
      async () => collector.counters().brokerConnected,
      10_000,
    );
  }, 60_000);

  afterAll(async () => {
    await collector?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous clients, wrong passwords, unknown names and plaintext', async () => {
    const anonymous = await connectError(tlsUrl, { ca });
    expect(anonymous.message).toMatch(/Not authorized/i);
    const wrong = await connectError(tlsUrl, { ca, username: UAI_A, password: 'not-the-password' });
    expect(wrong.message).toMatch(/Bad username or password/i);
    const unknown = await connectError(tlsUrl, { ca, username: '0010001W', password: passwords[UAI_A] });
    expect(unknown.message).toMatch(/Bad username or password/i);
    const plain = await connectError(tlsUrl.replace('mqtts:', 'mqtt:'), school(UAI_A));
    expect((plain as NodeJS.ErrnoException).code ?? plain.message).toMatch(
      /ECONNRESET|EPIPE|closed before CONNACK/,
    );
  });

  it("lets a school publish under its own UAI; one under another's closes its connection and reaches no one", async () => {
    const a = await connect(tlsUrl, school(UAI_A));
    await delivered(a, UAI_A, 10, w.seen);
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(metricsTopic(UAI_B, 'box'), batch(UAI_B, 666), { qos: 1 });
    await closed;
    // B's own message, sent after A's forgery was refused: once it is in, the forgery would have been too.
    await delivered(await connect(tlsUrl, school(UAI_B)), UAI_B, 11, w.seen);
    expect(w.seen).not.toContain(`${UAI_B} 666`);
    expect(collector.counters().embeddedBroker?.refused['publish_denied']).toBeGreaterThanOrEqual(1);
    expect(
      log.lines.some((l) => l.includes('publish_denied') && l.includes(metricsTopic(UAI_B, 'box'))),
    ).toBe(true);
  });

  it("refuses a school whose will would land on another school's status", async () => {
    const will = {
      topic: statusTopic(UAI_B, 'box'),
      payload: Buffer.from('{"state":"offline"}'),
      qos: 1 as const,
      retain: true,
    };
    const err = await connectError(tlsUrl, school(UAI_A, { will }));
    expect(err.message).toMatch(/Not authorized/i);
    const own = await connect(tlsUrl, school(UAI_A, { will: { ...will, topic: statusTopic(UAI_A, 'box') } }));
    expect(own.connected).toBe(true);
  });

  it('lets a school read nothing, not even its own topics', async () => {
    const a = await connect(tlsUrl, school(UAI_A));
    const read: string[] = [];
    a.on('message', (topic) => read.push(topic));
    // Each filter refused (SUBACK 0x80, which mqtt.js reports as an error); the connection stays.
    for (const filter of ['vigie/v1/#', `vigie/v1/${UAI_A}/#`, '#'])
      await expect(a.subscribeAsync(filter, { qos: 1 }), filter).rejects.toThrow(/Subscribe error/);
    expect(a.connected).toBe(true);
    const b = await connect(tlsUrl, school(UAI_B));
    await delivered(b, UAI_B, 20, w.seen);
    // A second connection under A's account would replace this one (one per account): A itself publishes.
    await delivered(a, UAI_A, 21, w.seen);
    expect(read).toEqual([]);
  });

  it("lets no one take the collector's client id: not a school, not the collector's enrolled name", async () => {
    for (const opts of [
      school(UAI_A, { clientId: 'vigie-collector' }),
      { ca, username: 'vigie-collector', password: collectorPassword, clientId: 'vigie-collector' },
      { ca, username: 'vigie-collector', password: collectorPassword, clientId: 'a-reader' },
      { ca, clientId: 'vigie-collector' },
    ]) {
      const err = await connectError(tlsUrl, opts);
      expect(err.message, JSON.stringify({ ...opts, ca: undefined })).toMatch(/Not authorized/i);
    }
    await delivered(await connect(tlsUrl, school(UAI_A)), UAI_A, 30, w.seen);
    expect(w.drops()).toBe(0);
  });

  it("lets no school knock another's connection off by taking its client id", async () => {
    const b = await connect(tlsUrl, school(UAI_B));
    let bClosed = false;
    b.on('close', () => {
      bClosed = true;
    });
    // A asks for B's client id; like Mosquitto's use_username_as_clientid, the broker gives it A's name.
    const a = await connect(tlsUrl, school(UAI_A, { clientId: `vigie-${UAI_B}-box` }));
    await delivered(a, UAI_A, 40, w.seen);
    await delivered(b, UAI_B, 41, w.seen);
    expect(bClosed).toBe(false);
  });

  it('takes a rotated password without a restart; a bad line in the file costs that line only', async () => {
    const old = passwords[UAI_A]!;
    enrollSchools(dir, tlsUrl, join(dir, 'pki/ca.crt'), [UAI_A]);
    readCredentials();
    appendFileSync(join(dir, 'enroll/mosquitto/passwd'), 'not a password line\n');
    await waitFor(
      'the old password refused',
      async () =>
        /Bad username/i.test((await connectError(tlsUrl, school(UAI_A, { password: old }))).message),
      10_000,
      250,
    );
    await delivered(await connect(tlsUrl, school(UAI_A)), UAI_A, 50, w.seen);
    await delivered(await connect(tlsUrl, school(UAI_B)), UAI_B, 51, w.seen);
    const lines = readFileSync(join(dir, 'enroll/mosquitto/passwd'), 'utf8').trimEnd().split('\n').length;
    expect(log.lines.some((l) => l.includes(`passwd:${lines}: `) && l.includes('line ignored'))).toBe(true);
    expect(collector.counters().embeddedBroker).toMatchObject({ accounts: 3, passwordFileProblems: 1 });
  });
});

describe('beyond loopback without accounts', () => {
  it('`vigie collector` refuses to start, says what to set, and exits 2', async () => {
    const dir = tempDir('embedded-exposed');
    const config = join(dir, 'vigie.yaml');
    writeFileSync(
      config,
      stringify({
        collector: {
          broker: { host: '0.0.0.0', port: 0 },
          pointsFile: join(dir, 'points.lp'),
          wal: { dir: join(dir, 'wal') },
          http: { enabled: false },
        },
      }),
    );
    const proc = spawn(process.execPath, [join(REPO, 'bin/vigie.js'), 'collector', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let code: number | null = null;
    let ended = false;
    proc.once('exit', (c) => {
      code = c;
      ended = true;
    });
    try {
      await waitFor(
        'the collector to give up',
        async () => {
          if (!ended && /"msg":"embedded MQTT broker listening"/.test(stderr)) throw new GiveUp('it started');
          return ended;
        },
        60_000,
        200,
      );
    } finally {
      if (!ended) proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    expect(code).toBe(2);
    expect(stderr).toContain('collector.broker.passwordFile');
    expect(stderr).toContain('collector.broker.tls');
    expect(stderr).toContain('"0.0.0.0" is beyond loopback');
    expect(stderr).toContain('vigie enroll');
    expect(stderr).toContain('127.0.0.1');
  }, 90_000);
});
