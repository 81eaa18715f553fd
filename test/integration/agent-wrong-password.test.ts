// An agent whose password the broker refuses (the stack's Mosquitto: TLS, enrolled accounts) says
// "wrong password" in words, once per connection attempt, instead of a bare "MQTT error".
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentCli, exited } from '../harness/agent-cli.ts';
import { freePort, tempDir, waitFor } from '../harness/daemon.ts';
import type { InfluxHandle } from '../harness/influxdb.ts';
import type { MosquittoHandle } from '../harness/mosquitto.ts';
import { enrollSchools, makePki, startStackPeers, UAI_A } from './deploy-pki.ts';

let dir: string;
let peers: [MosquittoHandle, InfluxHandle];
let tlsPort: number;

beforeAll(async () => {
  dir = tempDir('agent-wrong-password');
  chmodSync(dir, 0o755);
  tlsPort = await freePort();
  makePki(join(dir, 'pki'), 'localhost');
  enrollSchools(dir, `mqtts://localhost:${tlsPort}`, join(dir, 'pki/ca.crt'));
  peers = await startStackPeers(dir, tlsPort, await freePort());
}, 120_000);

afterAll(async () => {
  await Promise.all((peers ?? []).map((p) => p.daemon.dispose()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('says "wrong password" once per attempt when the broker refuses the credential', {
  timeout: 90_000,
}, async () => {
  const cli = agentCli(join(dir), {
    uai: UAI_A,
    id: 'box-1',
    mqtt: {
      url: `mqtts://localhost:${tlsPort}`,
      ca: join(dir, 'pki/ca.crt'),
      username: UAI_A,
      password: 'not-the-enrolled-one',
      reconnectMinS: 0.2,
      reconnectMaxS: 0.5,
    },
  });
  const child = cli.start();
  const count = (text: string) =>
    cli
      .log()
      .split('\n')
      .filter((l) => l.includes(text)).length;
  try {
    await waitFor(
      'three refused attempts',
      async () => count('reconnecting to the broker') >= 3,
      60_000,
      100,
    );
    const attempts = count('reconnecting to the broker');
    const said = count('wrong password');
    expect(said, cli.logTail()).toBeGreaterThanOrEqual(attempts);
    expect(said, cli.logTail()).toBeLessThanOrEqual(attempts + 1);
    expect(cli.log()).not.toContain('not-the-enrolled-one');
  } finally {
    child.kill('SIGTERM');
    await exited(child);
  }
});
