// A real WAN cut long enough for the agent's MQTT session to drop and its reconnect backoff to grow,
// in network namespaces, with the real agent and the real `vigie collector` at their default
// backoff (reconnectMaxS 60): when the link comes back the agent reconnects within seconds (the
// backoff starts over when an anchor answers again) and the outage is recorded as a WAN cut. During
// the cut, `vigie agent --once` (the installer's check) says the school cannot reach the internet.
//
//   [school ns] 198.18.A.2 ── 198.18.A.1 [router ns] 198.18.B.2 ══WAN══ 198.18.B.1 [host: Mosquitto]
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { Daemon, freePort, requireBinary, tempDir, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';
import { type MosquittoHandle, startMosquitto, tcpAnswers } from '../harness/mosquitto.ts';

const execFileP = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const SCHOOL = `0693002${uaiCheckLetter('0693002')}`;
const DB = 'wan_cut_reconnect';
const TAG = `vw${randomBytes(2).toString('hex')}`;
const NS_SCHOOL = `${TAG}s`;
const NS_ROUTER = `${TAG}r`;
const WAN_HOST = `${TAG}w0`;
const WAN_ROUTER = `${TAG}w1`;
const block = (randomBytes(2).readUInt16BE(0) & 0x3fff) * 8;
const addr = (offset: number) => {
  const n = ((198 << 24) >>> 0) + (18 << 16) + block + offset;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
};
const LAN_ROUTER = addr(1);
const LAN_SCHOOL = addr(2);
const LAN_NET = `${addr(0)}/30`;
const WAN_HOST_ADDR = addr(5);
const WAN_ROUTER_ADDR = addr(6);
/** The agent reconnects within this of the link's return (an anchor round every 5 s, then a connect). */
const RECONNECT_BUDGET_MS = 20_000;
/** Restored only once the agent waits at least this long before its next attempt (old code: ≥ that). */
const GROWN_BACKOFF_MS = 25_000;

const ip = async (...args: string[]) => {
  await execFileP(requireBinary('ip'), args, { timeout: 20_000 });
};
async function setWan(state: 'up' | 'down'): Promise<void> {
  await ip('link', 'set', WAN_HOST, state);
  if (state === 'up') await ip('route', 'replace', LAN_NET, 'via', WAN_ROUTER_ADDR, 'dev', WAN_HOST);
}

async function topology(): Promise<void> {
  await ip('netns', 'add', NS_SCHOOL);
  await ip('netns', 'add', NS_ROUTER);
  await ip(
    'link',
    'add',
    `${TAG}l0`,
    'netns',
    NS_SCHOOL,
    'type',
    'veth',
    'peer',
    'name',
    `${TAG}l1`,
    'netns',
    NS_ROUTER,
  );
  await ip('link', 'add', WAN_HOST, 'type', 'veth', 'peer', 'name', WAN_ROUTER, 'netns', NS_ROUTER);
  await ip('-n', NS_SCHOOL, 'addr', 'add', `${LAN_SCHOOL}/30`, 'dev', `${TAG}l0`);
  await ip('-n', NS_ROUTER, 'addr', 'add', `${LAN_ROUTER}/30`, 'dev', `${TAG}l1`);
  await ip('-n', NS_ROUTER, 'addr', 'add', `${WAN_ROUTER_ADDR}/30`, 'dev', WAN_ROUTER);
  await ip('addr', 'add', `${WAN_HOST_ADDR}/30`, 'dev', WAN_HOST);
  for (const [ns, dev] of [
    [NS_SCHOOL, `${TAG}l0`],
    [NS_ROUTER, `${TAG}l1`],
    [NS_ROUTER, WAN_ROUTER],
    [NS_SCHOOL, 'lo'],
    [NS_ROUTER, 'lo'],
  ] as const)
    await ip('-n', ns, 'link', 'set', dev, 'up');
  await ip('link', 'set', WAN_HOST, 'up');
  await ip('-n', NS_SCHOOL, 'route', 'add', 'default', 'via', LAN_ROUTER);
  await ip('-n', NS_ROUTER, 'route', 'add', 'default', 'via', WAN_HOST_ADDR);
  await execFileP(requireBinary('ip'), [
    'netns',
    'exec',
    NS_ROUTER,
    'sysctl',
    '-qw',
    'net.ipv4.ip_forward=1',
  ]);
  await ip('route', 'replace', LAN_NET, 'via', WAN_ROUTER_ADDR, 'dev', WAN_HOST);
}

async function teardown(): Promise<void> {
  for (const ns of [NS_SCHOOL, NS_ROUTER]) await ip('netns', 'del', ns).catch(() => {});
  await ip('link', 'del', WAN_HOST).catch(() => {});
}

let broker: MosquittoHandle;
let influx: InfluxHandle;
let agent: Daemon;
let collector: CollectorProcess;
let brokerPort: number;
let agentConfig: string;

const pingProbe = {
  intervalS: 5,
  timeoutS: 4.5,
  jitter: 0,
  count: 10,
  echoIntervalMs: 200,
  echoTimeoutS: 1,
  targets: [
    { host: LAN_ROUTER, name: 'gateway', role: 'gateway' },
    { host: WAN_HOST_ADDR, name: 'anchor', role: 'anchor' },
  ],
};

function startAgent(): Daemon {
  const dir = tempDir('agent-wan-cut');
  agentConfig = join(dir, 'agent.yaml');
  writeFileSync(
    agentConfig,
    stringify({
      agent: {
        uai: SCHOOL,
        id: 'box-1',
        // Default backoff (1 s doubling to 60 s); a keepalive shorter than the cut drops the session.
        mqtt: { url: `mqtt://${WAN_HOST_ADDR}:${brokerPort}`, keepaliveS: 5, connectTimeoutS: 3 },
        spool: { dir: join(dir, 'spool') },
        batchIntervalS: 1,
        probes: {
          ping: pingProbe,
          self: { intervalS: 5, jitter: 0 },
          // Beyond the router, as the internet is: they fail with it.
          dns: { timeoutS: 3, queries: [{ resolver: `${WAN_HOST_ADDR}:53`, name: 'ent.example' }] },
          http: {
            timeoutS: 4,
            targets: [{ url: `http://${WAN_HOST_ADDR}:${brokerPort + 1}/`, name: 'ent' }],
          },
          wan: { enabled: false },
          wifi: { enabled: false },
          speedtest: { enabled: false },
        },
      },
    }),
  );
  return new Daemon({
    name: 'agent',
    binary: 'ip',
    args: [
      'netns',
      'exec',
      NS_SCHOOL,
      process.execPath,
      join(ROOT, 'bin/vigie.js'),
      'agent',
      '--config',
      agentConfig,
    ],
    dir,
    env: { VIGIE_LOG_LEVEL: 'info' },
    ready: async () => true,
  });
}

const agentLines = () =>
  readFileSync(agent.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; time: number; delayMs?: number });

const once = () =>
  spawnSync(
    requireBinary('ip'),
    [
      'netns',
      'exec',
      NS_SCHOOL,
      process.execPath,
      join(ROOT, 'bin/vigie.js'),
      'agent',
      '--config',
      agentConfig,
      '--once',
    ],
    { encoding: 'utf8', timeout: 90_000 },
  );

const schoolStates = async () =>
  (await influx.rows(`SELECT state FROM presence WHERE uai = '${SCHOOL}' AND scope = 'school'`, DB)).map(
    (r) => r['state'],
  );

beforeAll(async () => {
  await teardown();
  await topology();
  brokerPort = await freePort();
  [broker, influx] = await Promise.all([
    startMosquitto({
      listener: false,
      readyPort: brokerPort,
      extraConfig: [
        `listener ${brokerPort} 127.0.0.1`,
        `listener ${brokerPort} ${WAN_HOST_ADDR}`,
        'allow_anonymous true',
      ].join('\n'),
    }),
    startInfluxdb(),
  ]);
  expect(await tcpAnswers(brokerPort, WAN_HOST_ADDR)).toBe(true);
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
  await teardown();
});

describe('a WAN cut longer than the agent keepalive', () => {
  it('--once: the school reaches the internet (exit 0), then, cut, it does not (exit 3, a plain verdict)', async () => {
    await waitFor('the school online', async () => (await schoolStates()).includes('online'), 90_000, 200);
    const up = once();
    expect(up.status, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toContain('VERDICT: the school reaches the internet.');
    await setWan('down');
    const down = once();
    await setWan('up');
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
    await setWan('down');
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
    await setWan('up');
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
