// Publishes the spool over MQTT (QoS 1) and nothing else: a batch leaves the spool only on its PUBACK.
// Each connection gets a fresh mqtt.js client with auto-reconnect off: on a drop, everything in
// flight is forgotten with the client (its in-memory store never holds more than the in-flight
// window) and replayed from the spool after a capped, jittered backoff.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { backoffDelayMs } from '../shared/backoff.ts';
import { type Logger, redactUrl } from '../shared/log.ts';
import { eventMessage, statusMessage } from '../shared/messages.ts';
import type { EventMessage, StatusMessage } from '../shared/schemas.ts';
import { eventsTopic, metricsTopic, statusTopic } from '../shared/topics.ts';
import { stampSend } from './batch.ts';
import { secondsSinceClockSync } from './clock-sync.ts';
import type { MqttClientConfig } from './config.ts';
import type { Spool } from './spool.ts';
import { initialTakeoverState, judgeConnectionEnd, type TakeoverState, takeoverDelayMs } from './takeover.ts';

/** CONNACK return code of a 3.1.1-only broker answering an MQTT 5 CONNECT. */
const UNACCEPTABLE_PROTOCOL_V3 = 1;
/**
 * CONNACK codes by which the broker refuses the credential: MQTT 3.1.1 §3.2.2.3 (4 bad user name or
 * password, 5 not authorized; Mosquitto answers 5 for a wrong password) and MQTT 5 §3.2.2.2 (0x86, 0x87).
 */
const REFUSED_CREDENTIAL = new Set([4, 5, 0x86, 0x87]);
/** MQTT 5 PUBACK reason code: the broker's ACL refuses the topic. */
const NOT_AUTHORIZED = 0x87;

/** Events waiting for a connection, at most; older ones go first (counted). */
export const MAX_QUEUED_EVENTS = 100;

/** Reconnect delay after `attempt` failures in a row: doubling from min to max, with ±20 % jitter. */
export const reconnectDelayMs = (attempt: number, minMs: number, maxMs: number, random: number): number =>
  backoffDelayMs(attempt, { minMs, maxMs, jitter: 0.2, capJittered: true }, random);

/** Publish pacing: how long to wait before the next batch, and when the one after may go. */
export function paceNext(nextAllowedAt: number, now: number, minGapMs: number) {
  const at = Math.max(now, nextAllowedAt);
  return { waitMs: at - now, nextAllowedAt: at + minGapMs };
}

export interface PublisherOptions {
  mqtt: MqttClientConfig;
  uai: string;
  agent: string;
  version: string;
  startedAt: number;
  spool: Spool;
  log: Logger;
  now?: () => number;
  random?: () => number;
}

export interface PublisherStats {
  connected: boolean;
  published: number;
  acked: number;
  /** Batches the broker refused (MQTT 5 reason code: not authorized). */
  refused: number;
  connects: number;
  eventsDropped: number;
  /** Connections another client with this identity took over (agent/takeover.ts). */
  takenOver: number;
}

export class Publisher {
  private client: MqttClient | null = null;
  /** Bumped per connection: callbacks of an older client are ignored. */
  private generation = 0;
  private connected = false;
  private stopped = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** A reconnect is scheduled (reconnectTimer pending), no attempt in flight. */
  private waitingToReconnect = false;
  private paceTimer: NodeJS.Timeout | undefined;
  private nextAllowedAt = 0;
  /** Highest sequence number handed to the current connection. */
  private cursor = -1;
  private readonly inflight = new Set<number>();
  private protocol: 4 | 5;
  /** Batches the broker refused in a row: reconnects back off instead of retrying every second. */
  private refusedInARow = 0;
  private pumping = false;
  private pumpAgain = false;
  private readonly events: EventMessage[] = [];
  /** Random per process, in the birth and the will: lets the collector tell two boxes sharing this identity apart. */
  readonly instance = randomBytes(8).toString('hex');
  private takeover: TakeoverState = initialTakeoverState();
  /** The reconnect after a takeover waits this long instead of the ordinary backoff. */
  private takeoverWaitMs: number | null = null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly topics: { metrics: string; status: string; events: string };
  readonly stats: PublisherStats = {
    connected: false,
    published: 0,
    acked: 0,
    refused: 0,
    connects: 0,
    eventsDropped: 0,
    takenOver: 0,
  };

  constructor(private readonly opts: PublisherOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.protocol = opts.mqtt.protocolVersion;
    this.topics = {
      metrics: metricsTopic(opts.uai, opts.agent),
      status: statusTopic(opts.uai, opts.agent),
      events: eventsTopic(opts.uai, opts.agent),
    };
  }

  start(): void {
    this.connect();
  }

  /** A batch was spooled: publish it if the connection and the window allow. */
  notify(): void {
    void this.pump();
  }

  /** Queues an event for the events topic; sent now if connected, else on the next connection. */
  event(kind: EventMessage['kind'], message: string, data?: EventMessage['data']): void {
    const ev = eventMessage(this.opts, { t: this.now(), kind, message: message.slice(0, 1024), data });
    this.events.push(ev);
    if (this.events.length > MAX_QUEUED_EVENTS) {
      this.events.shift();
      this.stats.eventsDropped++;
    }
    this.sendEvents();
  }

  /** While connected, waits (bounded) until the spool is empty: a graceful stop sends its last batches. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.connected && this.opts.spool.stats.batches > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.opts.spool.stats.batches === 0;
  }

  /** Graceful stop: retained `offline` (reason graceful), then a clean DISCONNECT so no will fires. */
  async stop(timeoutMs = 3000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.paceTimer);
    const client = this.client;
    if (!client) return;
    if (this.connected) {
      const offline = this.status('offline', 'graceful');
      await withTimeout(
        client.publishAsync(this.topics.status, JSON.stringify(offline), { qos: 1, retain: true }),
        timeoutMs,
      ).catch((err) => this.opts.log.warn({ err }, 'could not publish the offline status'));
      await withTimeout(client.endAsync(), timeoutMs).catch(() => client.end(true));
    } else {
      client.end(true);
    }
    this.generation++;
    this.connected = false;
    this.stats.connected = false;
  }

  private status(state: StatusMessage['state'], reason: StatusMessage['reason']): StatusMessage {
    const { version, startedAt } = this.opts;
    return statusMessage(this.opts, {
      state,
      t: this.now(),
      version,
      startedAt,
      reason,
      instance: this.instance,
    });
  }

  private clientOptions(): IClientOptions {
    const m = this.opts.mqtt;
    return {
      clientId: m.clientId ?? `vigie-${this.opts.uai}-${this.opts.agent}`,
      clean: true,
      protocolVersion: this.protocol,
      keepalive: m.keepaliveS,
      connectTimeout: m.connectTimeoutS * 1000,
      // Reconnection is ours (capped backoff, fresh client): mqtt.js retries at a fixed period only.
      reconnectPeriod: 0,
      queueQoSZero: false,
      // mqtt-packet would otherwise pre-build 65,536 two-byte Buffers (~6 MiB of heap) for packet ids.
      writeCache: false,
      ...(m.username !== undefined ? { username: m.username } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
      ...(m.ca ? { ca: readFileSync(m.ca), rejectUnauthorized: true } : {}),
      will: {
        topic: this.topics.status,
        payload: Buffer.from(JSON.stringify(this.status('offline', 'will'))),
        qos: 1,
        retain: true,
      },
    };
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    let client: MqttClient;
    try {
      client = mqtt.connect(this.opts.mqtt.url, this.clientOptions());
    } catch (err) {
      this.opts.log.error({ err }, 'cannot create the MQTT client');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    // How this connection ends tells a takeover from a network fault (agent/takeover.ts).
    const end = { connectedAt: 0, fin: false, failed: false, reasonCode: undefined as number | undefined };
    client.on('connect', () => {
      if (gen !== this.generation) return;
      end.connectedAt = this.now();
      client.stream.once('end', () => {
        end.fin = true;
      });
      client.stream.once('error', () => {
        end.failed = true;
      });
      this.onConnected(client);
    });
    client.on('disconnect', (packet) => {
      end.reasonCode = packet.reasonCode;
    });
    client.on('error', (err) => {
      if (gen !== this.generation) return;
      if (this.protocol === 5 && (err as { code?: number }).code === UNACCEPTABLE_PROTOCOL_V3) {
        this.protocol = 4;
        this.opts.log.warn(
          { url: redactUrl(this.opts.mqtt.url) },
          'the broker speaks MQTT 3.1.1 only: using it (a publish the broker refuses then goes unnoticed)',
        );
        return;
      }
      end.failed = true;
      if (REFUSED_CREDENTIAL.has((err as { code?: number }).code ?? -1)) {
        // One line per attempt, in words the installer acts on (the password is in agent.mqtt).
        this.opts.log.error(
          { url: redactUrl(this.opts.mqtt.url), username: this.opts.mqtt.username, broker: err.message },
          'wrong password: the broker refused this username or password (mot de passe refusé par le broker) — check agent.mqtt.username and agent.mqtt.password against the config enroll wrote for this school',
        );
        return;
      }
      this.opts.log.warn({ err: err.message, url: redactUrl(this.opts.mqtt.url) }, 'MQTT error');
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      this.judgeEnd(end);
      this.onClosed(client);
    });
  }

  private onConnected(client: MqttClient): void {
    this.connected = true;
    this.stats.connected = true;
    this.stats.connects++;
    this.attempt = this.refusedInARow;
    this.inflight.clear();
    this.cursor = -1;
    this.opts.log.info(
      { url: redactUrl(this.opts.mqtt.url), spooled: this.opts.spool.stats.batches },
      'connected to the broker',
    );
    const birth = this.status('online', 'birth');
    client.publish(this.topics.status, JSON.stringify(birth), { qos: 1, retain: true }, (err) => {
      if (err) this.opts.log.warn({ err: err.message }, 'birth message not acknowledged');
    });
    this.sendEvents();
    void this.pump();
  }

  private onClosed(client: MqttClient): void {
    if (this.stopped) return;
    const wasConnected = this.connected;
    this.connected = false;
    this.stats.connected = false;
    this.generation++;
    this.inflight.clear();
    clearTimeout(this.paceTimer);
    // Deferred: this runs inside mqtt.js's own loop over pending publishes (on 'close' or from a
    // publish callback); ending the client there deletes entries under that loop, which then throws.
    setImmediate(() => client.end(true));
    if (wasConnected) {
      this.opts.log.warn({ spooled: this.opts.spool.stats.batches }, 'connection to the broker lost');
    }
    this.scheduleReconnect();
  }

  /** A connection the broker closed: a takeover by a twin makes the next reconnect wait minutes, said loudly. */
  private judgeEnd(end: { connectedAt: number; fin: boolean; failed: boolean; reasonCode?: number }): void {
    const m = this.opts.mqtt;
    const wasConnected = end.connectedAt > 0;
    const verdict = judgeConnectionEnd(
      this.takeover,
      {
        wasConnected,
        closedByBroker: end.fin && !end.failed,
        upMs: wasConnected ? this.now() - end.connectedAt : 0,
        ...(end.reasonCode !== undefined ? { reasonCode: end.reasonCode } : {}),
      },
      2 * m.takeoverBackoffMaxS * 1000,
    );
    this.takeover = verdict.state;
    if (!verdict.takeover) return;
    this.stats.takenOver++;
    const minMs = m.takeoverBackoffMinS * 1000;
    const maxMs = Math.max(minMs, m.takeoverBackoffMaxS * 1000);
    this.takeoverWaitMs = takeoverDelayMs(verdict.state.takeovers, minMs, maxMs, this.random());
    this.opts.log.error(
      {
        uai: this.opts.uai,
        agent: this.opts.agent,
        instance: this.instance,
        takeovers: verdict.state.takeovers,
        how: verdict.certain ? 'session taken over (MQTT 5 reason 0x8E)' : 'closed by the broker repeatedly',
        retryInS: Math.round(this.takeoverWaitMs / 1000),
      },
      `another box connects with this same identity (UAI ${this.opts.uai}, agent ${this.opts.agent}) or broker account: the broker keeps only one connection per identity (per account on the stack's broker), so each box keeps throwing the other off. Cloned SD card or copied config? Give each box its own agent id and broker account. Reconnecting less often meanwhile / une autre machine se connecte avec la même identité (UAI ${this.opts.uai}, agent ${this.opts.agent}) ou le même compte broker : carte SD clonée ou configuration copiée ? Donnez à chaque boîtier son propre id d'agent et son compte broker.`,
    );
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const m = this.opts.mqtt;
    if (this.takeoverWaitMs !== null) {
      const delay = this.takeoverWaitMs;
      this.takeoverWaitMs = null;
      this.opts.log.info({ delayMs: delay, attempt: this.attempt }, 'reconnecting to the broker');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
      return;
    }
    const delay = reconnectDelayMs(
      this.attempt++,
      m.reconnectMinS * 1000,
      m.reconnectMaxS * 1000,
      this.random(),
    );
    this.opts.log.info({ delayMs: delay, attempt: this.attempt }, 'reconnecting to the broker');
    this.waitingToReconnect = true;
    this.reconnectTimer = setTimeout(() => {
      this.waitingToReconnect = false;
      this.connect();
    }, delay);
  }

  /**
   * The network came back (an anchor answers again, an address changed): a backoff grown during the
   * cut (up to reconnectMaxS) would keep a school whose link is back offline for a minute. Starts
   * the backoff over and tries now, when waiting to retry; a connection or an attempt in flight is
   * left alone. The broker refusing us is not the network: then the backoff stays.
   */
  networkBack(reason: string): void {
    if (this.stopped || this.connected || !this.waitingToReconnect || this.refusedInARow > 0) return;
    clearTimeout(this.reconnectTimer);
    this.waitingToReconnect = false;
    this.attempt = 0;
    this.opts.log.info({ reason }, 'network back: reconnecting to the broker now');
    this.connect();
  }

  private sendEvents(): void {
    const client = this.client;
    if (!client || !this.connected) return;
    while (this.events.length > 0) {
      const ev = this.events.shift()!;
      client.publish(this.topics.events, JSON.stringify(ev), { qos: 1 }, (err) => {
        if (err) this.opts.log.debug({ err: err.message, kind: ev.kind }, 'event not acknowledged');
      });
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.publishWhatFits();
      } while (this.pumpAgain);
    } catch (err) {
      this.opts.log.error({ err }, 'reading the spool failed');
    } finally {
      this.pumping = false;
    }
  }

  private async publishWhatFits(): Promise<void> {
    const window = this.opts.mqtt.inflight;
    const minGapMs = 1000 / this.opts.mqtt.maxBatchesPerS;
    while (this.connected && this.client && this.inflight.size < window) {
      const seq = this.opts.spool.firstAfter(this.cursor);
      if (seq === undefined) return;
      const pace = paceNext(this.nextAllowedAt, this.now(), minGapMs);
      if (pace.waitMs > 0) {
        clearTimeout(this.paceTimer);
        this.paceTimer = setTimeout(() => void this.pump(), pace.waitMs);
        return;
      }
      this.nextAllowedAt = pace.nextAllowedAt;
      const gen = this.generation;
      const client = this.client;
      const payload = await this.opts.spool.read(seq);
      if (gen !== this.generation) return;
      this.cursor = Math.max(this.cursor, seq);
      if (!payload) continue; // dropped by the size bound meanwhile
      this.inflight.add(seq);
      this.stats.published++;
      // Stamped per send, not per build: the collector reads the agent's clock offset from it.
      const sentAt = this.now();
      const stamped = stampSend(payload, sentAt, secondsSinceClockSync(sentAt));
      client.publish(this.topics.metrics, stamped, { qos: 1 }, (err) => {
        if (gen !== this.generation) return;
        this.inflight.delete(seq);
        if (err) {
          // Still connected but refused: start over on a fresh connection, replaying from the spool.
          const code = (err as { code?: number }).code;
          if (code === NOT_AUTHORIZED) {
            this.refusedInARow++;
            this.stats.refused++;
            this.opts.log.error(
              { seq, topic: this.topics.metrics, spooled: this.opts.spool.stats.batches },
              'the broker refuses this agent on its topic (not authorized): check that the UAI and id in the config match its broker account; batches stay in the spool',
            );
          } else this.opts.log.warn({ err: err.message, seq }, 'batch not acknowledged, reconnecting');
          this.onClosed(client);
          return;
        }
        this.refusedInARow = 0;
        this.stats.acked++;
        this.opts.log.debug({ seq }, 'batch acknowledged');
        this.opts.spool
          .remove(seq)
          .catch((e) => this.opts.log.error({ err: e, seq }, 'removing an acknowledged batch failed'))
          .finally(() => void this.pump());
      });
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
