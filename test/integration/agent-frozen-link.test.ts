// A link that goes silent without closing (a cut beyond the school router: no RST, no FIN) is the
// common case in the field. The agent's keepalive must notice, drop the connection, keep measuring
// into the spool and replay it once the link answers again, without ever crashing. A loopback TCP
// relay between the real agent and the real Mosquitto stalls both ways to play the silent link.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsTopic } from '../../shared/topics.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import { agentCli } from '../harness/agent-cli.ts';
import { freePort, sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const UAI = '0690002C';
const AGENT = 'frozen-link';

/** Relays TCP to the broker; `stall()` stops passing bytes both ways while keeping sockets open. */
class StallingRelay {
  private server: Server;
  private stalled = false;
  private pairs: [Socket, Socket][] = [];
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      const upstream = tcpConnect(this.target, '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.push(pair);
      const relay = (from: Socket, to: Socket) =>
        from.on('data', (chunk) => {
          if (!this.stalled) to.write(chunk);
        });
      relay(client, upstream);
      relay(upstream, client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.pairs = this.pairs.filter((p) => p !== pair);
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
  }

  async listen(): Promise<void> {
    this.port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  /** While stalled, bytes either way are dropped and new connections go nowhere: as through a cut. */
  stall(on: boolean): void {
    this.stalled = on;
  }

  close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let broker: MosquittoHandle;
let relay: StallingRelay;
let dir: string;
let sub: MqttClient;
let agent: ChildProcess | null = null;
const seen = new Set<number>();

const missingBelow = (n: number) => [...Array(n).keys()].filter((s) => !seen.has(s));

beforeAll(async () => {
  broker = await startMosquitto();
  relay = new StallingRelay(broker.port);
  await relay.listen();
  dir = tempDir('agent-frozen-link');
  sub = await mqtt.connectAsync(broker.url, { clientId: 'frozen-link-subscriber', clean: false });
  sub.on('message', (_topic, payload) => {
    const decoded = decodeMetrics(payload);
    if (!decoded.ok) throw new Error(`agent sent an invalid batch: ${decoded.error}`);
    seen.add(decoded.value.seq);
  });
  await sub.subscribeAsync(metricsTopic(UAI, AGENT), { qos: 1 });
});

afterAll(async () => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  await sub?.endAsync(true);
  await relay?.close();
  await broker?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('agent on a link that goes silent', () => {
  it('notices by keepalive, stays up, spools and replays every batch once the link answers', async () => {
    const cli = agentCli(dir, {
      uai: UAI,
      id: AGENT,
      mqtt: {
        url: `mqtt://127.0.0.1:${relay.port}`,
        keepaliveS: 5,
        connectTimeoutS: 3,
        reconnectMinS: 0.5,
        reconnectMaxS: 2,
      },
    });
    const { nextSeq, logTail } = cli;
    const logText = cli.log;
    agent = cli.start();

    await waitFor('the first batches', async () => seen.size >= 3, 30_000);
    relay.stall(true);
    // Publishes go unacknowledged while the keepalive (5 s, timing out at 1.5×) runs out.
    await waitFor(
      'the agent noticing the silent link',
      async () => logText().includes('connection to the broker lost'),
      30_000,
    ).catch((err) => {
      throw new Error(`${err.message}\n${logTail()}`);
    });
    await sleep(8_000); // reconnect attempts into the silent link time out too
    expect(agent.exitCode, `agent exited during the stall:\n${logTail()}`).toBeNull();
    relay.stall(false);

    const stalledUpTo = nextSeq();
    await waitFor(
      'every batch, replayed from the spool',
      async () => missingBelow(nextSeq()).length === 0 && seen.size > stalledUpTo,
      60_000,
    ).catch((err) => {
      throw new Error(`${err.message}; missing ${missingBelow(nextSeq()).slice(0, 20)}\n${logTail()}`);
    });
    expect(agent.exitCode).toBeNull();
    expect(logText()).not.toMatch(/TypeError|uncaught/i);
  }, 150_000);
});
