// Several collectors sharing the load (issue 18, docs/design-several-collectors.md): two `vigie collector`
// processes in one shared-subscription group on the real Mosquitto, one InfluxDB, the real Alertmanager.
// Mosquitto deals the group's messages out in turn across the whole stream, so with 10 agents each
// school's batches all go to one collector and with 11 they alternate: presence and alerts must not
// care. School agents are played by the stand-in process (birth, will, a batch a second).
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type AlertmanagerHandle, startAlertmanager } from '../harness/alertmanager.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { sleep, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto } from '../harness/mosquitto.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

// About 60 s idle (steady phases, a kill, a restart, a return), plus collector starts that take 10 s and
// more on a loaded machine: several times that.
const TEST_MS = 360_000;
const STANDIN = resolve(import.meta.dirname, 'alerts-standin.ts');
const DB = 'group18';
const INTERVAL_MS = 1000;
/** Silence window (3 intervals) + grace (2 s) + a margin: a false page would have come by then. */
const QUIET_MS = 7000;

const uai = (n: number) => {
  const d = String(n).padStart(7, '0');
  return d + uaiCheckLetter(d);
};
const STEADY = Array.from({ length: 9 }, (_, i) => uai(694001 + i));
const DEGRADED = uai(694101);
const KILLED = uai(694201);
const ALL = [...STEADY, DEGRADED, KILLED];

let broker: MosquittoHandle;
let influx: InfluxHandle;
let amHook: WebhookReceiver;
let am: AlertmanagerHandle;
const children: ChildProcess[] = [];
const collectors: CollectorProcess[] = [];

function registry(): string {
  const rows = ALL.map((u, i) => `${u},École ${i + 1},Commune ${i % 3},45.7,4.8,Isp ${i % 2},100,20,always`);
  const file = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    file,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${rows.join('\n')}\n`,
  );
  return file;
}

function member(clientId: string, schools: string): CollectorProcess {
  const day = ['00:00-24:00'];
  const c = collectorProcess(
    {
      mqttUrl: broker.url,
      influxUrl: influx.url,
      database: DB,
      clientId,
      group: 'vigie18',
      schools,
      extra: {
        presence: { intervalSeconds: 1, silentAfterIntervals: 3, tickMs: 100, classifyWithinSeconds: 3 },
        alerts: {
          graceSeconds: 2,
          hours: { always: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day } },
          channels: { alertmanager: { urls: [am.url], resendSeconds: 2, retries: 1 } },
        },
      },
    },
    {},
    [],
    90_000,
  );
  collectors.push(c);
  return c;
}

async function standin(schools: string[], seqStart: number, degraded: string[] = []): Promise<ChildProcess> {
  const spec = {
    url: broker.url,
    schools,
    agent: 'box',
    keepaliveS: 2,
    intervalMs: INTERVAL_MS,
    seqStart,
    degraded,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', STANDIN, JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((ok, fail) => {
    lines.on('line', (l) => l === 'ready' && ok());
    child.once('exit', (code) => fail(new Error(`stand-in agent exited with ${code}`)));
  });
  return child;
}

const kill9 = (child: ChildProcess) =>
  new Promise<void>((ok) => {
    child.once('exit', () => ok());
    child.kill('SIGKILL');
  });

interface Page {
  status: string;
  alertname: string;
  uai: string;
  startsAt: string;
}
/** Every alert of every notification Alertmanager sent its receiver. */
const pages = (): Page[] =>
  amHook.received.flatMap((r) =>
    (
      (r.body as { alerts?: { status: string; labels: Record<string, string>; startsAt: string }[] })
        .alerts ?? []
    ).map((a) => ({
      status: a.status,
      alertname: a.labels['alertname'] ?? '',
      uai: a.labels['uai'] ?? '',
      startsAt: a.startsAt,
    })),
  );
const summary = () => pages().map((p) => `${p.status} ${p.alertname} ${p.uai}`);

async function schoolStates(): Promise<Map<string, string[]>> {
  const rows = await influx.rows("SELECT state, uai FROM presence WHERE scope = 'school'", DB);
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(String(r['uai']), [...(out.get(String(r['uai'])) ?? []), String(r['state'])]);
  return out;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of collectors) await c.daemon.dispose();
  await Promise.all([
    broker?.daemon.dispose(),
    influx?.daemon.dispose(),
    amHook?.close(),
    am?.daemon.dispose(),
  ]);
});

describe('two collectors in one shared-subscription group', () => {
  it(
    '10 then 11 agents: no page; an agent killed -9: one page and one resolution with its start; a degraded school: one page; a collector killed -9: nothing false, nothing missed, every batch stored once',
    async () => {
      [broker, influx, amHook] = await Promise.all([
        startMosquitto(),
        startInfluxdb(),
        startWebhookReceiver(),
      ]);
      am = await startAlertmanager(amHook.url);
      const schools = registry();
      const [a, b] = [member('grp18-a', schools), member('grp18-b', schools)] as [
        CollectorProcess,
        CollectorProcess,
      ];
      await Promise.all([a.daemon.start(), b.daemon.start()]);

      // 10 agents (one of them degraded): each school's batches go to one collector of the two.
      await standin([...STEADY, DEGRADED], 0, [DEGRADED]);
      await waitFor(
        '10 schools online or degraded in InfluxDB',
        async () => {
          const states = await schoolStates();
          if (
            STEADY.every((u) => states.get(u)?.includes('online')) &&
            states.get(DEGRADED)?.includes('degraded')
          )
            return true;
          throw new Error(`school states so far: ${JSON.stringify([...states])}`);
        },
        60_000,
      );
      await sleep(QUIET_MS);
      expect(
        summary().filter((p) => !p.includes(DEGRADED)),
        'pages with 10 agents',
      ).toEqual([]);

      // 11 agents: batches alternate between the collectors.
      let killed = await standin([KILLED], 0);
      await waitFor(
        'the 11th school online',
        async () => (await schoolStates()).get(KILLED)?.includes('online') ?? false,
        60_000,
      );
      await sleep(QUIET_MS);
      expect(
        summary().filter((p) => !p.includes(DEGRADED)),
        'pages with 11 agents',
      ).toEqual([]);
      await waitFor(
        'the degraded page',
        async () => summary().includes(`firing vigie_school_degraded ${DEGRADED}`),
        60_000,
      );

      // A collector killed -9: the other carries on alone, no page.
      await b.daemon.kill9();
      await sleep(QUIET_MS);
      expect(
        summary().filter((p) => !p.includes(DEGRADED)),
        'pages after a collector was killed',
      ).toEqual([]);

      // The agent killed -9: one page, whose start is its last sign of life.
      const lastBatchBefore = Date.now();
      await kill9(killed);
      const killedAt = Date.now();
      await waitFor(
        'the offline page',
        async () => summary().includes(`firing vigie_school_offline ${KILLED}`),
        60_000,
      );
      const firing = pages().find((p) => p.alertname === 'vigie_school_offline')!;
      const start = Date.parse(firing.startsAt);
      expect(start).toBeGreaterThan(lastBatchBefore - INTERVAL_MS - 500);
      expect(start).toBeLessThanOrEqual(killedAt + 1);

      // The collector back: it rebuilds from InfluxDB and pages nothing again.
      await b.daemon.start();
      await sleep(QUIET_MS);
      // The agent back: one resolution.
      killed = await standin([KILLED], 100_000);
      await waitFor(
        'the resolution',
        async () => summary().includes(`resolved vigie_school_offline ${KILLED}`),
        60_000,
      );
      await waitFor(
        'the outage classified',
        async () => (await influx.rows(`SELECT * FROM outage WHERE uai = '${KILLED}'`, DB)).length > 0,
        60_000,
      );
      await sleep(QUIET_MS);

      expect(summary().sort()).toEqual(
        [
          `firing vigie_school_degraded ${DEGRADED}`,
          `firing vigie_school_offline ${KILLED}`,
          `resolved vigie_school_offline ${KILLED}`,
        ].sort(),
      );
      // One point per real change, whichever collector wrote it.
      const outages = await influx.rows('SELECT * FROM outage', DB);
      expect(outages.map((r) => r['uai'])).toEqual([KILLED]);
      expect(Number(outages[0]!['time'])).toBe(start);
      const states = await schoolStates();
      for (const u of STEADY) expect(states.get(u), u).toEqual(['online']);
      expect(states.get(DEGRADED)).toEqual(['online', 'degraded']);
      expect(states.get(KILLED)).toEqual(['online', 'offline', 'online']);
      const agentPoints = await influx.rows(
        "SELECT count(state_code) FROM presence WHERE scope = 'agent'",
        DB,
      );
      expect(agentPoints.reduce((n, r) => n + Number(r['count']), 0)).toBe(9 + 2 + 3);

      // Sequence audit: every batch the stand-ins published, once, no gap (the killed agent's runs apart).
      for (const child of children) child.kill('SIGKILL');
      await sleep(2000);
      const rows = await influx.rows('SELECT seq, uai FROM batch', DB);
      for (const u of ALL) {
        const seqs = rows.filter((r) => r['uai'] === u).map((r) => Number(r['seq']));
        for (const run of [seqs.filter((s) => s < 100_000), seqs.filter((s) => s >= 100_000)]) {
          if (!run.length) continue;
          const lo = Math.min(...run);
          expect(new Set(run).size, `${u} stored once`).toBe(run.length);
          expect(run.length, `${u} seq ${lo}..${Math.max(...run)} without gap`).toBe(
            Math.max(...run) - lo + 1,
          );
        }
      }
    },
    TEST_MS,
  );
});
