// The collector's side of MQTT: the broker (the embedded one when no URL is configured), one client
// with a persistent session, the subscriptions, and acks sent in batches per event-loop turn.
//
// Ack timing: mqtt.js handles one incoming packet at a time and sends the PUBACK when handleMessage
// calls back. The router calls back as soon as the message is in the write-ahead log, so the stream
// never waits for InfluxDB; only a full log holds the callback (back-pressure: the broker keeps the rest).
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { ConfigError } from '../../shared/config.ts';
import { type Logger, redactUrl } from '../../shared/log.ts';
import type { CollectorConfig } from '../config.ts';
import type { EmbeddedBroker, EmbeddedBrokerStats } from '../embedded-broker.ts';
import { type CopyRole, roleOf, subscriptions } from './copies.ts';
import type { FaultOutcome } from './router.ts';

export interface MessageHandler {
  /** role: which copy of a metrics message this is, for a collector in a group (ingest/copies.ts). */
  handle(packet: IPublishPacket, ack: () => void, role: CopyRole): void;
  fault(packet: IPublishPacket, err: unknown, ack: () => void): FaultOutcome;
}

export interface MqttSourceParts {
  config: Pick<CollectorConfig, 'mqtt' | 'broker'>;
  handler: MessageHandler;
  /** The collector's own broker connection: up at each connect, down at each unexpected close. */
  onConnection: (up: boolean) => void;
  log: Logger;
}

/** Messages handled in one turn of the event loop (a few ms) before other I/O gets its turn. */
const INTAKE_TURN = 64;

export class MqttSource {
  connected = false;
  private client: MqttClient | null = null;
  private broker: EmbeddedBroker | null = null;
  private url: string | undefined;
  private closing = false;

  constructor(private readonly parts: MqttSourceParts) {}

  /** The broker listened to; known once connect() was called. */
  get brokerUrl(): string {
    if (!this.url) throw new Error('the MQTT source is not connected yet');
    return this.url;
  }

  brokerStats(): EmbeddedBrokerStats | undefined {
    return this.broker?.stats();
  }

  /** Starts the embedded broker if needed and connects; messages flow from here on. */
  async connect(): Promise<void> {
    const { config, log } = this.parts;
    this.url = config.mqtt?.url;
    if (!this.url) {
      // aedes is loaded only when the collector runs its own broker.
      const { startEmbeddedBroker } = await import('../embedded-broker.ts');
      this.broker = await startEmbeddedBroker(config.broker, log);
      this.url = this.broker.url;
      log.info({ url: this.url }, 'no broker configured: running the embedded MQTT broker');
    }
    const client = mqtt.connect(this.url, clientOptions(config.mqtt, this.broker));
    this.client = client;
    batchAcksPerTurn(client, this.parts.handler);
    const subs = subscriptions(config.mqtt?.group);
    const url = this.url;
    client.on('connect', (connack) => {
      this.connected = true;
      log.info(
        { url: redactUrl(url), sessionPresent: connack.sessionPresent },
        'connected to the MQTT broker',
      );
      this.parts.onConnection(true);
      for (const sub of subs)
        client.subscribe(
          sub.filters,
          sub.subscriptionIdentifier
            ? { properties: { subscriptionIdentifier: sub.subscriptionIdentifier } }
            : {},
          (err, granted) => {
            if (err) log.error({ err }, 'subscription refused');
            for (const g of granted ?? [])
              if (g.qos === 128) log.error({ topic: g.topic }, 'the broker refused this subscription');
          },
        );
    });
    client.on('close', () => {
      if (!this.connected || this.closing) return;
      this.connected = false;
      log.warn({ url: redactUrl(url) }, 'lost the MQTT broker; reconnecting');
      this.parts.onConnection(false);
    });
    client.on('error', (err) => log.warn({ err: err.message }, 'MQTT error'));
  }

  /** Ends the client (unacked messages stay with the broker); the embedded broker runs on until closeBroker. */
  async disconnect(): Promise<void> {
    this.closing = true;
    await this.client?.endAsync(true);
  }

  async closeBroker(): Promise<void> {
    await this.broker?.close();
  }
}

function clientOptions(mq: CollectorConfig['mqtt'], broker: EmbeddedBroker | null): IClientOptions {
  const protocolVersion = broker ? 4 : (mq?.protocolVersion ?? 5);
  const ca = mq?.ca ? readCa(mq.ca) : undefined;
  return {
    clientId: broker?.login.clientId ?? mq?.clientId ?? 'vigie-collector',
    clean: false,
    protocolVersion,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: mq?.sessionExpiryS ?? 604800 } } : {}),
    keepalive: mq?.keepaliveS ?? 60,
    reconnectPeriod: (mq?.reconnectS ?? 2) * 1000,
    // The embedded broker keeps the collector's client id for the login it drew for it.
    username: broker?.login.username ?? mq?.username,
    password: broker?.login.password ?? mq?.password,
    ...(ca ? { ca, rejectUnauthorized: true } : {}),
    queueQoSZero: false,
    resubscribe: true,
  };
}

/**
 * mqtt.js hands over every packet it has read before the event loop turns again: up to 2 MB (libuv
 * reads 32 × 64 KiB at once), some 600 messages and 70 ms, during which the shipper's writes to
 * InfluxDB wait. So after INTAKE_TURN messages the ack, and with it the next message, waits for the
 * next turn. And as mqtt.js uncorks its socket after every packet, the socket stays corked for the
 * turn: the PUBACKs leave in one write (one wake-up of the broker), each after its message is in the log.
 */
function batchAcksPerTurn(client: MqttClient, handler: MessageHandler): void {
  let turn = 0;
  client.handleMessage = (packet, callback) => {
    if (turn === 0) {
      const stream = client.stream;
      stream.cork();
      setImmediate(() => {
        turn = 0;
        stream.uncork();
      });
    }
    const later = ++turn >= INTAKE_TURN;
    let acked = false;
    const ack = () => {
      if (acked) return;
      acked = true;
      if (later) setImmediate(() => callback());
      else callback();
    };
    try {
      handler.handle(packet, ack, roleOf(packet));
    } catch (err) {
      if (handler.fault(packet, err, ack) === 'drop') client.stream.destroy();
    }
  };
}

/** The broker's CA for mqtts://: a missing file is a configuration error, said before connecting. */
function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError('collector config', [
      {
        path: 'collector.mqtt.ca',
        expected: 'a readable PEM file',
        found: `${path} (${(err as Error).message})`,
      },
    ]);
  }
}
