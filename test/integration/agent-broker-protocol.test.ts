// What the agent's MQTT version buys and costs, against real brokers: with MQTT 5, Mosquitto says
// when its ACL refuses a batch (3.1.1 would acknowledge and drop it), so a misenrolled box keeps its
// batches and says why; against a broker that speaks 3.1.1 only (the collector's embedded aedes)
// the agent notices and delivers anyway.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../collector/embedded-broker.ts';
import { metricsTopic } from '../../shared/topics.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import { agentCli } from '../harness/agent-cli.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const UAI = '0690003D';
const AGENT = 'protocol';

let agent: ChildProcess | null = null;
let mosquitto: MosquittoHandle | null = null;
let aedes: EmbeddedBroker | null = null;
const dirs: string[] = [];

afterEach(async () => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  agent = null;
  await mosquitto?.daemon.dispose();
  mosquitto = null;
  await aedes?.close();
  aedes = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startAgent(url: string) {
  const dir = tempDir('agent-protocol');
  dirs.push(dir);
  const cli = agentCli(dir, { uai: UAI, id: AGENT, mqtt: { url, reconnectMinS: 0.2, reconnectMaxS: 1 } });
  agent = cli.start();
  return {
    ...cli,
    /** Batch files waiting in the spool. */
    spooled: () => readdirSync(join(dir, 'spool')).filter((n) => /^\d+\.json$/.test(n)).length,
  };
}

describe('agent and the MQTT version', () => {
  it('keeps its batches and says why when the broker ACL refuses its topic (MQTT 5)', async () => {
    const dir = tempDir('agent-protocol-acl');
    dirs.push(dir);
    // Anonymous clients may publish under another school only: as a box enrolled under the wrong UAI.
    writeFileSync(join(dir, 'acl'), 'topic write vigie/v1/0690004E/#\ntopic read vigie/v1/#\n');
    mosquitto = await startMosquitto({ extraConfig: `acl_file ${join(dir, 'acl')}` });
    const got: number[] = [];
    const sub = await mqtt.connectAsync(mosquitto.url, { clientId: 'protocol-sub' });
    sub.on('message', (_t, payload) => {
      const d = decodeMetrics(payload);
      if (d.ok) got.push(d.value.seq);
    });
    await sub.subscribeAsync(metricsTopic(UAI, AGENT), { qos: 1 });

    const a = startAgent(mosquitto.url);
    await waitFor('the refusal in the log', async () => a.log().includes('not authorized'), 30_000);
    await sleep(4_000);
    // Nothing went through, nothing was acknowledged away: every batch measured is still spooled.
    expect(got).toEqual([]);
    const next = a.nextSeq();
    expect(next).toBeGreaterThanOrEqual(4);
    // The batch being written may land between the two reads.
    expect(a.spooled()).toBeGreaterThanOrEqual(next);
    const entries = a
      .log()
      .split('\n')
      .filter((l) => l.includes('not authorized'));
    expect(entries[0]).toMatch(/check that the UAI and id in the config match its broker account/);
    // Backing off: far fewer refusals than seconds of retrying at the 0.2 s minimum.
    expect(entries.length).toBeLessThan(15);
    expect(agent?.exitCode).toBeNull();
    await sub.endAsync();
  }, 60_000);

  it('falls back to MQTT 3.1.1 for a broker that speaks only that, and delivers', async () => {
    aedes = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    const got = new Set<number>();
    const sub = await mqtt.connectAsync(aedes.url, { clientId: 'protocol-sub-v4' });
    sub.on('message', (_t, payload) => {
      const d = decodeMetrics(payload);
      if (d.ok) got.add(d.value.seq);
    });
    await sub.subscribeAsync(metricsTopic(UAI, AGENT), { qos: 1 });
    const a = startAgent(aedes.url);
    await waitFor('batches through the 3.1.1 broker', async () => got.size >= 3, 30_000);
    expect(a.log()).toContain('the broker speaks MQTT 3.1.1 only');
    await sub.endAsync();
  }, 60_000);
});
