// Issue 15's acceptance run: the real collector (ingest, presence, InfluxDB writer) over real
// Mosquitto and InfluxDB, two schools' agents publishing every 5 minutes from 1 October to 30
// November 2026, killed (the broker publishes their will) and reconnected at the times. The
// outage points are written by the collector's own presence code; then `vigie report` (the CLI, a
// child process) must give, to the minute, the November figures, and October's must all lie
// in [0, 100].
//
// Time: the collector runs in this process with an injected clock (startCollector's and
// startPresenceAndAlerts' `now`), moved by the test from one event to the next: every message is
// received at the instant the scenario says. The presence interval is set to 30 days so that the
// silence rule, not under test here, cannot fire while the clock jumps between events: outages open
// on the agent's will (killed) and close on its birth (reconnected), as with real boxes losing power.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { HttpConfig } from '../../collector/http/config.ts';
import { HttpFrontend, type HttpHandle } from '../../collector/http/frontend.ts';
import type { PresenceAndAlerts } from '../../collector/presence-and-alerts.ts';
import { startPresenceAndAlerts } from '../../collector/presence-and-alerts.ts';
import { type CollectorHandle, startCollector } from '../../collector/service.ts';
import { createLogger } from '../../shared/log.ts';
import { buildBatch, statusMessage } from '../../shared/messages.ts';
import { loadRegistry } from '../../shared/registry.ts';
import { parseInstant } from '../../shared/time.ts';
import { metricsTopic, statusTopic } from '../../shared/topics.ts';
import { addVigieFormats } from '../../shared/validate.ts';
import { collectorSection, everySample } from '../harness/collector.ts';
import { tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const DB = 'report_nov';
const B = '0690001B';
const C = '0690002C';
const STEP = 5 * 60_000;

const paris = (local: string): number => {
  const r = parseInstant(`${local}:00`, { timeZone: 'Europe/Paris' });
  if (!r.ok) throw new Error(r.problem);
  return r.ms;
};

let broker: MosquittoHandle;
let influx: InfluxHandle;
let collector: CollectorHandle;
let watch: PresenceAndAlerts;
let configFile: string;
let api: HttpHandle;
const READ = 'report-read-token-0001';
let clock = paris('2026-10-01T00:00');
const agents = new Map<string, { client: MqttClient | null; seq: number; nextT: number }>();
let published = 0;

async function connectAgent(uai: string): Promise<void> {
  const a = agents.get(uai) ?? { client: null, seq: 0, nextT: clock };
  const sender = { uai, agent: 'box' };
  const will = statusMessage(sender, { state: 'offline', t: clock, version: '1.0.0', reason: 'will' });
  a.client = await mqtt.connectAsync(broker.url, {
    clientId: `report-agent-${uai}`,
    keepalive: 30,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic(uai, 'box'),
      payload: Buffer.from(JSON.stringify(will)),
      qos: 1,
      retain: true,
    },
  });
  const birth = statusMessage(sender, { state: 'online', t: clock, version: '1.0.0', reason: 'birth' });
  await a.client.publishAsync(statusTopic(uai, 'box'), JSON.stringify(birth), { qos: 1, retain: true });
  agents.set(uai, a);
}

/** The box loses power: its TCP connection dies without DISCONNECT, the broker publishes its will. */
function killAgent(uai: string): void {
  const a = agents.get(uai)!;
  a.client!.stream.destroy();
  a.client!.end(true);
  a.client = null;
}

/** Batches every 5 minutes from the agent's next slot up to `until` inclusive; one speed test a day. */
async function publishUntil(uai: string, until: number): Promise<void> {
  const a = agents.get(uai)!;
  const inflight = new Set<Promise<void>>();
  for (; a.nextT <= until; a.nextT += STEP) {
    const t = a.nextT;
    const samples = [everySample(t)[0]!, everySample(t)[4]!];
    if (new Date(t).getUTCHours() === 9 && new Date(t).getUTCMinutes() === 0)
      samples.push(everySample(t)[5]!);
    // Wi-Fi: B's second access point is off on Tuesday 17 November 09:00–12:00; the box's own radio,
    // never associated, is not an access point (left out of the figures).
    if (uai === B) {
      const up = !(t >= paris('2026-11-17T09:00') && t < paris('2026-11-17T12:00'));
      samples.push(
        { probe: 'wifi', t, ap: 'AP préau', up, reachable: up },
        { probe: 'wifi', t, ap: 'box:wlan0', up: false, reachable: false, error: 'NOT_ASSOCIATED' },
      );
    }
    a.seq++;
    const p: Promise<void> = a
      .client!.publishAsync(
        metricsTopic(uai, 'box'),
        JSON.stringify(buildBatch(uai, 'box', a.seq, t, samples)),
        {
          qos: 1,
        },
      )
      .then(() => {
        inflight.delete(p);
      });
    inflight.add(p);
    published++;
    if (inflight.size >= 64) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const seq = a.seq;
  await waitFor(
    `${uai}: batch ${seq} received`,
    async () => (watch.monitor.fleet.agents.get(`${uai}/box`)?.lastSeq ?? 0) >= seq,
    120_000,
    50,
  );
}

const schoolState = (uai: string) => watch.monitor.fleet.schools.get(uai)?.state;

beforeAll(async () => {
  [broker, influx] = await Promise.all([startMosquitto(), startInfluxdb()]);
  const dir = tempDir('report-nov');
  const schools = join(dir, 'schools.csv');
  writeFileSync(
    schools,
    'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n' +
      `${B},École Jean Moulin,Villeurbanne,45.77,4.88,Orange,100,20,school\n` +
      `${C},École des Tilleuls,Vaulx-en-Velin,45.78,4.92,Free,50,10,school\n`,
  );
  const section = {
    ...collectorSection({ mqttUrl: broker.url, influxUrl: influx.url, database: DB, schools }),
    presence: { intervalSeconds: 30 * 24 * 3600, tickMs: 200, rebuildFromInflux: false },
    // The target comes from the config when --target is not given (it was always 99).
    report: { targetPct: 80 },
    alerts: {
      timezone: 'Europe/Paris',
      hours: {
        school: {
          mon: ['08:00-17:00'],
          tue: ['08:00-17:00'],
          thu: ['08:00-17:00'],
          fri: ['08:00-17:00'],
          holidays: ['zone-a'],
        },
      },
      calendars: { 'zone-a': [{ name: 'Vacances de la Toussaint', from: '2026-10-17', to: '2026-11-01' }] },
    },
  };
  configFile = join(dir, 'vigie.yaml');
  writeFileSync(configFile, stringify({ collector: section }));
  const config = resolveCollectorConfig(section);
  const registry = loadRegistry(schools);
  const now = () => clock;
  collector = await startCollector(section, {
    schools: registry,
    now,
    logger: createLogger('report-collector', process.env['VIGIE_LOG_LEVEL'] ?? 'silent'),
    observers: [
      (points) => {
        watch = startPresenceAndAlerts({
          presence: config.presence,
          alerts: config.alerts,
          schools: registry,
          points,
          now,
          channels: [],
          log: createLogger('report-presence', process.env['VIGIE_LOG_LEVEL'] ?? 'silent'),
        });
        return watch.observer;
      },
    ],
  });
  await watch.ready;
  await waitFor('collector connected', async () => collector.counters().brokerConnected);
  const http = (() => {
    const c = {
      host: '127.0.0.1',
      port: 0,
      auth: { readTokens: [READ], adminToken: 'report-admin-token-0001', allowNetworks: ['198.18.0.0/15'] },
    };
    addVigieFormats(new Ajv({ useDefaults: true, strict: false })).compile(HttpConfig)(c);
    return c as unknown as HttpConfig;
  })();
  api = await new HttpFrontend().start({
    http,
    influx: config.influx,
    collector,
    schools: registry,
    presence: watch,
    report: { retention: config.retention, alerts: config.alerts },
    log: createLogger('report-http', 'silent'),
  });
}, 120_000);

afterAll(async () => {
  await api?.close();
  for (const a of agents.values()) await a.client?.endAsync(true);
  await watch?.stop();
  await collector?.stop();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
});

async function report(args: string[], out: string) {
  await run(
    process.execPath,
    [join(ROOT, 'bin/vigie.js'), 'report', '--config', configFile, '--out', out, '--no-pdf', ...args],
    { cwd: ROOT, timeout: 120_000, env: { ...process.env, TZ: process.env['TZ'] ?? 'UTC' } },
  );
  return JSON.parse(readFileSync(join(out, 'schools-monthly.json'), 'utf8')) as {
    schools: Record<string, Record<string, Record<string, number | null>>>;
  };
}

describe('vigie report on outages the collector recorded (issue 15, November 2026)', () => {
  it('gives 76.18 % / 22.5 h and 11.67 % / 139 h, and an October within [0, 100]', async () => {
    await connectAgent(B);
    await connectAgent(C);
    const event = async (local: string, act: () => Promise<void> | void) => {
      clock = paris(local);
      await act();
    };
    // C's box loses power on 15 October at 10:00.
    await event('2026-10-15T10:00', async () => {
      await publishUntil(B, clock);
      await publishUntil(C, clock);
      killAgent(C);
      await waitFor('C offline', async () => schoolState(C) === 'offline', 30_000, 20);
    });
    await event('2026-10-27T10:00', async () => {
      await publishUntil(B, clock);
      killAgent(B);
      await waitFor('B offline', async () => schoolState(B) === 'offline', 30_000, 20);
    });
    await event('2026-11-05T10:30', async () => {
      agents.get(B)!.nextT = clock;
      await connectAgent(B);
      await waitFor('B online', async () => schoolState(B) === 'online', 30_000, 20);
    });
    await event('2026-11-13T16:00', async () => {
      await publishUntil(B, clock);
      killAgent(B);
      await waitFor('B offline again', async () => schoolState(B) === 'offline', 30_000, 20);
    });
    await event('2026-11-16T09:00', async () => {
      agents.get(B)!.nextT = clock;
      await connectAgent(B);
      await waitFor('B online again', async () => schoolState(B) === 'online', 30_000, 20);
    });
    await event('2026-11-27T12:00', async () => {
      await publishUntil(B, clock);
      agents.get(C)!.nextT = clock;
      await connectAgent(C);
      await waitFor('C online', async () => schoolState(C) === 'online', 30_000, 20);
    });
    await event('2026-12-01T00:00', async () => {
      await publishUntil(B, clock - STEP);
      await publishUntil(C, clock - STEP);
    });

    // Every outage classified and written by the collector, every batch stored.
    await waitFor(
      'three outage points',
      async () => (await influx.rows('SELECT "end_ms" FROM "outage"', DB)).length === 3,
      240_000,
      200,
    );
    await waitFor(
      'every batch stored',
      async () =>
        Number((await influx.rows('SELECT count("seq") FROM "batch"', DB))[0]?.['count']) === published,
      240_000,
      500,
    );
    const outages = await influx.rows('SELECT "end_ms", "uai" FROM "outage"', DB);
    expect(
      outages.map((o) => [o['uai'], o['time'], o['end_ms']]).sort((x, y) => Number(x[1]) - Number(y[1])),
    ).toEqual([
      [C, paris('2026-10-15T10:00'), paris('2026-11-27T12:00')],
      [B, paris('2026-10-27T10:00'), paris('2026-11-05T10:30')],
      [B, paris('2026-11-13T16:00'), paris('2026-11-16T09:00')],
    ]);

    const novOut = tempDir('report-out');
    const nov = await report(['--month', '2026-11', '--as-of', '2026-12-01T00:00'], novOut);
    expect(readFileSync(join(novOut, 'report.html'), 'utf8')).toContain('objectif 80 %');
    const b = nov.schools[B]!['2026-11']!;
    const c = nov.schools[C]!['2026-11']!;
    expect(b['calendar_uptime_pct']).toBe(76.18);
    expect(b['lost_h']).toBe(22.5);
    expect(b['open_h']).toBe(153);
    expect(b['outage_count']).toBe(2);
    // Wi-Fi access points in school hours: B measured 130.5 open hours = 1,566 slots, plus the slot
    // of Friday 13 at 16:00 whose batch left just before the power cut: 1,567 slots × 2 access points
    // = 3,134 AP-slots = 261.1667 AP-hours; 'AP préau' off 3 h = 36 AP-slots → 100 × 3,098 / 3,134.
    expect(b['up_h']).toBe(130.5);
    expect(b['sh_wifi_ap_hours']).toBe(261.1667);
    expect(b['sh_wifi_ap_availability_pct']).toBe(98.85);
    // C: one access point, up whenever C published (14 open hours).
    expect(c['sh_wifi_ap_hours']).toBe(14);
    expect(c['sh_wifi_ap_availability_pct']).toBe(100);
    expect(c['calendar_uptime_pct']).toBe(11.67);
    expect(c['lost_h']).toBe(139);
    expect(c['open_h']).toBe(153);
    // All November known: outages or data, nothing unmeasured.
    expect(b['calendar_coverage_pct']).toBe(100);
    expect(c['calendar_coverage_pct']).toBe(100);

    const oct = await report(['--month', '2026-10', '--as-of', '2026-12-01T00:00'], tempDir('report-out'));
    for (const uai of [B, C])
      for (const [k, v] of Object.entries(oct.schools[uai]!['2026-10']!))
        if (k.endsWith('_pct') && k !== 'down_median_pct_of_contract' && v !== null) {
          expect(v, `${uai} ${k}`).toBeGreaterThanOrEqual(0);
          expect(v, `${uai} ${k}`).toBeLessThanOrEqual(100);
        }
    // docs/report.md: October (745 h), 0690002C down 399 h → 46.44 %; 0690001B 110 h → 85.23 %.
    expect(oct.schools[C]!['2026-10']!['calendar_uptime_pct']).toBe(46.44);
    expect(oct.schools[B]!['2026-10']!['calendar_uptime_pct']).toBe(85.23);

    // GET /api/report: the same engine figures for October (a period over: no "now" in them).
    const get = (q: string, token: string | null = READ) =>
      fetch(`${api.url}/api/report${q}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await get('?from=2026-10-01&to=2026-10-31', null)).status).toBe(401);
    const bad = await get('?from=2026-10-31&to=2026-10-01');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('comes before');
    const res = await get('?from=2026-10-01&to=2026-10-31');
    expect(res.status).toBe(200);
    type Figures = {
      calendarUptimePct: number;
      lostMs: number;
      openMs: number;
      availabilityPct: number | null;
    };
    const body = (await res.json()) as {
      schools: { uai: string; total: Figures }[];
      fleet: { total: Figures & { schoolCount: number } };
      communes: { commune: string }[];
    };
    const byUai = Object.fromEntries(body.schools.map((s) => [s.uai, s.total]));
    expect(Math.round(byUai[C]!.calendarUptimePct * 100) / 100).toBe(46.44);
    expect(Math.round(byUai[B]!.calendarUptimePct * 100) / 100).toBe(85.23);
    expect(byUai[C]!.lostMs / 3_600_000).toBe(oct.schools[C]!['2026-10']!['lost_h']);
    expect(body.fleet.total.schoolCount).toBe(2);
    expect(body.communes.map((g) => g.commune)).toEqual(['Vaulx-en-Velin', 'Villeurbanne']);
    const onlyFree = (await (await get('?from=2026-10-01&to=2026-10-31&isp=Free')).json()) as typeof body;
    expect(onlyFree.schools.map((s) => s.uai)).toEqual([C]);
  }, 600_000);
});
