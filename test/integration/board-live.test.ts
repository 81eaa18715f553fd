// The status board in Debian's headless Chromium, fed by the real collector, presence engine,
// Mosquitto and InfluxDB: a school whose agent dies (no clean disconnect: the broker publishes its
// will) turns red within seconds without a reload; with the live stream blocked the board polls.
import { mkdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import mqtt, { type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import type { TSchema } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsConfig } from '../../collector/alerts/config.ts';
import { HttpConfig } from '../../collector/http/config.ts';
import { HttpFrontend, type HttpHandle } from '../../collector/http/frontend.ts';
import { PresenceConfig } from '../../collector/presence/config.ts';
import { type PresenceAndAlerts, startPresenceAndAlerts } from '../../collector/presence-and-alerts.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { createLogger } from '../../shared/log.ts';
import type { School } from '../../shared/registry.ts';
import type { MetricsBatch } from '../../shared/schemas.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { type Uai, uaiCheckLetter } from '../../shared/uai.ts';
import { addVigieFormats } from '../../shared/validate.ts';
import { type ChromiumHandle, startChromium } from '../harness/chromium.ts';
import { collectorSection } from '../harness/collector.ts';
import { waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const ARTIFACTS = 'test-artifacts';
const TOKEN = 'board-read-token-0000001';
const uai = (digits: string) => `${digits}${uaiCheckLetter(digits)}` as Uai;

const SCHOOLS: [string, string, string, number][] = [
  ['0692001', 'École maternelle Jean Macé', 'Villeurbanne', 100],
  ['0692002', 'École élémentaire Jules Ferry', 'Villeurbanne', 100],
  ['0692003', 'Groupe scolaire Louis Pasteur', 'Villeurbanne', 50],
  ['0692004', 'École Saint-Exupéry', 'Vaulx-en-Velin', 100],
  ['0692005', 'École Anatole France', 'Vaulx-en-Velin', 20],
  ['0382006', 'École du Centre', 'Vienne', 100],
  ['0382007', 'École des Tanneurs', 'Vienne', 30],
  ['0382008', 'École de la Gare', 'Vienne', 100],
];
const registry = new Map<string, School>(
  SCHOOLS.map(([digits, name, commune, down]) => {
    const u = uai(digits);
    return [
      u,
      {
        uai: u,
        name,
        commune,
        lat: 45.7,
        lon: 4.9,
        isp: 'Orange',
        contractedDownMbps: down,
        contractedUpMbps: down / 5,
        hours: 'school',
      },
    ];
  }),
);
const uais = [...registry.keys()] as Uai[];
const VICTIM = uais[3]!; // École Saint-Exupéry
const DEGRADED = uais[6]!;
const SILENT = uais[7]!; // never heard of: unknown

function resolve<S extends TSchema>(schema: S, value: unknown) {
  const copy = structuredClone(value);
  const validate = addVigieFormats(new Ajv({ useDefaults: true, strict: false })).compile(schema);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as never;
}

let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorHandle;
let pa: PresenceAndAlerts;
let api: HttpHandle;
let chromium: ChromiumHandle;
const agents = new Map<string, MqttClient>();

function batch(u: Uai, seq: number, t: number, i: number, lossPct = 0): MetricsBatch {
  const ping = (target: string, ms: number) => ({
    probe: 'ping' as const,
    t,
    target,
    role: 'anchor' as const,
    sent: 10,
    received: Math.round(10 - lossPct / 10),
    lossPct,
    ...(lossPct < 100 ? { medianMs: ms } : {}),
  });
  return {
    v: 1,
    uai: u,
    agent: 'box',
    seq,
    t,
    samples: [
      ping('anchor-a', 9 + i * 3),
      ping('anchor-b', 11 + i * 3),
      { probe: 'wan', t, source: 'snmp', iface: 'wan0', inBps: (3 + i * 7) * 1e6, outBps: (0.5 + i) * 1e6 },
      {
        probe: 'speedtest',
        t,
        target: 'collector',
        ok: true,
        downBps: (20 + i * 12) * 1e6,
        upBps: (4 + i * 2) * 1e6,
      },
      {
        probe: 'self',
        t,
        version: '0.1.0',
        uptimeS: 3600,
        rssBytes: 4e7,
        cpuPct: 1,
        spoolBytes: 0,
        spoolBatches: 0,
        spoolDropped: 0,
      },
    ],
  };
}

async function startAgent(u: Uai): Promise<MqttClient> {
  const status = (state: 'online' | 'offline', reason: 'birth' | 'will') =>
    JSON.stringify({ v: 1, uai: u, agent: 'box', state, t: Date.now(), reason, version: '0.1.0' });
  const client = await mqtt.connectAsync(broker.url, {
    clientId: `board-agent-${u}`,
    keepalive: 10,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic(u, 'box'),
      payload: Buffer.from(status('offline', 'will')),
      qos: 1,
      retain: true,
    },
  });
  await client.publishAsync(statusTopic(u, 'box'), status('online', 'birth'), { qos: 1, retain: true });
  agents.set(u, client);
  return client;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [broker, influx, chromium] = await Promise.all([startMosquitto(), startInfluxdb(), startChromium()]);
  const silent = createLogger('test', 'silent');
  const front = new HttpFrontend();
  collector = await startCollector(
    collectorSection({ mqttUrl: broker.url, influxUrl: influx.url, database: 'board' }),
    {
      logger: silent,
      schools: registry,
      observers: [
        front.observer,
        (points) => {
          pa = startPresenceAndAlerts({
            presence: resolve(PresenceConfig, { intervalSeconds: 60, tickMs: 200, rebuildFromInflux: false }),
            alerts: resolve(AlertsConfig, {}),
            schools: registry,
            points,
            channels: [],
            log: silent,
          });
          return pa.observer;
        },
      ],
    },
  );
  await waitFor('collector connected', async () => collector.counters().brokerConnected);
  api = await front.start({
    http: resolve(HttpConfig, {
      host: '127.0.0.1',
      port: 0,
      // Loopback is not allowed: the board must use its token.
      auth: { readTokens: [TOKEN], allowNetworks: ['198.18.0.0/15'] },
      board: { grafanaSchoolUrl: 'http://grafana.test/d/vigie-school?var-uai={uai}', pollS: 2 },
    }),
    influx: { url: influx.url, database: 'board' },
    collector,
    schools: registry,
    presence: pa,
    log: silent,
  });
  await Promise.all(
    uais
      .filter((u) => u !== SILENT)
      .map(async (u, i) => {
        const client = await startAgent(u);
        // Measured after the birth, as a live agent's rounds are: presence ignores rounds from
        // before an agent's current state began (the tail of a replay).
        const t = Date.now();
        const rounds = u === DEGRADED ? 3 : 1;
        for (let r = 0; r < rounds; r++) {
          const lossPct = u === DEGRADED ? 100 : 0;
          const b = batch(u, r, t + r, i, lossPct);
          await client.publishAsync(metricsTopic(u, 'box'), JSON.stringify(b), { qos: 1 });
        }
      }),
  );
});

afterAll(async () => {
  await Promise.all([...agents.values()].map((c) => c.endAsync(true)));
  await chromium?.close();
  await api?.close();
  await pa?.stop();
  await collector?.stop();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

const tile = (page: Page, u: string) => page.locator(`.tile[data-uai="${u}"]`);

describe('status board in headless Chromium', () => {
  it('turns a school red within seconds of its agent dying, without a reload', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(`${api.url}/#token=${TOKEN}`);
    await page.waitForFunction((n) => document.querySelectorAll('.tile').length === n, uais.length, {
      timeout: 20_000,
    });
    await page.waitForSelector(`.tile[data-uai="${DEGRADED}"][data-state="degraded"]`, { timeout: 20_000 });
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="online"]`, { timeout: 20_000 });
    expect(await page.locator('#link').getAttribute('data-mode')).toBe('live');
    // The token left the address bar once stored.
    expect(page.url()).toBe(`${api.url}/`);
    expect(await tile(page, SILENT).getAttribute('data-state')).toBe('unknown');
    await expect(tile(page, VICTIM).locator('a.name').getAttribute('href')).resolves.toBe(
      `http://grafana.test/d/vigie-school?var-uai=${VICTIM}`,
    );
    const communes = await page.locator('.commune h2').allTextContents();
    expect(communes.map((c) => c.split(/\d/)[0]!.trim())).toEqual([
      'Vaulx-en-Velin',
      'Vienne',
      'Villeurbanne',
    ]);
    const victimText = await tile(page, VICTIM).textContent();
    expect(victimText).toMatch(/En ligne · depuis \d+ s/);
    expect(victimText).toMatch(/latence 19 ms · perte 0 %/);
    expect(victimText).toMatch(/trafic ↓ 24\.0 Mb\/s ↑ 3\.5 Mb\/s/);
    await page.screenshot({ path: `${ARTIFACTS}/board-before.png`, fullPage: true });

    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same page';
    });
    const killedAt = Date.now();
    agents.get(VICTIM)!.stream.destroy(); // no DISCONNECT: the broker publishes the will
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="offline"]`, { timeout: 10_000 });
    const redAfterMs = Date.now() - killedAt;
    console.log(`board: tile red ${redAfterMs} ms after the agent was killed`);
    expect(redAfterMs).toBeLessThan(5000);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    const bg = await tile(page, VICTIM).evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(bg).toBe('rgb(198, 40, 40)');
    expect(await tile(page, VICTIM).textContent()).toMatch(/Hors ligne · depuis \d+ s/);
    expect(await page.locator('#summary li[data-state="offline"]').textContent()).toBe('Hors ligne 1');
    await page.screenshot({ path: `${ARTIFACTS}/board-wall.png`, fullPage: true });

    // Problems first: the offline school leads, then the commune with a degraded one.
    expect(await page.locator('.tile').first().getAttribute('data-uai')).toBe(uais[4]);
    await page.click('#order');
    expect(await page.locator('.tile').first().getAttribute('data-uai')).toBe(VICTIM);
    expect(await page.locator('.tile').nth(2).getAttribute('data-uai')).toBe(DEGRADED);
    await page.click('#order');

    await page.click('#lang');
    expect(await tile(page, VICTIM).textContent()).toMatch(/Offline · for \d+ s/);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${ARTIFACTS}/board-phone.png`, fullPage: false });
    await page.close();
  });

  it('falls back to polling when the live stream cannot be opened', async () => {
    const page = await chromium.browser.newPage();
    await page.route('**/api/stream', (route) => route.abort());
    await page.goto(`${api.url}/#token=${TOKEN}`);
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="offline"]`, { timeout: 20_000 });
    await startAgent(VICTIM);
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="online"]`, { timeout: 15_000 });
    expect(await page.locator('#link').getAttribute('data-mode')).toBe('polling');
    await page.close();
  });

  it('shows only the communes named in the address', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(`${api.url}/?commune=Vienne#token=${TOKEN}`);
    await page.waitForSelector(`.tile[data-uai="${DEGRADED}"]`, { timeout: 15_000 });
    expect(await page.locator('.commune h2').count()).toBe(1);
    expect(await page.locator('.tile').count()).toBe(3);
    await page.close();
  });

  it('tells the viewer when its token is refused', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(`${api.url}/#token=wrong-token-000000000`);
    await page.waitForSelector('#problem:not([hidden])', { timeout: 15_000 });
    // The language switched in the first test is remembered by this browser.
    expect(await page.locator('#problem').textContent()).toMatch(/^Access denied/);
    expect(await page.locator('.tile').count()).toBe(0);
    await page.close();
  });
});
