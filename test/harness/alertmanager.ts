// A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on free loopback ports, clustering
// off, routing everything to a webhook the test provides.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, freePort, tempDir } from './daemon.ts';

export interface AlertmanagerHandle {
  daemon: Daemon;
  url: string;
  /** GET /api/v2/alerts (active, silenced and inhibited included). */
  alerts(): Promise<
    { labels: Record<string, string>; status: { state: string }; startsAt: string; endsAt: string }[]
  >;
}

export async function startAlertmanager(receiverUrl: string): Promise<AlertmanagerHandle> {
  const dir = tempDir('alertmanager');
  const port = await freePort();
  const config = `
route:
  receiver: test
  group_by: ['alertname', 'uai']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: '${receiverUrl}'
        send_resolved: true
`;
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, config);
  const url = `http://127.0.0.1:${port}`;
  const daemon = new Daemon({
    name: 'alertmanager',
    binary: 'prometheus-alertmanager',
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    dir,
    ready: async () => (await fetch(`${url}/-/ready`)).status === 200,
  });
  await daemon.start();
  return {
    daemon,
    url,
    alerts: async () => (await (await fetch(`${url}/api/v2/alerts`)).json()) as never,
  };
}
