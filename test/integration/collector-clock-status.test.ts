// Issue 14 §1, kind "any step or offset of any clock never loses data", for statuses and events: the
// real `vigie collector` process on a real Mosquitto and InfluxDB, boxes as MQTT clients publishing what
// an agent publishes, their clock 1 h ahead, connected BEFORE the collector starts, so the first thing
// it hears of them is their retained birth — no batch has measured their clock yet. Before the fix that
// birth, the box's will and its events were refused as `clock_future`: the school stayed unknown and its
// power cut went unseen until the silence rule. Now each is accepted and corrected by the agent's clock
// book (collector/clock-offset.ts), like a batch.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../shared/schemas.ts';
import { eventsTopic, metricsTopic } from '../../shared/topics.ts';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type ClockStack, connectBox, startClockStack } from '../harness/clock-stack.ts';
import { sleep, waitFor } from '../harness/daemon.ts';
import { parsePrometheusText, sampleValue } from '../harness/prometheus-text.ts';

/** Broker, InfluxDB and collector start in ~15 s idle, the traffic lasts ~15 s: 2x+ on a loaded machine. */
const BUDGET_MS = 150_000;
const DB = 'clock_status';
const S = 1000;
const H = 3600 * S;
const uai = (n: number) => {
  const d = String(n).padStart(7, '0');
  return d + uaiCheckLetter(d);
};
/** Publishes batches once the collector is up. */
const LIVE = uai(6_901_501);
/** Publishes nothing after its birth, then loses power: only its will tells. */
const QUIET = uai(6_901_502);

let stack: ClockStack;
const clients: MqttClient[] = [];

const ping = (t: number, role: 'gateway' | 'anchor'): Sample => ({
  probe: 'ping',
  t,
  target: role,
  role,
  sent: 4,
  received: 4,
  lossPct: 0,
  medianMs: 12,
});

/** A box whose clock runs 1 h ahead, started 20 s ago: connects with a retained will, publishes a retained birth. */
function connectAheadBox(brokerUrl: string, school: string): Promise<MqttClient> {
  const clock = () => Date.now() + H;
  return connectBox(brokerUrl, {
    school,
    clientId: `clock-status-${school}`,
    clock,
    startedAt: () => clock() - 20 * S,
  });
}

const offlinePages = (u: string) =>
  stack.messages().filter((m) => m.uai === u && m.kind === 'school_offline');
const presenceOf = async (u: string) =>
  stack.influx
    .rows(`SELECT state, reason FROM presence WHERE uai = '${u}' AND scope = 'school'`, DB)
    .catch(() => [] as Record<string, unknown>[]);
async function refused(reason: string): Promise<number> {
  const families = parsePrometheusText(await (await fetch(`${stack.apiUrl}/metrics`)).text());
  return sampleValue(families, 'vigie_collector_rejected_total', { reason }) ?? 0;
}

beforeAll(async () => {
  stack = await startClockStack({
    database: DB,
    clientId: 'clock-status-collector',
    schools: [LIVE, QUIET],
    // Silence after 120 s: within this test only a will can take a school offline.
    silentAfterIntervals: 120,
    // The boxes were there first: what the collector hears of them at start is their retained birth.
    beforeCollector: async (broker) => {
      // clients[0] is LIVE's box, clients[1] QUIET's.
      clients.push(
        ...(await Promise.all([connectAheadBox(broker.url, LIVE), connectAheadBox(broker.url, QUIET)])),
      );
    },
  });
}, BUDGET_MS);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await stack?.dispose();
});

describe('statuses and events from a box 1 h ahead, heard before any batch', () => {
  it(
    'its retained birth brings the school online, its event is taken, its batches are stored: nothing refused, nobody paged',
    async () => {
      const { influx, apiUrl } = stack;
      await waitFor(
        'both schools online from their retained birth',
        async () => {
          const [live, quiet] = await Promise.all([presenceOf(LIVE), presenceOf(QUIET)]);
          return [live, quiet].every((rows) => rows.some((r) => r['state'] === 'online'));
        },
        60_000,
      );
      // Online from the birth itself (nothing else was sent yet), not from a later batch.
      expect((await presenceOf(LIVE))[0]).toMatchObject({ state: 'online', reason: 'retained_online' });
      expect((await presenceOf(QUIET))[0]).toMatchObject({ state: 'online', reason: 'retained_online' });

      const box = clients[0]!;
      const event = { v: 1, uai: LIVE, agent: 'box', t: Date.now() + H, kind: 'started', message: 'hello' };
      await box.publishAsync(eventsTopic(LIVE, 'box'), JSON.stringify(event), { qos: 1 });
      for (let seq = 1; seq <= 5; seq++) {
        const t = Date.now() + H;
        const batch = {
          v: 1,
          uai: LIVE,
          agent: 'box',
          seq,
          t: t - S,
          sentAt: t,
          samples: [ping(t - S, 'gateway'), ping(t - S, 'anchor')],
        };
        await box.publishAsync(metricsTopic(LIVE, 'box'), JSON.stringify(batch), { qos: 1 });
        await sleep(250); // an agent's pace, not a wait for anything
      }
      await waitFor('the 5 batches stored', async () => {
        const n = await influx
          .rows(`SELECT count(seq) AS n FROM batch WHERE uai = '${LIVE}'`, DB)
          .catch(() => []);
        return Number(n[0]?.['n']) === 5;
      });
      const families = parsePrometheusText(await (await fetch(`${apiUrl}/metrics`)).text());
      expect(
        sampleValue(families, 'vigie_collector_messages_total', { kind: 'events' }) ?? 0,
      ).toBeGreaterThanOrEqual(1);
      expect(await refused('clock_future')).toBe(0);
      expect(offlinePages(LIVE)).toEqual([]);
      expect(offlinePages(QUIET)).toEqual([]);
      expect((await presenceOf(LIVE)).map((r) => r['state'])).not.toContain('offline');
    },
    BUDGET_MS,
  );

  it(
    'its will, stamped 1 h ahead, takes the school offline at once (not 2 min later by silence)',
    async () => {
      const quiet = clients[1]!;
      const cutAt = Date.now();
      quiet.stream.destroy(); // power cut: no DISCONNECT, the broker publishes the will
      await waitFor(
        'the school offline by its will',
        async () => (await presenceOf(QUIET)).some((r) => r['state'] === 'offline'),
        60_000,
      );
      const offline = (await presenceOf(QUIET)).find((r) => r['state'] === 'offline')!;
      expect(offline['reason']).toMatch(/will/);
      // Well before the 120 s silence: the will was taken.
      expect(Date.now() - cutAt).toBeLessThan(60_000);
      expect(await refused('clock_future')).toBe(0);
    },
    BUDGET_MS,
  );
});
