// The stack for the identity-conflict tests (issue 14 §3): a real Mosquitto, InfluxDB and webhook
// receiver, the real `vigie collector` process with second-scale presence and alerts for one school
// open around the clock, and real `vigie agent` boxes of that school reconnecting and backing off from
// a takeover within seconds, so that two boxes swap several times in a test's window.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentCli, agentCli } from './agent-cli.ts';
import { type CollectorProcess, collectorProcess } from './collector.ts';
import { requireBinary, sleep, tempDir, waitFor } from './daemon.ts';
import { type InfluxHandle, startInfluxdb } from './influxdb.ts';
import { type MosquittoHandle, startMosquitto } from './mosquitto.ts';
import { type GenericAlert, genericAlerts, startWebhookReceiver, type WebhookReceiver } from './webhook.ts';

export interface IdentityConflictOptions {
  /** The school's UAI (with its check letter). */
  uai: string;
  /** Its name in the registry. */
  schoolName: string;
  /** The InfluxDB database the collector writes. */
  database: string;
  /** The collector's MQTT client id. */
  clientId: string;
  /** Prefix of each box's temporary folder (spool, config, log). */
  boxDirPrefix: string;
  /**
   * With it, the broker is set up as the stack's (deploy/mosquitto/mosquitto.conf: a password file and
   * use_username_as_clientid, so the account is the client id), the school's boxes log in as the UAI with
   * this password and the collector with its own account.
   */
  schoolPassword?: string;
}

export interface IdentityConflictStack {
  broker: MosquittoHandle;
  influx: InfluxHandle;
  hook: WebhookReceiver;
  collector: CollectorProcess;
  /** A box of the school under agent id `id`, its folder named after `name`; not started. */
  box(name: string, id: string): AgentCli;
  /** Starts a box's process; dispose() kills it if still running. */
  run(box: AgentCli): ChildProcess;
  /** Every alert the webhook received, in order. */
  messages(): GenericAlert[];
  /** How many times a box has logged "connected to the broker". */
  connects(box: AgentCli): number;
  /** The school's presence points (agent and school scope), [] while the measurement does not exist. */
  presenceRows(): Promise<Record<string, unknown>[]>;
  /**
   * Runs `first` until the school is online in InfluxDB (60 s at most, else throws), then `second`
   * beside it for `windowMs`. Returns how many presence points there were before `second` started and
   * how long, in seconds, both then ran.
   */
  sideBySide(
    first: AgentCli,
    second: AgentCli,
    windowMs: number,
  ): Promise<{ presenceBefore: number; seconds: number }>;
  dispose(): Promise<void>;
}

const ALWAYS = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
);
const COLLECTOR_ACCOUNT = { username: 'vigie-collector', password: 'c0llector' };

function registry(uai: string, schoolName: string): string {
  const file = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    file,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${uai},${schoolName},Lyon,45.7,4.8,Orange,100,20,always\n`,
  );
  return file;
}

/** A password file with the school's and the collector's accounts, readable by the broker. */
function passwordFile(uai: string, password: string): string {
  const dir = tempDir('account-broker');
  const passwd = join(dir, 'passwd');
  execFileSync(requireBinary('mosquitto_passwd'), ['-b', '-c', passwd, uai, password], { stdio: 'pipe' });
  execFileSync(
    requireBinary('mosquitto_passwd'),
    ['-b', passwd, COLLECTOR_ACCOUNT.username, COLLECTOR_ACCOUNT.password],
    { stdio: 'pipe' },
  );
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return passwd;
}

/** Starts the peers and the collector (waits until it is up). */
export async function startIdentityConflictStack(
  opts: IdentityConflictOptions,
): Promise<IdentityConflictStack> {
  const account = opts.schoolPassword;
  const passwd = account === undefined ? undefined : passwordFile(opts.uai, account);
  const [broker, influx, hook] = await Promise.all([
    startMosquitto(
      passwd === undefined
        ? {}
        : { extraConfig: [`password_file ${passwd}`, 'use_username_as_clientid true'].join('\n') },
    ),
    startInfluxdb(),
    startWebhookReceiver(),
  ]);
  const collector = collectorProcess({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database: opts.database,
    clientId: opts.clientId,
    schools: registry(opts.uai, opts.schoolName),
    extra: {
      ...(account === undefined ? {} : { mqtt: COLLECTOR_ACCOUNT }),
      presence: { intervalSeconds: 1, silentAfterIntervals: 5, tickMs: 100, classifyWithinSeconds: 5 },
      alerts: {
        language: 'en',
        graceSeconds: 3,
        hours: { always: ALWAYS },
        channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 2 }] },
      },
    },
  });
  const children: ChildProcess[] = [];
  const stack: IdentityConflictStack = {
    broker,
    influx,
    hook,
    collector,
    box: (name, id) =>
      agentCli(tempDir(`${opts.boxDirPrefix}-${name}`), {
        uai: opts.uai,
        id,
        mqtt: {
          url: broker.url,
          ...(account === undefined ? {} : { username: opts.uai, password: account }),
          reconnectMinS: 0.5,
          reconnectMaxS: 2,
          // Minutes by default; seconds here so that both boxes are thrown off and come back in the window.
          takeoverBackoffMinS: 10,
          takeoverBackoffMaxS: 20,
        },
      }),
    run(box) {
      const child = box.start();
      children.push(child);
      return child;
    },
    messages: () => genericAlerts(hook),
    connects: (box) => box.log().split('connected to the broker').length - 1,
    presenceRows: () =>
      influx.rows(`SELECT * FROM presence WHERE uai = '${opts.uai}'`, opts.database).catch(() => []),
    async sideBySide(first, second, windowMs) {
      stack.run(first);
      await waitFor(
        'the school online in InfluxDB',
        async () =>
          (await stack.presenceRows()).some((r) => r['scope'] === 'school' && r['state'] === 'online'),
        60_000,
      );
      const presenceBefore = (await stack.presenceRows()).length;
      const secondAt = Date.now();
      stack.run(second);
      await sleep(windowMs);
      return { presenceBefore, seconds: (Date.now() - secondAt) / 1000 };
    },
    async dispose() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all([
        collector.daemon.dispose(),
        broker.daemon.dispose(),
        influx.daemon.dispose(),
        hook.close(),
      ]);
    },
  };
  try {
    await collector.daemon.start();
  } catch (err) {
    await stack.dispose();
    throw err;
  }
  return stack;
}
