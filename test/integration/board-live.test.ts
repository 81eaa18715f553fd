// The status board in Debian's headless Chromium, fed by the real collector, presence engine,
// Mosquitto and InfluxDB, with 40 schools in 12 communes: a school whose agent dies (no clean
// disconnect: the broker publishes its will) turns red within seconds without a reload and keeps its
// last figures greyed with their age; the whole fleet fits a 1920×1080 wall screen; the address sets
// language and order; with the live stream blocked the board polls.
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

const COMMUNES: [string, string[]][] = [
  [
    'Villeurbanne',
    [
      'École maternelle Jean Macé',
      'École élémentaire Jules Ferry',
      'Groupe scolaire Louis Pasteur',
      'École primaire Lazare Goujon',
      'École maternelle Château-Gaillard',
    ],
  ],
  [
    'Vaulx-en-Velin',
    [
      'École Saint-Exupéry',
      'École Anatole France',
      'Groupe scolaire Makarenko',
      'École élémentaire Jean Vilar',
    ],
  ],
  ['Vienne', ['École du Centre', 'École des Tanneurs', 'École de la Gare', 'École maternelle de l’Isle']],
  ['Bron', ['École Jean Jaurès', 'Groupe scolaire Jean Moulin', 'École Les Essarts', 'École Pasteur']],
  ['Vénissieux', ['École Charles Perrault', 'Groupe scolaire Ernest Renan', 'École Moulin à Vent']],
  ['Saint-Priest', ['École Berliet', 'École élémentaire Jean Macé', 'Groupe scolaire Marendiers']],
  ['Décines-Charpieu', ['École Marcel Pagnol', 'École Jean Moulin', 'Groupe scolaire Prévert']],
  ['Caluire-et-Cuire', ['École Pierre et Marie Curie', 'École Montessuy', 'Groupe scolaire Jean Jaurès']],
  ['Rillieux-la-Pape', ['École Paul Chevallier', 'École Les Alagniers', 'École Semailles']],
  [
    'Meyzieu',
    ['École Jules Ferry', 'Groupe scolaire élémentaire Antoine de Saint-Exupéry', 'École Mathiolan'],
  ],
  ['Oullins', ['École Jean Jaurès', 'École de la Saulaie', 'École Ampère']],
  ['Écully', ['École du Centre', 'École Charrière Blanche']],
];
const registry = new Map<string, School>(
  COMMUNES.flatMap(([commune, names], c) =>
    names.map((name, i): [string, School] => {
      const u = uai(`069${1000 + c * 10 + i}`);
      const down = [100, 50, 20, 30][i % 4]!;
      const school = { uai: u, name, commune, lat: 45.7, lon: 4.9, isp: 'Orange', hours: 'school' };
      return [u, { ...school, contractedDownMbps: down, contractedUpMbps: down / 5 }];
    }),
  ),
);
const uais = [...registry.keys()] as Uai[];
const byName = (name: string, commune: string) =>
  [...registry.values()].find((s) => s.name === name && s.commune === commune)!.uai as Uai;
const VICTIM = byName('École Saint-Exupéry', 'Vaulx-en-Velin');
const DEGRADED = byName('École des Tanneurs', 'Vienne');
/** Online, but its one round so far had no answer from the internet: presence has not judged yet. */
const WATCHED = byName('École Berliet', 'Saint-Priest');
/** Stopped cleanly (graceful offline status). */
const STOPPED = byName('École Montessuy', 'Caluire-et-Cuire');
/** Back from an outage, replaying from its spool rounds measured during it (loss 100 %). */
const REPLAYED = byName('École Ampère', 'Oullins');
/** Never heard of: unknown. */
const SILENT = [byName('École de la Gare', 'Vienne'), byName('École Semailles', 'Rillieux-la-Pape')];

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

const status = (u: Uai, state: 'online' | 'offline', reason: 'birth' | 'will' | 'graceful', t = Date.now()) =>
  JSON.stringify({ v: 1, uai: u, agent: 'box', state, t, reason, version: '0.1.0' });

/** Connects as the school's agent and publishes its birth, stamped `bornT` by its clock. */
async function startAgent(u: Uai, bornT = Date.now()): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    clientId: `board-agent-${u}`,
    keepalive: 10,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic(u, 'box'),
      payload: Buffer.from(status(u, 'offline', 'will')),
      qos: 1,
      retain: true,
    },
  });
  await client.publishAsync(statusTopic(u, 'box'), status(u, 'online', 'birth', bornT), {
    qos: 1,
    retain: true,
  });
  agents.set(u, client);
  return client;
}

const publish = (client: MqttClient, b: MetricsBatch) =>
  client.publishAsync(metricsTopic(b.uai as Uai, 'box'), JSON.stringify(b), { qos: 1 });

const schoolState = (u: string) => pa.monitor.fleet.schools.get(u)?.state;

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
  const now = Date.now();
  await Promise.all(
    uais
      .filter((u) => !SILENT.includes(u))
      .map(async (u, i) => {
        // The replayed school's story begins ten minutes ago by its clock (see the test).
        const t = u === REPLAYED ? now - 600_000 : Date.now();
        const client = await startAgent(u, t);
        // Measured after the birth, as a live agent's rounds are: presence ignores rounds from
        // before an agent's current state began (the tail of a replay).
        const rounds = u === DEGRADED ? 3 : 1;
        for (let r = 0; r < rounds; r++) {
          const lossPct = u === DEGRADED || u === WATCHED ? 100 : 0;
          await publish(client, batch(u, r, t + r, i % 8, lossPct));
        }
      }),
  );
  // A clean stop: the agent says goodbye before it disconnects.
  const stopping = agents.get(STOPPED)!;
  await stopping.publishAsync(statusTopic(STOPPED, 'box'), status(STOPPED, 'offline', 'graceful'), {
    qos: 1,
    retain: true,
  });
  await stopping.endAsync();
  agents.delete(STOPPED);
  // The replayed school loses its link (the broker publishes its will), comes back now with a new
  // birth, then publishes from its spool a round measured five minutes ago, during the outage.
  agents.get(REPLAYED)!.stream.destroy();
  await waitFor('replayed school offline', async () => schoolState(REPLAYED) === 'offline');
  const back = await startAgent(REPLAYED, now);
  await publish(back, batch(REPLAYED, 1, now - 300_000, 2, 100));
  await waitFor('replayed school online', async () => schoolState(REPLAYED) === 'online');
  await waitFor(
    'degraded and stopped schools',
    async () => [schoolState(DEGRADED), schoolState(STOPPED)].join() === 'degraded,offline',
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

async function open(page: Page, query = '') {
  await page.goto(`${api.url}/${query}#token=${TOKEN}`);
  await page.waitForFunction((n) => document.querySelectorAll('.tile').length === n, uais.length, {
    timeout: 20_000,
  });
}

/** Every tile's box in the viewport, and whether the page scrolls. */
const layout = (page: Page) =>
  page.evaluate(() => ({
    tiles: [...document.querySelectorAll('.tile')].map((e) => {
      const r = e.getBoundingClientRect();
      return {
        uai: (e as HTMLElement).dataset.uai,
        left: r.left,
        top: r.top,
        right: r.right,
        bottom: r.bottom,
      };
    }),
    scrollHeight: document.documentElement.scrollHeight,
    scrollWidth: document.documentElement.scrollWidth,
    width: innerWidth,
    height: innerHeight,
    fontPx: Number.parseFloat(getComputedStyle(document.getElementById('board')!).fontSize),
  }));

/** A tile's text outside its greyed "last known" box: what reads as the present. */
const presentText = (page: Page, u: string) =>
  tile(page, u).evaluate((e) => {
    const copy = e.cloneNode(true) as HTMLElement;
    for (const last of copy.querySelectorAll('.figures.last')) last.remove();
    return copy.textContent ?? '';
  });
const FIGURE = /\d\s?(ms|%|[kMG]?b\/s)/;

describe('status board in headless Chromium', () => {
  it('turns a school red within seconds of its agent dying, without a reload, and keeps its figures as last known', async () => {
    const page = await chromium.browser.newPage();
    await open(page);
    await page.waitForSelector(`.tile[data-uai="${DEGRADED}"][data-state="degraded"]`, { timeout: 20_000 });
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="online"]`, { timeout: 20_000 });
    expect(await page.locator('#link').getAttribute('data-mode')).toBe('live');
    // The token left the address bar once stored.
    expect(page.url()).toBe(`${api.url}/`);
    for (const u of SILENT) expect(await tile(page, u).getAttribute('data-state')).toBe('unknown');
    await expect(tile(page, VICTIM).locator('a.name').getAttribute('href')).resolves.toBe(
      `http://grafana.test/d/vigie-school?var-uai=${VICTIM}`,
    );
    const victimText = await tile(page, VICTIM).textContent();
    expect(victimText).toMatch(/^Vaulx-en-VelinÉcole Saint-ExupéryEn ligne · depuis \d+ s/);
    expect(victimText).toMatch(/latence \d+ ms · perte 0 %/);
    expect(victimText).toMatch(/trafic ↓ [\d,]+ ↑ [\d,]+ Mb\/s/);
    expect(await tile(page, VICTIM).locator('.figures.now').count()).toBe(1);

    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same page';
    });
    const killedAt = Date.now();
    agents.get(VICTIM)!.stream.destroy(); // no DISCONNECT: the broker publishes the will
    agents.delete(VICTIM);
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="offline"]`, { timeout: 10_000 });
    const redAfterMs = Date.now() - killedAt;
    console.log(`board: tile red ${redAfterMs} ms after the agent was killed`);
    expect(redAfterMs).toBeLessThan(5000);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    const bg = await tile(page, VICTIM).evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(bg).toBe('rgb(198, 40, 40)');
    // Why, and the figures it had, greyed with their age, never as the present.
    const victim = tile(page, VICTIM);
    expect(await victim.locator('.state').textContent()).toMatch(/^Hors ligne · depuis \d+ s$/);
    expect(await victim.locator('.reason').textContent()).toBe('connexion perdue sans au revoir');
    expect(await victim.locator('.figures.now').count()).toBe(0);
    expect(await victim.locator('.figures.last .age').textContent()).toMatch(
      /^dernière mesure il y a \d+ s$/,
    );
    expect(await victim.locator('.figures.last').textContent()).toMatch(/latence \d+ ms · perte 0 %/);
    expect(await presentText(page, VICTIM)).not.toMatch(FIGURE);
    expect(await page.locator('#summary li[data-state="offline"]').textContent()).toBe('Hors ligne 2');
    await page.close();
  });

  it('fits 40 schools on a 1920×1080 wall screen, says why each problem is one, never shows old figures as current', async () => {
    const page = await chromium.browser.newPage();
    await page.setViewportSize({ width: 1920, height: 1080 });
    await open(page);
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="offline"]`, { timeout: 20_000 });
    // The type size is fitted as each update is drawn: nothing more to wait for.
    const wall = await layout(page);
    await page.screenshot({ path: `${ARTIFACTS}/board-wall-1920x1080.png` });
    console.log(`board: 40 tiles at 1920×1080 with ${wall.fontPx.toFixed(1)} px type`);
    expect(wall.tiles).toHaveLength(40);
    for (const b of wall.tiles) {
      expect(b.left, b.uai).toBeGreaterThanOrEqual(0);
      expect(b.top, b.uai).toBeGreaterThanOrEqual(0);
      expect(b.right, b.uai).toBeLessThanOrEqual(1920);
      expect(b.bottom, b.uai).toBeLessThanOrEqual(1080);
    }
    expect(wall.scrollHeight).toBeLessThanOrEqual(1080);
    // Still readable from across a room.
    expect(wall.fontPx).toBeGreaterThanOrEqual(12);
    // The commune is a small label on each tile, not a row of its own.
    expect(await tile(page, VICTIM).locator('.commune').textContent()).toBe('Vaulx-en-Velin');

    // No tile that is not online shows a figure as current: greyed, dated, or nothing.
    const offline = await page
      .locator('.tile[data-state="offline"]')
      .evaluateAll((es) => es.map((e) => (e as HTMLElement).dataset.uai!));
    expect(offline.sort()).toEqual([VICTIM, STOPPED].sort());
    for (const u of [...offline, ...SILENT]) {
      expect(await tile(page, u).locator('.figures.now').count(), u).toBe(0);
      expect(await presentText(page, u), u).not.toMatch(FIGURE);
      expect(await tile(page, u).locator('.figures.last .age').textContent(), u).toMatch(
        /^(dernière mesure il y a \d+ s|aucune mesure reçue)$/,
      );
    }
    const grey = await tile(page, VICTIM)
      .locator('.figures.last')
      .evaluate((e) => getComputedStyle(e).color);
    expect(grey).toBe('rgb(207, 211, 216)');
    // Why each school is where it is.
    expect(await tile(page, STOPPED).locator('.reason').textContent()).toBe('boîtier arrêté proprement');
    expect(await tile(page, DEGRADED).locator('.reason').textContent()).toBe(
      'internet injoignable : aucune ancre ne répond',
    );
    for (const u of SILENT)
      expect(await tile(page, u).locator('.reason').textContent()).toBe(
        'jamais vu depuis le démarrage du collecteur',
      );

    // A green tile never reads "loss 100 %" as if all were well: its last round is flagged.
    const watched = tile(page, WATCHED);
    expect(await watched.getAttribute('data-state')).toBe('online');
    expect(await watched.getAttribute('data-watch')).toBe('internet');
    expect(await watched.locator('.watch').textContent()).toBe(
      'internet sans réponse au dernier relevé — à confirmer',
    );
    // Back from an outage, the rounds replayed from the spool (loss 100 %) are not shown as now:
    // the figures from before the outage stay greyed until a round measured since the return.
    const replayed = tile(page, REPLAYED);
    expect(await replayed.getAttribute('data-state')).toBe('online');
    expect(await replayed.textContent()).not.toContain('100 %');
    expect(await presentText(page, REPLAYED)).not.toMatch(FIGURE);
    expect(await replayed.locator('.figures.last').textContent()).toMatch(
      /^dernière mesure il y a \d+ slatence \d+ ms · perte 0 %/,
    );

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => document.getElementById('board')!.style.fontSize === '');
    const phone = await layout(page);
    await page.screenshot({ path: `${ARTIFACTS}/board-phone-390x844.png` });
    // One column, no sideways scrolling.
    expect(phone.scrollWidth).toBeLessThanOrEqual(390);
    expect(new Set(phone.tiles.map((b) => Math.round(b.left))).size).toBe(1);
    for (const b of phone.tiles) expect(b.right).toBeLessThanOrEqual(390);
    await page.close();
  });

  it('takes its language and order from the address, and the buttons keep the address in step', async () => {
    const page = await chromium.browser.newPage();
    await page.setViewportSize({ width: 1920, height: 1080 });
    await open(page, '?lang=en&order=name');
    await page.waitForSelector(`.tile[data-uai="${VICTIM}"][data-state="offline"]`, { timeout: 20_000 });
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const victim = tile(page, VICTIM);
    expect(await victim.locator('.state').textContent()).toMatch(/^Offline · for \d+ s$/);
    expect(await victim.locator('.reason').textContent()).toBe('connection lost without a goodbye');
    expect(await victim.locator('.figures.last .age').textContent()).toMatch(/^last reading \d+ s ago$/);
    expect(await tile(page, WATCHED).locator('.watch').textContent()).toBe(
      'no answer from the internet in the last round — to be confirmed',
    );
    expect(await page.locator('#summary li[data-state="offline"]').textContent()).toBe('Offline 2');
    expect(await page.locator('#order button[aria-pressed="true"]').textContent()).toBe('Name');
    const names = await page.locator('.tile .name').allTextContents();
    const collator = new Intl.Collator('en');
    expect(names).toEqual([...names].sort((a, b) => collator.compare(a, b)));
    await page.screenshot({ path: `${ARTIFACTS}/board-wall-en-by-name.png` });

    // Problems first: the offline schools, then the degraded one, then the online one whose last round was bad.
    await page.click('#order button[data-order="state"]');
    expect(new URL(page.url()).searchParams.get('order')).toBe('state');
    const first = await page
      .locator('.tile')
      .evaluateAll((es) => es.slice(0, 4).map((e) => (e as HTMLElement).dataset.uai));
    expect(first.slice(0, 2).sort()).toEqual([VICTIM, STOPPED].sort());
    expect(first.slice(2)).toEqual([DEGRADED, WATCHED]);
    // By commune: Bron's schools first, in name order.
    await page.click('#order button[data-order="commune"]');
    expect(await page.locator('.tile .commune').first().textContent()).toBe('Bron');
    expect(await page.locator('.tile .name').first().textContent()).toBe('École Jean Jaurès');

    await page.click('#lang');
    expect(new URL(page.url()).searchParams.get('lang')).toBe('fr');
    expect(await victim.locator('.state').textContent()).toMatch(/^Hors ligne · depuis \d+ s$/);
    // ?order=state in an address opened later wins over what this browser remembers.
    const other = await chromium.browser.newPage();
    await open(other, '?order=state&lang=en');
    expect(await other.locator('.tile').first().getAttribute('data-state')).toBe('offline');
    expect(await other.locator('#lang').textContent()).toBe('Français');
    await other.close();
    await page.click('#lang');
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
    expect(await page.locator('.tile').count()).toBe(4);
    expect(new Set(await page.locator('.tile .commune').allTextContents())).toEqual(new Set(['Vienne']));
    await page.close();
  });

  it('tells the viewer when its token is refused', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(`${api.url}/#token=wrong-token-000000000`);
    await page.waitForSelector('#problem:not([hidden])', { timeout: 15_000 });
    // The language chosen with the button (English, last) is remembered by this browser.
    expect(await page.locator('#problem').textContent()).toMatch(/^Access denied/);
    expect(await page.locator('.tile').count()).toBe(0);
    await page.close();
  });
});
