// A real WAN cut long enough for the agent's MQTT session to drop and its reconnect backoff to grow,
// in network namespaces, with the real agent and the real `vigie collector` at their default
// backoff (reconnectMaxS 60): when the link comes back the agent reconnects within seconds (the
// backoff starts over when an anchor answers again) and the outage is recorded as a WAN cut. During
// the cut, `vigie agent --once` (the installer's check) says the school cannot reach the internet.
//
//   [school ns] 198.18.A.2 ── 198.18.A.1 [router ns] 198.18.B.2 ══WAN══ 198.18.B.1 [host: Mosquitto]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { type Daemon, freePort, requireBinary, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, tcpAnswers } from '../harness/mosquitto.ts';
import { createSchoolBehindRouter, type SchoolBehindRouter } from '../harness/netns.ts';
import { schoolAgent, startWanBroker } from '../harness/school-agent.ts';

const SCHOOL = `0693002${uaiCheckLetter('0693002')}`;
const DB = 'wan_cut_reconnect';
const TAG = `vw${randomBytes(2).toString('hex')}`;
let net: SchoolBehindRouter;
/** The agent reconnects within this of the link's return (an anchor round every 5 s, then a connect). */
const RECONNECT_BUDGET_MS = 20_000;
/** Restored only once the agent waits at least this long before its next attempt (old code: ≥ that). */
const GROWN_BACKOFF_MS = 25_000;

let broker: MosquittoHandle;
let influx: InfluxHandle;
let agent: Daemon;
let collector: CollectorProcess;
let brokerPort: number;
/** `ip` arguments running the agent on its config in the school's namespace. */
let agentArgs: (...extra: string[]) => string[];

function startAgent(): Daemon {
  const school = schoolAgent(net, {
    uai: SCHOOL,
    brokerPort,
    // Default backoff (1 s doubling to 60 s); a keepalive shorter than the cut drops the session.
    mqtt: { keepaliveS: 5, connectTimeoutS: 3 },
    probes: {
      // Beyond the router, as the internet is: they fail with it.
      dns: { timeoutS: 3, queries: [{ resolver: `${net.wanHost}:53`, name: 'ent.example' }] },
      http: {
        timeoutS: 4,
        targets: [{ url: `http://${net.wanHost}:${brokerPort + 1}/`, name: 'ent' }],
      },
    },
    dirPrefix: 'agent-wan-cut',
    env: { VIGIE_LOG_LEVEL: 'info' },
  });
  agentArgs = school.args;
  return school.daemon;
}

const agentLines = () =>
  readFileSync(agent.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; time: number; delayMs?: number });

const once = () => spawnSync(requireBinary('ip'), agentArgs('--once'), { encoding: 'utf8', timeout: 90_000 });

const schoolStates = async () =>
  (await influx.rows(`SELECT state FROM presence WHERE uai = '${SCHOOL}' AND scope = 'school'`, DB)).map(
    (r) => r['state'],
  );

beforeAll(async () => {
  net = await createSchoolBehindRouter(TAG);
  brokerPort = await freePort();
  [broker, influx] = await Promise.all([startWanBroker(net, brokerPort), startInfluxdb()]);
  expect(await tcpAnswers(brokerPort, net.wanHost)).toBe(true);
  const dir = tempDir('schools');
  const schools = join(dir, 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${SCHOOL},École des Tilleuls,Caluire,45.79,4.85,Orange,100,20,school\n`,
  );
  collector = collectorProcess({
    mqttUrl: `mqtt://127.0.0.1:${brokerPort}`,
    influxUrl: influx.url,
    database: DB,
    clientId: `wan-cut-${TAG}`,
    schools,
    extra: {
      presence: { intervalSeconds: 5, silentAfterIntervals: 3, tickMs: 200, classifyWithinSeconds: 30 },
    },
  });
  await collector.daemon.start();
  agent = startAgent();
  await agent.start();
}, 180_000);

afterAll(async () => {
  await agent?.dispose();
  await collector?.daemon.dispose();
  await Promise.all([broker?.daemon.dispose(), influx?.daemon.dispose()]);
  await net?.destroy();
});

describe('a WAN cut longer than the agent keepalive', () => {
  it('--once: the school reaches the internet (exit 0), then, cut, it does not (exit 3, a plain verdict)', async () => {
    await waitFor('the school online', async () => (await schoolStates()).includes('online'), 90_000, 200);
    const up = once();
    expect(up.status, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain('VERDICT: the school reaches the internet.');
    await net.setWan('down');
    const down = once();
    await net.setWan('up');
    expect(down.status, down.stdout + down.stderr).toBe(3);
    expect(down.stdout).toContain('VERDICT : l’école n’atteint PAS internet. La passerelle répond');
    expect(down.stdout).toContain('VERDICT: the school CANNOT reach the internet. The gateway answers');
    expect(down.stdout + down.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(down.stderr).toBe('');
  }, 240_000);

  it('reconnects within seconds of the link coming back and records a wan_cut', async () => {
    const connects = () => agentLines().filter((l) => l.msg === 'connected to the broker').length;
    await waitFor('the agent connected', async () => connects() > 0, 60_000, 200);
    const before = connects();
    const cutAt = Date.now();
    await net.setWan('down');
    // Long enough for the session to drop and the backoff to grow past GROWN_BACKOFF_MS.
    await waitFor(
      'a grown reconnect backoff',
      async () =>
        agentLines().some(
          (l) =>
            l.msg === 'reconnecting to the broker' && l.time > cutAt && (l.delayMs ?? 0) >= GROWN_BACKOFF_MS,
        ),
      180_000,
      200,
    );
    const restoredAt = Date.now();
    await net.setWan('up');
    await waitFor('the agent reconnected', async () => connects() > before, 120_000, 100);
    const back = agentLines().find((l) => l.msg === 'connected to the broker' && l.time > restoredAt);
    const reconnectMs = (back?.time ?? Date.now()) - restoredAt;
    console.log(JSON.stringify({ cutS: (restoredAt - cutAt) / 1000, reconnectMs }));
    expect(reconnectMs, agent.logTail(30)).toBeLessThan(RECONNECT_BUDGET_MS);

    await waitFor(
      'the outage classified',
      async () => (await influx.rows('SELECT duration_s, cause FROM outage', DB)).length > 0,
      120_000,
      500,
    ).catch(async (err: Error) => {
      const log = readFileSync(collector.daemon.logFile, 'utf8').split('\n');
      const said = log.filter((l) => /outage|offline|online|presence/i.test(l)).slice(-15);
      throw new Error(`${err.message}\nstates ${JSON.stringify(await schoolStates())}\n${said.join('\n')}`);
    });
    const [outage] = await influx.rows('SELECT cause, duration_s FROM outage', DB);
    expect(outage!['cause'], JSON.stringify(outage)).toBe('wan_cut');
  }, 420_000);
});
