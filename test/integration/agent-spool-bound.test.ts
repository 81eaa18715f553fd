// The spool's bound with the broker away: the oldest batches go first, the drop is counted in the
// self probe's spoolDropped, logged, and announced on the events topic once the broker is back;
// the batches that survived replay in order.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.ts';
import { AgentFile } from '../../agent/config.ts';
import type { Probe } from '../../agent/probes/contract.ts';
import { resolveProbesConfig } from '../../agent/probes/index.ts';
import { SelfProbe } from '../../agent/probes/self.ts';
import { Spool } from '../../agent/spool.ts';
import { parseConfigText } from '../../shared/config.ts';
import type { Sample } from '../../shared/schemas.ts';
import { eventsTopic, metricsTopic } from '../../shared/topics.ts';
import { decodeEvent, decodeMetrics } from '../../shared/validate.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const UAI = '0690001B';
const AGENT = 'bounded';

let broker: MosquittoHandle;
let dir: string;
let sub: MqttClient;
const received: Array<{ seq: number; samples: Sample[] }> = [];
const events: Array<{ kind: string; data?: Record<string, unknown> }> = [];

/** A test probe writing ~6 KiB of ping samples a round while `bulkyOn`: a 64 KiB spool fills in a few rounds. */
let bulkyOn = true;
const bulky: Probe = {
  kind: 'ping',
  config: {},
  async run(ctx) {
    if (!bulkyOn) return [];
    return Array.from({ length: 40 }, (_, i) => ({
      probe: 'ping' as const,
      t: ctx.now(),
      target: `anchor-${i}-${'x'.repeat(100)}`,
      sent: 10,
      received: 10,
      lossPct: 0,
    }));
  },
};

beforeAll(async () => {
  broker = await startMosquitto();
  dir = tempDir('agent-spool-bound');
  sub = await mqtt.connectAsync(broker.url, { clientId: 'bounded-sub', clean: false, reconnectPeriod: 300 });
  sub.on('message', (topic, payload) => {
    if (topic === eventsTopic(UAI, AGENT)) {
      const ev = decodeEvent(payload);
      if (ev.ok) events.push({ kind: ev.value.kind, ...(ev.value.data ? { data: ev.value.data } : {}) });
      return;
    }
    const batch = decodeMetrics(payload);
    if (!batch.ok) throw new Error(batch.error);
    received.push({ seq: batch.value.seq, samples: batch.value.samples });
  });
  await sub.subscribeAsync([metricsTopic(UAI, AGENT), eventsTopic(UAI, AGENT)], { qos: 1 });
});

afterAll(async () => {
  await sub?.endAsync(true);
  await broker?.daemon.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('agent spool bound', () => {
  it('drops the oldest batches first past its limit, counts and reports it, and replays the rest', async () => {
    const { config } = parseConfigText(
      'test',
      JSON.stringify({
        agent: {
          uai: UAI,
          id: AGENT,
          mqtt: { url: broker.url, reconnectMinS: 0.2, reconnectMaxS: 0.5 },
          spool: { dir: join(dir, 'spool'), maxBytes: 65536 },
          batchIntervalS: 0.1,
        },
      }),
      AgentFile,
      {},
    );
    const agentConfig = config.agent;
    const logLines: Array<{ msg: string; dropped?: number }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
    const spool = await Spool.open(agentConfig.spool.dir, agentConfig.spool.maxBytes);
    const selfConfig = resolveProbesConfig({}).self;
    const self = new SelfProbe(selfConfig, { version: 'test', spoolStats: () => spool.stats });
    const agent = new Agent({
      config: agentConfig,
      spool,
      log,
      version: 'test',
      probes: [
        { name: 'bulky', probe: bulky, intervalMs: 50, timeoutMs: 1000, jitter: 0 },
        { name: 'self', probe: self, intervalMs: 100, timeoutMs: 1000, jitter: 0 },
      ],
    });

    await broker.daemon.stop();
    agent.start();
    await waitFor('the spool to drop batches', async () => spool.stats.dropped >= 10, 30_000);
    bulkyOn = false;
    await sleep(200);
    await agent.flush();
    const dropped = spool.stats.dropped;
    await broker.daemon.start();
    await waitFor('the spool_drop event', async () => events.some((e) => e.kind === 'spool_drop'), 30_000);
    await waitFor(
      'a self sample reporting the drops',
      async () =>
        received.some((b) => b.samples.some((s) => s.probe === 'self' && s.spoolDropped === dropped)),
      30_000,
    );

    await agent.stop();

    expect(spool.stats.bytes).toBeLessThanOrEqual(65536);
    const dropLines = logLines.filter((l) => l.msg === 'spool full: oldest batches dropped');
    expect(dropLines.length).toBeGreaterThan(0);
    // Once the broker was back, the spool drained and dropped nothing more.
    expect(spool.stats.dropped).toBe(dropped);
    expect(dropLines.reduce((n, l) => n + (l.dropped ?? 0), 0)).toBe(dropped);

    // Oldest first, and nothing was ever acknowledged before: exactly seq 0..dropped-1 went, every
    // later batch arrived.
    const seqs = [...new Set(received.map((b) => b.seq))].sort((a, b) => a - b);
    const last = seqs.at(-1)!;
    expect(seqs[0]).toBe(dropped);
    expect(seqs).toEqual(Array.from({ length: last - dropped + 1 }, (_, i) => dropped + i));
    const dropEvents = events.filter((e) => e.kind === 'spool_drop');
    const droppedSeqs = dropEvents.flatMap((e) =>
      Array.from(
        { length: Number(e.data!['lastSeq']) - Number(e.data!['firstSeq']) + 1 },
        (_, i) => Number(e.data!['firstSeq']) + i,
      ),
    );
    // Events queued while offline are bounded: the ones kept name only dropped batches, none that arrived.
    expect(droppedSeqs.length).toBeGreaterThan(0);
    expect(droppedSeqs.every((s) => s < dropped)).toBe(true);
  }, 120_000);
});
