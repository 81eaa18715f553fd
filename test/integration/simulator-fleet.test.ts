// Simulated agents through the real Mosquitto: births, wills, sequences and replay as a subscriber sees them.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../shared/registry.ts';
import type { EventMessage, MetricsBatch, StatusMessage } from '../../shared/schemas.ts';
import { parseTopic } from '../../shared/topics.ts';
import { decodeEvent, decodeMetrics, decodeStatus } from '../../shared/validate.ts';
import { DEFAULT_ROUND_OPTIONS } from '../../simulator/samples.ts';
import { Simulation, type SimulationOptions } from '../../simulator/simulation.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const registry = [...loadRegistry('examples/agglomeration.csv').values()];

interface Seen {
  statuses: StatusMessage[];
  batches: MetricsBatch[];
  events: EventMessage[];
}

/** A subscriber on every Vigie topic that decodes with the collector's decoders and files by school. */
class Observer {
  readonly bySchool = new Map<string, Seen>();
  readonly rejected: string[] = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      // Retained statuses are what earlier tests left behind; live ones arrive with retain unset.
      if (packet.retain) return;
      const parsed = parseTopic(topic);
      if (!parsed.ok) return void this.rejected.push(parsed.error);
      const seen = this.school(parsed.topic.uai);
      const decoded =
        parsed.topic.kind === 'metrics'
          ? decodeMetrics(payload)
          : parsed.topic.kind === 'status'
            ? decodeStatus(payload)
            : decodeEvent(payload);
      if (!decoded.ok) return void this.rejected.push(`${topic}: ${decoded.error}`);
      if (parsed.topic.kind === 'metrics') seen.batches.push(decoded.value as MetricsBatch);
      else if (parsed.topic.kind === 'status') seen.statuses.push(decoded.value as StatusMessage);
      else seen.events.push(decoded.value as EventMessage);
    });
  }

  static async start(url: string): Promise<Observer> {
    const client = await mqtt.connectAsync(url, { clientId: `sim-observer-${process.pid}-${Date.now()}` });
    const observer = new Observer(client);
    await client.subscribeAsync('vigie/v1/+/+/+', { qos: 1 });
    return observer;
  }

  school(uai: string): Seen {
    let seen = this.bySchool.get(uai);
    if (!seen) {
      seen = { statuses: [], batches: [], events: [] };
      this.bySchool.set(uai, seen);
    }
    return seen;
  }
}

let broker: MosquittoHandle;
let observer: Observer;
let sim: Simulation | null = null;

function options(agents: number, intervalMs: number): SimulationOptions {
  return {
    agents,
    schools: registry,
    brokerUrl: broker.url,
    seed: 11,
    intervalMs,
    outagesPerHour: 0,
    spoolMax: 1000,
    keepaliveS: 30,
    connectTimeoutMs: 10_000,
    connectRate: 500,
    maxPendingConnects: 100,
    rounds: DEFAULT_ROUND_OPTIONS,
  };
}

function expectContiguous(batches: MetricsBatch[]): void {
  const seqs = batches.map((b) => b.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i));
  for (let i = 1; i < batches.length; i++) expect(batches[i]!.t).toBeGreaterThan(batches[i - 1]!.t);
}

beforeAll(async () => {
  broker = await startMosquitto();
});
afterEach(async () => {
  await sim?.stop();
  sim = null;
  await observer?.client.endAsync();
});
afterAll(async () => {
  await broker?.daemon.dispose();
});

describe('simulated agents through Mosquitto', () => {
  it('announce themselves, publish valid batches without sequence gaps and sign off cleanly', async () => {
    observer = await Observer.start(broker.url);
    sim = new Simulation(options(40, 700));
    sim.start();
    const uais = sim.agents.map((a) => a.uai);
    expect(uais.slice(0, 30)).toEqual(registry.map((s) => s.uai));
    await waitFor(
      'every agent to deliver 3 batches',
      async () => uais.every((u) => (observer.bySchool.get(u)?.batches.length ?? 0) >= 3),
      30_000,
    );
    await sim.stop();
    await waitFor(
      'every agent to say offline',
      async () => uais.every((u) => observer.school(u).statuses.some((s) => s.state === 'offline')),
      15_000,
    );
    expect(observer.rejected).toEqual([]);
    for (const uai of uais) {
      const seen = observer.school(uai);
      expect(seen.statuses.map((s) => [s.state, s.reason])).toEqual([
        ['online', 'birth'],
        ['offline', 'graceful'],
      ]);
      expect(seen.events.map((e) => e.kind)).toEqual(['started']);
      expectContiguous(seen.batches);
      expect(seen.batches.every((b) => b.uai === uai && b.agent === 'sim-1')).toBe(true);
      const kinds = new Set(seen.batches.flatMap((b) => b.samples.map((s) => s.probe)));
      for (const k of ['ping', 'dns', 'http', 'wan', 'wifi', 'self']) expect(kinds).toContain(k);
    }
    // Every acked batch reached the subscriber; one in flight at the stop may arrive without its PUBACK counted.
    const delivered = uais.reduce((n, u) => n + observer.school(u).batches.length, 0);
    expect(delivered).toBeGreaterThanOrEqual(sim.counters.acked);
    expect(delivered).toBeLessThanOrEqual(sim.counters.batches);
    expect(sim.counters.acked).toBeGreaterThanOrEqual(3 * uais.length);

    // The birth and then the graceful offline were retained: a late subscriber reads the last one.
    const late = await mqtt.connectAsync(broker.url, { clientId: 'sim-late' });
    try {
      const got = new Promise<{ payload: Buffer; retain: boolean }>((resolve) =>
        late.once('message', (_t, payload, packet) => resolve({ payload, retain: packet.retain })),
      );
      await late.subscribeAsync(`vigie/v1/${uais[0]}/sim-1/status`, { qos: 1 });
      const { payload, retain } = await got;
      expect(retain).toBe(true);
      expect(decodeStatus(payload)).toMatchObject({
        ok: true,
        value: { state: 'offline', reason: 'graceful' },
      });
    } finally {
      await late.endAsync();
    }
  });

  it('fires the will on a WAN cut, then replays the gap with its original timestamps', async () => {
    observer = await Observer.start(broker.url);
    sim = new Simulation({ ...options(3, 400), schools: registry.slice(5) });
    sim.start();
    const [cutAgent, powerAgent] = sim.agents as [(typeof sim.agents)[0], (typeof sim.agents)[0]];
    const cut = observer.school(cutAgent.uai);
    const power = observer.school(powerAgent.uai);
    await waitFor(
      'batches from both',
      async () => cut.batches.length >= 2 && power.batches.length >= 2,
      20_000,
    );

    const cutFrom = Date.now();
    cutAgent.forceOutage('wan-cut', 2500);
    powerAgent.forceOutage('power-cut', 2500);
    await waitFor(
      'both wills',
      async () => [cut, power].every((s) => s.statuses.some((m) => m.reason === 'will')),
      10_000,
    );
    const cutTo = cutFrom + 2500;
    await waitFor(
      'both back online with new batches',
      async () =>
        [cut, power].every(
          (s) =>
            s.statuses.filter((m) => m.reason === 'birth').length === 2 && s.batches.at(-1)!.t > cutTo + 500,
        ),
      20_000,
    );
    expect(observer.rejected).toEqual([]);
    for (const s of [cut, power]) {
      expect(s.statuses.map((m) => [m.state, m.reason])).toEqual([
        ['online', 'birth'],
        ['offline', 'will'],
        ['online', 'birth'],
      ]);
      expectContiguous(s.batches);
    }

    // The WAN-cut box kept measuring: its gap arrives late, with the internet unreachable inside it.
    const inGap = cut.batches.filter((b) => b.t >= cutFrom && b.t < cutTo);
    expect(inGap.length).toBeGreaterThanOrEqual(4);
    for (const b of inGap) {
      const anchors = b.samples.filter((x) => x.probe === 'ping' && x.role === 'anchor');
      expect(anchors.every((x) => x.probe === 'ping' && x.lossPct === 100)).toBe(true);
    }
    const secondBirth = cut.statuses.filter((m) => m.reason === 'birth')[1]!;
    expect(secondBirth.t).toBeGreaterThanOrEqual(inGap.at(-1)!.t);
    expect(secondBirth.startedAt).toBe(cut.statuses[0]!.startedAt);
    expect(sim.counters.replayed).toBeGreaterThanOrEqual(inGap.length);

    // The powered-off box measured nothing and came back as a new process.
    expect(power.batches.filter((b) => b.t > cutFrom + 50 && b.t < cutTo).length).toBe(0);
    const births = power.statuses.filter((m) => m.reason === 'birth');
    expect(births[1]!.startedAt!).toBeGreaterThanOrEqual(cutTo - 50);
    expect(power.events.map((e) => e.kind)).toEqual(['started', 'started']);
    expect(sim.counters.willsTriggered).toBe(2);
  });
});

describe('vigie simulate', () => {
  function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/vigie.js', 'simulate', ...args], { stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('runs a fleet from the command line and reports what the broker acknowledged', async () => {
    observer = await Observer.start(broker.url);
    const dir = tempDir('simulate');
    const summaryFile = join(dir, 'summary.json');
    try {
      const { code, stdout, stderr } = await run(
        [
          '--agents',
          '8',
          '--interval',
          '0.5',
          '--broker',
          broker.url,
          '--schools',
          'examples/agglomeration.csv',
          '--seed',
          '3',
          '--duration',
          '3',
          '--progress',
          '1',
        ].concat(['--summary-json', summaryFile]),
      );
      expect(stderr).not.toMatch(/error|vigie simulate:/i);
      expect(code).toBe(0);
      expect(stdout).toMatch(/simulating 8 school agents \(8 from examples\/agglomeration.csv, 0 made up\)/);
      expect(stdout).toMatch(/8\/8 agents connected/);
      const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
      expect(summary.agents).toBe(8);
      expect(summary.batchesAcked).toBeGreaterThan(8);
      await waitFor(
        'the observer to see every acked batch',
        async () =>
          [...observer.bySchool.values()].reduce((n, s) => n + s.batches.length, 0) >= summary.batchesAcked,
        10_000,
      );
      expect([...observer.bySchool.keys()].sort()).toEqual(
        registry
          .slice(0, 8)
          .map((s) => s.uai)
          .sort(),
      );
      expect(observer.rejected).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad input with a clear message and exit code 2', async () => {
    const bad = await run(['--agents', 'ten', '--broker', broker.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--agents must be a whole number > 0, got "ten"/);
    const url = await run(['--agents', '1', '--broker', '127.0.0.1:1883']);
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/--broker must be a URL/);
  });
});
