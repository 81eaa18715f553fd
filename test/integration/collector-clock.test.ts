// Issue 14, clocks: the real `vigie collector` process, real Mosquitto and InfluxDB, a real webhook
// receiver; boxes are MQTT clients publishing what an agent publishes (birth with a will, a batch with
// sentAt every 250 ms), with their clock set wrong on purpose:
// - 1 h ahead: stored at the right time, flagged, shown by the API, told once (clock_drift), never offline;
// - 40 days behind: stored at the right time instead of refused as too old;
// - 4 s ahead then stepped back (2 to 5 presence intervals, as 120–300 s at 60 s): never offline;
// - a power cut, the box measuring the internet fine after booting and before reconnecting: power_or_box.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../shared/schemas.ts';
import { metricsTopic } from '../../shared/topics.ts';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type ClockStack, connectBox, startClockStack } from '../harness/clock-stack.ts';
import { sleep, waitFor } from '../harness/daemon.ts';

/** Collector, broker and InfluxDB start in ~15 s idle; each test runs ~20 s of traffic: 2x on a loaded machine. */
const BUDGET_MS = 120_000;
const DB = 'clocks';
const S = 1000;
const H = 3600 * S;
const D = 24 * H;
const EVERY_MS = 250;

const uai = (n: number) => {
  const d = String(n).padStart(7, '0');
  return d + uaiCheckLetter(d);
};
const AHEAD = uai(6_901_401);
const BEHIND = uai(6_901_402);
const STEPPED = uai(6_901_403);
const CUT = uai(6_901_404);

let stack: ClockStack;
const boxes: Box[] = [];

const ping = (t: number, role: 'gateway' | 'anchor', ok: boolean): Sample =>
  ok
    ? { probe: 'ping', t, target: role, role, sent: 4, received: 4, lossPct: 0, medianMs: 12 }
    : { probe: 'ping', t, target: role, role, sent: 4, received: 0, lossPct: 100 };
const round = (t: number) => [ping(t, 'gateway', true), ping(t, 'anchor', true)];

/** One school box: its clock is `Date.now() + skew()`; it sends what the agent sends. */
class Box {
  client!: MqttClient;
  seq = 0;
  timer: NodeJS.Timeout | undefined;
  constructor(
    readonly school: string,
    public skew: number,
    public startedAt = Date.now() + skew,
  ) {
    boxes.push(this);
  }
  clock = () => Date.now() + this.skew;
  async connect(): Promise<void> {
    this.client = await connectBox(stack.broker.url, {
      school: this.school,
      clientId: `clock-${this.school}-${Math.random()}`,
      clock: this.clock,
      startedAt: () => this.startedAt,
    });
  }
  /** A batch built at `builtAt` (box clock) with these samples, sent now. */
  send(builtAt: number, samples: Sample[]): Promise<unknown> {
    const batch = {
      v: 1,
      uai: this.school,
      agent: 'box',
      seq: ++this.seq,
      t: builtAt,
      sentAt: this.clock(),
      samples,
    };
    return this.client.publishAsync(metricsTopic(this.school, 'box'), JSON.stringify(batch), { qos: 1 });
  }
  start(): void {
    this.timer = setInterval(() => {
      const t = this.clock();
      void this.send(t, round(t)).catch(() => {});
    }, EVERY_MS);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  /** Power cut: the TCP connection dies without DISCONNECT, the broker publishes the will. */
  cut(): void {
    this.stop();
    this.client.stream.destroy();
  }
}

const sentFor = (u: string, kind?: string) =>
  stack.messages().filter((m) => m.uai === u && (kind === undefined || m.kind === kind));

const presenceOf = async (u: string) =>
  stack.influx.rows(`SELECT state, reason FROM presence WHERE uai = '${u}' AND scope = 'school'`, DB);

beforeAll(async () => {
  stack = await startClockStack({
    database: DB,
    clientId: 'clock-collector',
    schools: [AHEAD, BEHIND, STEPPED, CUT],
    silentAfterIntervals: 3,
    alerts: { rounds: 3 },
  });
}, BUDGET_MS);

afterAll(async () => {
  for (const b of boxes) {
    b.stop();
    b.client?.end(true);
  }
  await stack?.dispose();
});

describe('a school box whose clock is wrong', () => {
  it(
    'is stored at the right time, flagged, shown by the API and told once (clock_drift), never paged offline',
    async () => {
      const { influx, apiUrl } = stack;
      const ahead = new Box(AHEAD, H);
      const behind = new Box(BEHIND, -40 * D);
      await Promise.all([ahead.connect(), behind.connect()]);
      const from = Date.now();
      ahead.start();
      behind.start();
      await waitFor(
        'clock_drift told',
        async () => sentFor(AHEAD, 'clock_drift').some((m) => m.type === 'firing'),
        60_000,
      );
      const rows = await influx.rows(
        `SELECT seq, clock_offset_s FROM batch WHERE agent = 'box' AND uai = '${AHEAD}'`,
        DB,
      );
      expect(rows.length).toBeGreaterThan(3);
      const to = Date.now();
      for (const r of rows) {
        // Stored at the collector's time of reception, give or take the transit, not an hour ahead.
        expect(Number(r['time'])).toBeGreaterThanOrEqual(from - 2 * S);
        expect(Number(r['time'])).toBeLessThanOrEqual(to + 2 * S);
        expect(Math.abs(Number(r['clock_offset_s']) - 3600)).toBeLessThan(2);
      }
      const pings = await influx.rows(`SELECT loss_pct, clock_offset_s FROM ping WHERE uai = '${AHEAD}'`, DB);
      expect(pings.length).toBeGreaterThan(3);
      expect(pings.every((p) => Number(p['time']) <= to + 2 * S && p['clock_offset_s'] !== null)).toBe(true);
      await waitFor('the box 40 days behind stored', async () => {
        const b = await influx.rows(`SELECT seq FROM batch WHERE uai = '${BEHIND}'`, DB);
        return b.length > 3 && b.every((r) => Number(r['time']) >= from - 2 * S);
      });

      const { school: api } = (await (await fetch(`${apiUrl}/api/schools/${AHEAD}`)).json()) as {
        school: { state: string; agents: { agent: string; clockOffsetS?: number }[] };
      };
      expect(api.state).toBe('online');
      expect(Math.abs((api.agents[0]?.clockOffsetS ?? 0) - 3600)).toBeLessThan(2);

      // NTP answers: the clock is right again, the alert resolves, once.
      ahead.skew = 0;
      await waitFor(
        'clock_drift resolved',
        async () => sentFor(AHEAD, 'clock_drift').some((m) => m.type === 'resolved'),
        60_000,
      );
      ahead.stop();
      behind.stop();
      const drift = sentFor(AHEAD, 'clock_drift');
      expect(drift.map((m) => m.type)).toEqual(['firing', 'resolved']);
      expect(drift[0]?.text).toMatch(/the clock of agent box runs .* ahead of the collector's/);
      expect(sentFor(AHEAD, 'school_offline')).toEqual([]);
      expect((await presenceOf(AHEAD)).map((r) => r['state'])).not.toContain('offline');
      // Nothing refused, nothing lost: every batch sent is stored.
      for (const b of [ahead, behind])
        await waitFor(`every batch of ${b.school} stored`, async () => {
          const n = await influx.rows(`SELECT count(seq) AS n FROM batch WHERE uai = '${b.school}'`, DB);
          return Number(n[0]?.['n']) === b.seq;
        });
    },
    BUDGET_MS,
  );

  it(
    'stays online when its clock is stepped back without reconnecting (liveness judged on receive time)',
    async () => {
      const box = new Box(STEPPED, 4 * S);
      await box.connect();
      box.start();
      await waitFor('online', async () => (await presenceOf(STEPPED)).some((r) => r['state'] === 'online'));
      await sleep(3 * S);
      box.skew = 0; // NTP steps the clock back by 4 s: 4 presence intervals
      // Silence would be declared 3 intervals after the last batch counted live: watch well past it.
      await sleep(10 * S);
      box.stop();
      expect((await presenceOf(STEPPED)).map((r) => r['state'])).not.toContain('offline');
      expect(sentFor(STEPPED, 'school_offline')).toEqual([]);
    },
    BUDGET_MS,
  );

  it(
    'classifies a power cut as power_or_box though the box measured the internet fine before reconnecting',
    async () => {
      const { influx } = stack;
      const box = new Box(CUT, 0, Date.now() - H);
      await box.connect();
      box.start();
      await waitFor('online', async () => (await presenceOf(CUT)).some((r) => r['state'] === 'online'));
      await sleep(2 * S);
      box.cut();
      await waitFor('offline', async () => (await presenceOf(CUT)).some((r) => r['state'] === 'offline'));
      await sleep(2 * S);
      // Power back: a new agent process, which measures (internet fine) before it manages to reconnect.
      box.startedAt = box.clock();
      await sleep(500);
      const measured = box.clock();
      const boot = round(measured);
      await sleep(1500);
      await box.connect();
      await box.send(measured, boot);
      box.start();
      await waitFor(
        'outage classified',
        async () => (await influx.rows(`SELECT duration_s FROM outage WHERE uai = '${CUT}'`, DB)).length > 0,
        60_000,
      );
      const outages = await influx.query(
        `SELECT duration_s FROM outage WHERE uai = '${CUT}' GROUP BY cause`,
        DB,
      );
      const causes = (outages.results[0]?.series ?? []).map((s) => s.tags?.['cause']);
      box.stop();
      expect(causes).toEqual(['power_or_box']);
    },
    BUDGET_MS,
  );
});
