// Zero loss across a broker outage and a kill -9 of the agent: the real CLI publishes a batch a
// second to the real Mosquitto (persistence on); a persistent QoS 1 subscriber must end up with
// every sequence number the agent ever assigned, each with the time it was first given.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { decodeMetrics, decodeStatus } from '../../shared/validate.ts';
import { agentCli, exited } from '../harness/agent-cli.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const UAI = '0690001B';
const AGENT = 'zero-loss';

let broker: MosquittoHandle;
let dir: string;
let sub: MqttClient;
let agent: ChildProcess | null = null;
const firstT = new Map<number, number>();
const mismatchedReplays: string[] = [];
const statuses: Array<{ state: string; reason?: string | undefined }> = [];

const missingBelow = (n: number) => [...Array(n).keys()].filter((s) => !firstT.has(s));

beforeAll(async () => {
  broker = await startMosquitto();
  dir = tempDir('agent-zero-loss');
  sub = await mqtt.connectAsync(broker.url, {
    clientId: 'zero-loss-subscriber',
    clean: false,
    reconnectPeriod: 500,
  });
  sub.on('message', (topic, payload) => {
    if (topic === statusTopic(UAI, AGENT)) {
      const decoded = decodeStatus(payload);
      if (decoded.ok) statuses.push({ state: decoded.value.state, reason: decoded.value.reason });
      return;
    }
    const decoded = decodeMetrics(payload);
    if (!decoded.ok) throw new Error(`agent sent an invalid batch: ${decoded.error}`);
    const { seq, t } = decoded.value;
    const seen = firstT.get(seq);
    if (seen === undefined) firstT.set(seq, t);
    else if (seen !== t) mismatchedReplays.push(`seq ${seq}: t ${seen} then ${t}`);
  });
  await sub.subscribeAsync([metricsTopic(UAI, AGENT), statusTopic(UAI, AGENT)], { qos: 1 });
});

afterAll(async () => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  await sub?.endAsync(true);
  await broker?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('agent zero loss', () => {
  it('delivers every sequence number across a 60 s broker outage and a kill -9', async () => {
    const cli = agentCli(dir, {
      uai: UAI,
      id: AGENT,
      mqtt: { url: broker.url, reconnectMinS: 0.2, reconnectMaxS: 2, keepaliveS: 5 },
    });
    const { logTail, nextSeq } = cli;

    agent = cli.start();
    await waitFor('the first batches', async () => firstT.size >= 5, 30_000).catch((err) => {
      throw new Error(`${err.message}\n${logTail()}`);
    });

    await broker.daemon.stop();
    await sleep(60_000);
    await broker.daemon.start();
    // The agent kept measuring while the broker was away: the backlog replays once it is back.
    await waitFor(
      'the outage backlog',
      async () => {
        const n = nextSeq();
        // A batch a second through the 60 s outage: all of it spooled, then replayed.
        return n > 60 && missingBelow(n).length === 0;
      },
      60_000,
    ).catch((err) => {
      throw new Error(`${err.message}; missing ${missingBelow(nextSeq()).slice(0, 20)}\n${logTail()}`);
    });

    agent.kill('SIGKILL');
    await exited(agent);
    const beforeRestart = nextSeq();
    agent = cli.start();
    await waitFor('batches after the restart', async () => nextSeq() >= beforeRestart + 5, 30_000);
    agent.kill('SIGTERM');
    expect(await exited(agent)).toBe(0);

    const total = nextSeq();
    await waitFor('every batch', async () => missingBelow(total).length === 0, 30_000).catch((err) => {
      throw new Error(`${err.message}; missing ${missingBelow(total).slice(0, 20)}\n${logTail()}`);
    });
    expect(missingBelow(total)).toEqual([]);
    expect(Math.max(...firstT.keys())).toBe(total - 1);
    expect(mismatchedReplays).toEqual([]);
    // Batch times are strictly increasing with the sequence numbers, restarts included.
    const times = [...Array(total).keys()].map((s) => firstT.get(s)!);
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    // The kill -9 let the broker publish the will; the SIGTERM ended with a clean offline.
    await waitFor('the graceful offline', async () => statuses.at(-1)?.reason === 'graceful', 10_000);
    expect(statuses.some((s) => s.state === 'offline' && s.reason === 'will')).toBe(true);
    expect(statuses.filter((s) => s.state === 'online').length).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
