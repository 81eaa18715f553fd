// Bandwidth ground truth: two namespaces joined by a veth pair shaped to 8 Mbit/s each way with tc
// tbf. The speed-test server (collector/http/speedtest.ts) runs in one, the speedtest and wan probes
// in the other; the probes must measure the shaped rate within ±10 % and the box counters must see it.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../harness/daemon.ts';
import {
  createNetnsPair,
  execInNetns,
  type NetnsPair,
  nodeEvalArgs,
  shape,
  spawnInNetns,
} from '../harness/netns.ts';

const RATE_BPS = 8_000_000;
const ROOT = new URL('../../', import.meta.url).pathname;

let pair: NetnsPair;
let server: ChildProcess;
let serverOut = '';

beforeAll(async () => {
  pair = await createNetnsPair();
  await shape(pair.a, { rate: '8mbit' });
  await shape(pair.b, { rate: '8mbit' });
  server = spawnInNetns(
    pair.b.ns,
    process.execPath,
    nodeEvalArgs(`
      import Fastify from 'fastify';
      import { speedtestPlugin } from '${ROOT}collector/http/speedtest.ts';
      const app = Fastify();
      await app.register(speedtestPlugin, { prefix: '/speedtest', maxBytes: 50 * 1024 * 1024 });
      await app.listen({ host: '${pair.b.addr}', port: 8089 });
      console.log('ready');
    `),
  );
  server.stdout?.on('data', (d) => {
    serverOut += String(d);
  });
  server.stderr?.on('data', (d) => {
    serverOut += String(d);
  });
  await waitFor('speed-test server in its namespace', async () => serverOut.includes('ready'), 30_000);
}, 60_000);

afterAll(async () => {
  if (server?.pid) server.kill('SIGTERM');
  await pair?.destroy();
});

describe('speedtest and wan probes over an 8 Mbit/s shaped veth', () => {
  it('measure the shaped rate within ±10 % and the box counters see the traffic', async () => {
    const code = `
      import { SpeedtestProbe } from '${ROOT}agent/probes/speedtest.ts';
      import { WanProbe } from '${ROOT}agent/probes/wan.ts';
      import { resolveProbesConfig } from '${ROOT}agent/probes/config.ts';
      import { createLogger } from '${ROOT}shared/log.ts';
      const cfg = resolveProbesConfig({
        speedtest: { url: 'http://${pair.b.addr}:8089/speedtest', durationS: 6, warmupS: 1 },
        wan: { interfaces: ['${pair.a.dev}'] },
      });
      const log = createLogger('probe-test', 'warn');
      const ctx = { signal: new AbortController().signal, now: () => Date.now(), log };
      const wan = new WanProbe(cfg.wan);
      await wan.run(ctx);
      const speed = await new SpeedtestProbe(cfg.speedtest).measure(ctx);
      const after = await wan.run(ctx);
      console.log(JSON.stringify({ speed, wan: after, uptime: process.uptime() }));
    `;
    const r = await execInNetns(pair.a.ns, process.execPath, nodeEvalArgs(code), 90_000);
    expect(r.code, r.stderr).toBe(0);
    const { speed, wan, uptime } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.log(JSON.stringify({ speed, wan, uptime }));
    expect(speed.ok, JSON.stringify(speed)).toBe(true);
    expect(speed.downBps).toBeGreaterThan(RATE_BPS * 0.9);
    expect(speed.downBps).toBeLessThan(RATE_BPS * 1.1);
    expect(speed.upBps).toBeGreaterThan(RATE_BPS * 0.9);
    expect(speed.upBps).toBeLessThan(RATE_BPS * 1.1);

    // The wan rate is averaged over the whole probe window (both transfers plus start-up): its bytes,
    // rate × window, must account for what the speed test moved each way.
    expect(wan).toHaveLength(1);
    const box = wan[0];
    expect(box).toMatchObject({ source: 'box', iface: pair.a.dev });
    const windowS = speed.durationMs / 1000;
    expect((box.inBps * windowS) / 8).toBeGreaterThan(speed.downBytes * 0.9);
    expect((box.outBps * windowS) / 8).toBeGreaterThan(speed.upBytes * 0.9);
  }, 120_000);
});
