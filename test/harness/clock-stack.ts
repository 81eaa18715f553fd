// The stack for the clock tests (issue 14, clocks): a real Mosquitto, InfluxDB and webhook receiver,
// the real `vigie collector` process with its HTTP API, second-scale presence and alerts for schools
// open around the clock; and boxes as MQTT clients that connect and announce themselves as an agent
// does (a retained will, a retained birth), stamped by a clock the test sets wrong on purpose.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { statusTopic } from '../../shared/topics.ts';
import { type CollectorProcess, collectorProcess } from './collector.ts';
import { freePort, tempDir } from './daemon.ts';
import { type InfluxHandle, startInfluxdb } from './influxdb.ts';
import { type MosquittoHandle, startMosquitto } from './mosquitto.ts';
import { type GenericAlert, genericAlerts, startWebhookReceiver, type WebhookReceiver } from './webhook.ts';

export interface ClockStackOptions {
  /** The InfluxDB database the collector writes. */
  database: string;
  /** The collector's MQTT client id. */
  clientId: string;
  /** The schools' UAIs, all in the registry, open around the clock. */
  schools: string[];
  /** `presence.silentAfterIntervals` (intervals of 1 s): silence declared after that many. */
  silentAfterIntervals: number;
  /** Further `alerts` keys (e.g. `rounds`). */
  alerts?: Record<string, unknown>;
  /** Runs once the broker is up, before the collector starts: what the collector must hear first. */
  beforeCollector?: (broker: MosquittoHandle) => Promise<void>;
}

export interface ClockStack {
  broker: MosquittoHandle;
  influx: InfluxHandle;
  hook: WebhookReceiver;
  collector: CollectorProcess;
  /** The collector's HTTP API, `http://127.0.0.1:PORT`. */
  apiUrl: string;
  /** Every alert the webhook received, in order. */
  messages(): GenericAlert[];
  dispose(): Promise<void>;
}

/** Starts the peers and the collector (waits until it is up). */
export async function startClockStack(opts: ClockStackOptions): Promise<ClockStack> {
  const [broker, influx, hook] = await Promise.all([
    startMosquitto(),
    startInfluxdb(),
    startWebhookReceiver(),
  ]);
  const schools = join(tempDir('schools'), 'schools.csv');
  writeFileSync(
    schools,
    `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours\n${opts.schools
      .map((u) => `${u},École ${u},Vienne,45.5,4.8,Orange,100,20,always`)
      .join('\n')}\n`,
  );
  const port = await freePort();
  const always = Object.fromEntries(
    ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
  );
  const collector = collectorProcess({
    mqttUrl: broker.url,
    influxUrl: influx.url,
    database: opts.database,
    clientId: opts.clientId,
    schools,
    extra: {
      http: { enabled: true, host: '127.0.0.1', port },
      presence: {
        intervalSeconds: 1,
        silentAfterIntervals: opts.silentAfterIntervals,
        tickMs: 100,
        classifyWithinSeconds: 5,
      },
      alerts: {
        language: 'en',
        graceSeconds: 1,
        ...opts.alerts,
        hours: { always },
        channels: { webhooks: [{ url: hook.url, format: 'generic', retries: 2 }] },
      },
    },
  });
  const stack: ClockStack = {
    broker,
    influx,
    hook,
    collector,
    apiUrl: `http://127.0.0.1:${port}`,
    messages: () => genericAlerts(hook),
    async dispose() {
      await collector.daemon.dispose();
      await Promise.all([broker.daemon.dispose(), influx.daemon.dispose(), hook.close()]);
    },
  };
  try {
    await opts.beforeCollector?.(broker);
    await collector.daemon.start();
  } catch (err) {
    await stack.dispose();
    throw err;
  }
  return stack;
}

export interface BoxIdentity {
  /** The school's UAI; the agent id is always `box`. */
  school: string;
  /** The MQTT client id. */
  clientId: string;
  /** The box's clock, ms since the epoch: what it stamps its will and birth with. */
  clock: () => number;
  /** When its agent process started, by its clock (ms since the epoch), read when the birth is sent. */
  startedAt: () => number;
}

/**
 * Connects a box as an agent does: keepalive 2 s, no reconnection, a retained will (`offline`, reason
 * `will`) stamped at connection, then a retained birth (`online`, reason `birth`). Resolves with the
 * client once the birth is acknowledged; on a failed connection or birth it closes the client and rejects.
 */
export async function connectBox(brokerUrl: string, box: BoxIdentity): Promise<MqttClient> {
  const will = { v: 1, uai: box.school, agent: 'box', state: 'offline', t: box.clock(), reason: 'will' };
  const client = mqtt.connect(brokerUrl, {
    clientId: box.clientId,
    keepalive: 2,
    reconnectPeriod: 0,
    will: {
      topic: statusTopic(box.school, 'box'),
      payload: Buffer.from(JSON.stringify(will)),
      qos: 1,
      retain: true,
    },
  });
  try {
    await new Promise<void>((ok, fail) => {
      client.once('connect', () => ok());
      client.once('error', fail);
    });
    const birth = {
      v: 1,
      uai: box.school,
      agent: 'box',
      state: 'online',
      t: box.clock(),
      startedAt: box.startedAt(),
      reason: 'birth',
    };
    await client.publishAsync(statusTopic(box.school, 'box'), JSON.stringify(birth), {
      qos: 1,
      retain: true,
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return client;
}
