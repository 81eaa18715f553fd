// The stack's alertmanager.yml in the real Alertmanager: a school offline silences that school's
// other alerts (the collector's labels: alertname vigie_<kind>, uai), not another school's.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon, freePort, tempDir, waitFor } from '../harness/daemon.ts';
import { REPO, UAI_A, UAI_B } from './deploy-pki.ts';

let daemon: Daemon;
let url: string;

interface ListedAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}
const listed = async (): Promise<ListedAlert[]> => (await fetch(`${url}/api/v2/alerts`)).json() as never;

beforeAll(async () => {
  const dir = tempDir('deploy-alertmanager');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  daemon = new Daemon({
    name: 'alertmanager',
    binary: 'prometheus-alertmanager',
    args: [
      `--config.file=${join(REPO, 'deploy/alertmanager/alertmanager.yml')}`,
      `--storage.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    dir,
    ready: async () => (await fetch(`${url}/-/ready`)).status === 200,
  });
  await daemon.start();
}, 60_000);

afterAll(async () => {
  await daemon?.dispose();
});

describe('alertmanager.yml', () => {
  it("inhibits a school's other alerts while it is offline, and only that school's", async () => {
    const alert = (kind: string, uai: string) => ({
      labels: { alertname: `vigie_${kind}`, uai, commune: 'Vienne', severity: 'critical', source: 'vigie' },
      annotations: { summary: `${kind} ${uai}` },
      startsAt: new Date().toISOString(),
    });
    const res = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert('school_offline', UAI_A),
        alert('ap_down', UAI_A),
        alert('ap_down', UAI_B),
      ]),
    });
    expect(res.status).toBe(200);
    const state = (all: ListedAlert[], kind: string, uai: string) =>
      all.find((a) => a.labels['alertname'] === `vigie_${kind}` && a.labels['uai'] === uai)?.status.state;
    await waitFor(
      'the inhibition to apply',
      async () => state(await listed(), 'ap_down', UAI_A) === 'suppressed',
      15_000,
      200,
    );
    const all = await listed();
    expect(state(all, 'school_offline', UAI_A)).toBe('active');
    expect(state(all, 'ap_down', UAI_B)).toBe('active');
  });
});
