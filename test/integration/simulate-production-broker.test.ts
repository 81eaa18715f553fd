// `vigie simulate` against the stack's broker (TLS, one account per school, username as client id):
// it needs the site CA (--ca), gives each simulated agent its own school's account (--credentials),
// exits non-zero when no agent connects, and will not impersonate a registry's schools there unasked.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../harness/daemon.ts';
import type { InfluxHandle } from '../harness/influxdb.ts';
import type { MosquittoHandle } from '../harness/mosquitto.ts';
import { enrollSchools, makePki, REPO, startStackPeers } from './deploy-pki.ts';

let dir: string;
let peers: [MosquittoHandle, InfluxHandle];
let url: string;

const simulate = (args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin/vigie.js'), 'simulate', '--progress', '1', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });

beforeAll(async () => {
  dir = tempDir('simulate-prod');
  chmodSync(dir, 0o755);
  const tlsPort = await freePort();
  url = `mqtts://localhost:${tlsPort}`;
  makePki(join(dir, 'pki'), 'localhost');
  enrollSchools(dir, url, join(dir, 'pki/ca.crt'));
  peers = await startStackPeers(dir, tlsPort, await freePort());
}, 120_000);

afterAll(async () => {
  await Promise.all((peers ?? []).map((p) => p.daemon.dispose()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vigie simulate against a production broker', () => {
  const schools = () => join(dir, 'schools.yaml');
  const credentials = () => join(dir, 'enroll/credentials.json');

  it('connects every agent with the site CA, each under its own school account', { timeout: 150_000 }, () => {
    const summary = join(dir, 'summary.json');
    const r = simulate([
      ...['-n', '2', '-b', url, '--ca', join(dir, 'pki/ca.crt'), '--schools', schools()],
      ...['--credentials', credentials(), '--impersonate-registry-schools', '--interval', '1'],
      ...['--outages', '0', '--duration', '6', '--summary-json', summary],
    ]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    // Two agents sharing one account would kick each other off: both stay connected to the end.
    expect(s.connectedAtEnd).toBe(2);
    expect(s.connectionsLost).toBe(0);
    expect(s.batchesAcked).toBeGreaterThan(0);
  });

  it('exits non-zero when no agent connects (no CA: the certificate is refused)', {
    timeout: 150_000,
  }, () => {
    const r = simulate([
      ...['-n', '2', '-b', url, '--schools', schools(), '--credentials', credentials()],
      ...['--impersonate-registry-schools', '--outages', '0', '--duration', '4'],
    ]);
    expect(r.status, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toContain('no agent ever connected');
  });

  it("refuses a registry's schools over TLS unless told, and one username for several agents", () => {
    const real = simulate([
      ...['-n', '2', '-b', url, '--ca', join(dir, 'pki/ca.crt'), '--schools', schools()],
      ...['--credentials', credentials(), '--duration', '2'],
    ]);
    expect(real.status).toBe(2);
    expect(real.stderr).toContain('kick their real boxes off');
    const shared = simulate([
      '-n',
      '3',
      '-b',
      url,
      '--username',
      'sim',
      '--password',
      'x',
      '--duration',
      '2',
    ]);
    expect(shared.status).toBe(2);
    expect(shared.stderr).toContain('kick each other off');
  });
});
