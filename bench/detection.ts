// Time from `kill -9` of a school's agent to the offline alert at the webhook, over N runs, on real
// Mosquitto and InfluxDB with the collector's ingest, presence and alerts in process.
// Usage: npm run bench:detection [-- --runs 20 --keepalive 5 --grace 10]
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { resolveCollectorConfig } from '../collector/config.ts';
import { startPresenceAndAlerts } from '../collector/presence-and-alerts.ts';
import { startCollector } from '../collector/service.ts';
import { createLogger } from '../shared/log.ts';
import type { School } from '../shared/registry.ts';
import { uaiCheckLetter } from '../shared/uai.ts';
import { collectorSection } from '../test/harness/collector.ts';
import { waitFor } from '../test/harness/daemon.ts';
import { startInfluxdb } from '../test/harness/influxdb.ts';
import { startMosquitto } from '../test/harness/mosquitto.ts';
import { startWebhookReceiver } from '../test/harness/webhook.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    keepalive: { type: 'string', default: '5' },
    grace: { type: 'string', default: '10' },
  },
});
const RUNS = Number(values.runs);
const KEEPALIVE_S = Number(values.keepalive);
const GRACE_S = Number(values.grace);
const STANDIN = resolve(import.meta.dirname, '../test/integration/alerts-standin.ts');

const uais = Array.from({ length: RUNS }, (_, i) => {
  const d = String(694001 + i).padStart(7, '0');
  return d + uaiCheckLetter(d);
});
const schools = new Map<string, School>(
  uais.map((uai, i) => [
    uai,
    {
      uai,
      name: `École ${i + 1}`,
      commune: `Commune ${i}`,
      isp: `ISP ${i}`,
      lat: 45.7,
      lon: 4.8,
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'always',
    } as School,
  ]),
);

const [broker, influx, hook] = await Promise.all([startMosquitto(), startInfluxdb(), startWebhookReceiver()]);
const log = createLogger('bench', 'silent');
const config = resolveCollectorConfig(
  collectorSection({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database: 'bench_detection',
    extra: {
      http: { enabled: false },
      presence: { intervalSeconds: 1, tickMs: 50, rebuildFromInflux: false },
      alerts: {
        graceSeconds: GRACE_S,
        hours: {
          always: Object.fromEntries(
            ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
          ),
        },
        channels: { webhooks: [{ url: hook.url, retries: 2 }] },
      },
    },
  }),
);
const { presence, alerts } = config;
let pa: ReturnType<typeof startPresenceAndAlerts> | undefined;
const collector = await startCollector(config, {
  logger: log,
  schools,
  observers: [
    (points) => {
      pa = startPresenceAndAlerts({ presence, alerts, schools, points, log });
      return pa.observer;
    },
  ],
});
await waitFor('collector connected', async () => collector.counters().brokerConnected);

async function standin(uai: string): Promise<ChildProcess> {
  const spec = {
    url: broker.url,
    schools: [uai],
    agent: 'box',
    keepaliveS: KEEPALIVE_S,
    intervalMs: 1000,
    seqStart: 0,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', STANDIN, JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && ok());
    child.once('exit', (code) => fail(new Error(`stand-in exited with ${code}`)));
  });
  return child;
}

const times: number[] = [];
try {
  for (const uai of uais) {
    const child = await standin(uai);
    await waitFor('online', async () => pa?.monitor.fleet.schools.get(uai)?.state === 'online', 20_000, 20);
    // Land the kill anywhere within a heartbeat interval, as a real power cut would.
    await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1000));
    const before = hook.received.length;
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await waitFor(
      'the offline alert',
      async () => hook.received.slice(before).some((r) => (r.body as { uai?: string }).uai === uai),
      (KEEPALIVE_S * 1.5 + GRACE_S) * 1000 + 30_000,
      5,
    );
    const at = hook.received.slice(before).find((r) => (r.body as { uai?: string }).uai === uai)!.at;
    times.push(at - killedAt);
    process.stdout.write(`run ${times.length}/${RUNS}: ${at - killedAt} ms\n`);
  }
} finally {
  await pa?.stop();
  await collector.stop();
  await Promise.all([broker.daemon.dispose(), influx.daemon.dispose(), hook.close()]);
}

const sorted = [...times].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
process.stdout.write(
  `\nkill -9 → webhook, ${RUNS} runs, MQTT keepalive ${KEEPALIVE_S} s, grace ${GRACE_S} s ` +
    `(bound keepalive × 1.5 + grace = ${KEEPALIVE_S * 1.5 + GRACE_S} s)\n` +
    `p50 ${pct(50)} ms   p95 ${pct(95)} ms   min ${sorted[0]} ms   max ${sorted.at(-1)} ms\n` +
    'The broker sees the socket close at once on kill -9 and publishes the will; the alert then waits for\n' +
    'the grace, counted from the last batch received (up to one heartbeat before the kill).\n',
);
