// The publisher against the real Mosquitto over TLS with username/password: birth `online`
// retained on connect, metrics at QoS 1, a retained `offline` (graceful) on stop; a wrong password
// or an untrusted certificate keeps the agent measuring and retrying, never crashing.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { AgentFile } from '../../agent/config.ts';
import type { Probe } from '../../agent/probes/contract.ts';
import { Spool } from '../../agent/spool.ts';
import { parseConfigText } from '../../shared/config.ts';
import type { EventMessage, StatusMessage } from '../../shared/schemas.ts';
import { eventsTopic, metricsTopic, statusTopic } from '../../shared/topics.ts';
import { decodeEvent, decodeMetrics, decodeStatus } from '../../shared/validate.ts';
import { freePort, requireBinary, tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const UAI = '0690001B';
let dir: string;
let broker: MosquittoHandle;
let url: string;

function openssl(...args: string[]): void {
  execFileSync(requireBinary('openssl'), args, { cwd: dir, stdio: 'pipe' });
}

/** A test probe: one ping sample a round. */
const tick: Probe = {
  kind: 'ping',
  config: {},
  async run(ctx) {
    return [{ probe: 'ping', t: ctx.now(), target: 'gw', sent: 10, received: 10, lossPct: 0 }];
  },
};

/** A test probe that throws every round. */
const broken: Probe = {
  kind: 'http',
  config: {},
  async run() {
    throw new Error('socket hang up');
  },
};

beforeAll(async () => {
  dir = tempDir('agent-tls');
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=vigie test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=some other CA',
    '-keyout',
    'other.key',
    '-out',
    'other.crt',
  );
  execFileSync(
    requireBinary('mosquitto_passwd'),
    ['-b', '-c', join(dir, 'passwd'), 'school-0690001B', 's3cret'],
    { stdio: 'pipe' },
  );
  execFileSync(requireBinary('mosquitto_passwd'), ['-b', join(dir, 'passwd'), 'watcher', 'w4tch'], {
    stdio: 'pipe',
  });
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  const port = await freePort();
  broker = await startMosquitto({
    port,
    listener: false,
    extraConfig: [
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.crt')}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
    ].join('\n'),
  });
  url = `mqtts://127.0.0.1:${port}`;
});

afterAll(async () => {
  await broker?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function makeAgent(id: string, mqttOverrides: Record<string, unknown>) {
  const { config } = parseConfigText(
    'test',
    JSON.stringify({
      agent: {
        uai: UAI,
        id,
        mqtt: {
          url,
          ca: join(dir, 'ca.crt'),
          username: 'school-0690001B',
          password: 's3cret',
          reconnectMinS: 0.2,
          reconnectMaxS: 0.5,
          ...mqttOverrides,
        },
        spool: { dir: join(dir, `spool-${id}`) },
        batchIntervalS: 0.2,
      },
    }),
    AgentFile,
    {},
  );
  const lines: Array<{ msg: string; err?: string; broker?: string; level: number }> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { config: config.agent, log, lines };
}

const watcher = () =>
  mqtt.connectAsync(url, {
    ca: readFileSync(join(dir, 'ca.crt')),
    username: 'watcher',
    password: 'w4tch',
    reconnectPeriod: 0,
  });

describe('agent publisher over TLS with a password', () => {
  it('says online (retained), publishes batches, and says offline (graceful, retained) on stop', async () => {
    const { config, log } = makeAgent('tls-ok', {});
    const sub = await watcher();
    const statuses: StatusMessage[] = [];
    const seqs: number[] = [];
    const events: EventMessage[] = [];
    sub.on('message', (topic, payload) => {
      if (topic === statusTopic(UAI, 'tls-ok')) {
        const s = decodeStatus(payload);
        if (s.ok) statuses.push(s.value);
      } else if (topic === eventsTopic(UAI, 'tls-ok')) {
        const e = decodeEvent(payload);
        if (e.ok) events.push(e.value);
      } else {
        const b = decodeMetrics(payload);
        if (b.ok) seqs.push(b.value.seq);
      }
    });
    await sub.subscribeAsync(
      [statusTopic(UAI, 'tls-ok'), metricsTopic(UAI, 'tls-ok'), eventsTopic(UAI, 'tls-ok')],
      { qos: 1 },
    );
    const spool = await Spool.open(config.spool.dir, config.spool.maxBytes);
    const agent = new Agent({
      config,
      spool,
      log,
      version: '9.9.9',
      probes: [
        { name: 'tick', probe: tick, intervalMs: 100, timeoutMs: 1000, jitter: 0 },
        { name: 'broken', probe: broken, intervalMs: 50, timeoutMs: 1000, jitter: 0 },
      ],
    });
    agent.start();
    await waitFor('batches over TLS', async () => seqs.length >= 3, 20_000);
    // A probe failing every round: one event when it starts failing, not one per round.
    await waitFor('the probe_error event', async () => events.some((e) => e.kind === 'probe_error'), 10_000);
    expect(statuses[0]).toMatchObject({
      state: 'online',
      reason: 'birth',
      version: '9.9.9',
      startedAt: agent.startedAt,
    });
    await agent.stop();
    await waitFor('the offline status', async () => statuses.at(-1)?.state === 'offline', 10_000);
    expect(statuses.at(-1)).toMatchObject({ state: 'offline', reason: 'graceful' });
    await sub.endAsync();

    // Retained: whoever looks later sees the agent went away cleanly.
    const late = await watcher();
    const retained = new Promise<StatusMessage>((resolve) =>
      late.on('message', (_t, payload, packet) => {
        const s = decodeStatus(payload);
        if (s.ok && packet.retain) resolve(s.value);
      }),
    );
    await late.subscribeAsync(statusTopic(UAI, 'tls-ok'), { qos: 1 });
    expect(await retained).toMatchObject({ state: 'offline', reason: 'graceful' });
    await late.endAsync();
    expect(events.map((e) => e.kind)).toEqual(['started', 'probe_error', 'stopping']);
    expect(events[1]).toMatchObject({ data: { probe: 'broken', code: 'threw' } });
    // A graceful stop drains the spool: nothing left behind.
    expect(spool.stats.batches).toBe(0);
  }, 60_000);

  it('keeps measuring and retrying with a wrong password, says why, and stops cleanly', async () => {
    const { config, log, lines } = makeAgent('tls-badpass', { password: 'nope' });
    const spool = await Spool.open(config.spool.dir, config.spool.maxBytes);
    const agent = new Agent({
      config,
      spool,
      log,
      version: 't',
      probes: [{ name: 'tick', probe: tick, intervalMs: 100, timeoutMs: 1000, jitter: 0 }],
    });
    agent.start();
    await waitFor(
      'three refused attempts',
      // Issue 16: said in words the installer acts on, once per attempt (was a bare 'MQTT error').
      async () => lines.filter((l) => String(l.msg).startsWith('wrong password')).length >= 3,
      20_000,
    );
    await waitFor('batches spooled meanwhile', async () => spool.stats.batches >= 3, 20_000);
    await agent.stop();
    expect(agent.publisher?.stats.connects).toBe(0);
    expect(lines.find((l) => String(l.msg).startsWith('wrong password'))?.broker).toMatch(
      /Not authorized|Bad username or password/i,
    );
  }, 60_000);

  it('refuses a broker whose certificate its CA did not sign', async () => {
    const { config, log, lines } = makeAgent('tls-badca', { ca: join(dir, 'other.crt') });
    const spool = await Spool.open(config.spool.dir, config.spool.maxBytes);
    const agent = new Agent({
      config,
      spool,
      log,
      version: 't',
      probes: [{ name: 'tick', probe: tick, intervalMs: 100, timeoutMs: 1000, jitter: 0 }],
    });
    agent.start();
    await waitFor('a TLS refusal', async () => lines.some((l) => l.msg === 'MQTT error'), 20_000);
    await agent.stop();
    expect(agent.publisher?.stats.connects).toBe(0);
    expect(lines.find((l) => l.msg === 'MQTT error')?.err).toMatch(
      /certificate|self.signed|unable to verify/i,
    );
  }, 60_000);
});
