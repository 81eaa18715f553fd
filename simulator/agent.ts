// One simulated school agent speaking the real protocol: a connection of its own with a retained
// `offline` will, a retained `online` birth, metrics batches with per-agent sequence numbers through
// a bounded spool trimmed on PUBACK, and outages that drop the connection without DISCONNECT.
import mqtt, { type MqttClient } from 'mqtt';
import { backoffDelayMs } from '../shared/backoff.ts';
import { buildBatch, eventMessage, type Sender, statusMessage } from '../shared/messages.ts';
import { eventsTopic, metricsTopic, statusTopic } from '../shared/topics.ts';
import type { SimulatedSchool } from './fleet.ts';
import { linkStateAt, type Outage, planOutage } from './outage.ts';
import type { ConnectGate } from './pacing.ts';
import { agentRng, type Rng } from './random.ts';
import { type AgentState, measureRound, newAgentState, type RoundOptions } from './samples.ts';
import type { FleetCounters } from './stats.ts';

export interface AgentSettings {
  brokerUrl: string;
  username?: string;
  password?: string;
  /** Each school's own account (UAI → credential, from `vigie enroll`'s credentials.json): wins over username. */
  credentials?: ReadonlyMap<string, { username: string; password: string }>;
  /** CA certificate(s) for an mqtts:// broker (PEM). */
  ca?: Buffer;
  seed: string | number;
  intervalMs: number;
  outagesPerHour: number;
  /** Batches an agent keeps while it cannot publish; past it the oldest are dropped and counted. */
  spoolMax: number;
  keepaliveS: number;
  connectTimeoutMs: number;
  rounds: RoundOptions;
}

/** A broker restart must not bring 10,000 agents back in one second: ×0.5–1.5 jitter. */
const RECONNECT_BACKOFF = { minMs: 1000, maxMs: 60_000, jitter: 0.5 };

type Phase = 'idle' | 'waiting' | 'connecting' | 'online' | 'backoff' | 'down' | 'stopped';

interface SpooledBatch {
  seq: number;
  t: number;
  payload: string;
  /** Built while the link was cut: counted as replayed once acked. */
  duringCut: boolean;
}

export class SimulatedAgent {
  readonly uai: string;
  readonly agentId: string;
  private readonly samplesRng: Rng;
  private readonly outageRng: Rng;
  private readonly netRng: Rng;
  private readonly topics: { metrics: string; status: string; events: string };
  private state: AgentState | null = null;
  private phase: Phase = 'idle';
  private client: MqttClient | null = null;
  private seq = 0;
  private lastBatchT = 0;
  private readonly spool: SpooledBatch[] = [];
  private publishing = false;
  private roundTimer: NodeJS.Timeout | null = null;
  private outageTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Failed connections in a row: the reconnect backoff doubles with each. */
  private failures = 0;
  private outage: Outage | null = null;
  private nextRoundAt = 0;
  /** Set when the process (re)starts, cleared once its `started` event is out. */
  private announceStart = true;
  /** Frees this agent's place in the connect gate; idempotent. */
  private releaseGate: () => void = () => undefined;

  constructor(
    readonly sim: SimulatedSchool,
    private readonly settings: AgentSettings,
    private readonly gate: ConnectGate,
    private readonly counters: FleetCounters,
    private readonly now: () => number = Date.now,
  ) {
    this.uai = sim.school.uai;
    this.agentId = sim.agentId;
    this.samplesRng = agentRng(settings.seed, sim.index, 'samples');
    this.outageRng = agentRng(settings.seed, sim.index, 'outages');
    this.netRng = agentRng(settings.seed, sim.index, 'net');
    this.topics = {
      metrics: metricsTopic(this.uai, this.agentId),
      status: statusTopic(this.uai, this.agentId),
      events: eventsTopic(this.uai, this.agentId),
    };
  }

  get isConnected(): boolean {
    return this.phase === 'online';
  }

  get isConnecting(): boolean {
    return this.phase === 'waiting' || this.phase === 'connecting' || this.phase === 'backoff';
  }

  /** The outage under way, if any. */
  get currentOutage(): Outage | null {
    const t = this.now();
    return this.outage && t >= this.outage.start && t < this.outage.end ? this.outage : null;
  }

  get spooled(): number {
    return this.spool.length;
  }

  get nextSeq(): number {
    return this.seq;
  }

  /** Queues the agent for the connect gate: its box boots when its turn comes. */
  start(): void {
    this.connect();
  }

  /**
   * The box powers on: it measures from now on, connected or not. Booting at the gate's pace keeps
   * a 10,000-agent ramp from spending the CPU on agents still waiting for their connection.
   */
  private boot(): void {
    const t = this.now();
    this.state = newAgentState(this.sim, this.samplesRng, t, this.settings.rounds);
    this.scheduleOutage(t);
    // Rounds spread over one interval, as a fleet booted at random would.
    this.nextRoundAt = t + Math.round(this.netRng.range(0, this.settings.intervalMs));
    this.scheduleRound();
  }

  /** Begins an outage now (tests, demos); the planned one, if any, is replaced. */
  forceOutage(kind: Outage['kind'], durationMs: number): void {
    const t = this.now();
    this.outage = { kind, start: t, end: t + durationMs };
    if (kind === 'degraded') Object.assign(this.outage, { extraLossPct: 20, latencyFactor: 3 });
    this.beginOutage();
  }

  /** Clean stop: a graceful `offline`, then DISCONNECT so the broker does not publish the will. */
  async stop(): Promise<void> {
    const wasOnline = this.phase === 'online';
    this.phase = 'stopped';
    for (const timer of [this.roundTimer, this.outageTimer, this.reconnectTimer])
      if (timer) clearTimeout(timer);
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (wasOnline) {
      const offline = this.status('offline', 'graceful');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        client.publish(this.topics.status, offline, { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await client.endAsync(false).catch(() => undefined);
    } else {
      await client.endAsync(true).catch(() => undefined);
    }
  }

  private scheduleOutage(after: number): void {
    this.outage = planOutage(this.outageRng, after, this.settings.outagesPerHour, this.settings.intervalMs);
    if (!this.outage) return;
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.outageTimer = setTimeout(() => this.beginOutage(), Math.max(0, this.outage.start - this.now()));
  }

  private beginOutage(): void {
    const outage = this.outage;
    if (!outage || this.phase === 'stopped') return;
    this.counters.outagesStarted[outage.kind]++;
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.outageTimer = setTimeout(() => this.endOutage(), Math.max(0, outage.end - this.now()));
    if (outage.kind === 'degraded') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    // No DISCONNECT: the broker sees the socket die and publishes the retained will.
    if (this.phase === 'online') this.counters.willsTriggered++;
    this.dropConnection();
    this.phase = 'down';
    if (outage.kind === 'power-cut' && this.roundTimer) {
      clearTimeout(this.roundTimer);
      this.roundTimer = null;
    }
  }

  private endOutage(): void {
    const outage = this.outage;
    if (!outage || this.phase === 'stopped') return;
    this.outageTimer = null;
    const t = this.now();
    if (outage.kind === 'power-cut') {
      // The box boots again: a new process, its spool and sequence kept on disk.
      if (this.state) this.state.startedAt = t;
      this.announceStart = true;
      this.nextRoundAt = t + Math.round(this.netRng.range(0, Math.min(5000, this.settings.intervalMs)));
      this.scheduleRound();
    }
    this.scheduleOutage(t);
    if (outage.kind !== 'degraded') {
      this.phase = 'idle';
      this.connect();
    }
  }

  private scheduleRound(): void {
    if (this.roundTimer) clearTimeout(this.roundTimer);
    this.roundTimer = setTimeout(() => this.round(), Math.max(0, this.nextRoundAt - this.now()));
  }

  private round(): void {
    if (this.phase === 'stopped' || !this.state) return;
    // Rounds keep to a fixed grid; a late timer does not push every later round back.
    const now = this.now();
    this.nextRoundAt += this.settings.intervalMs;
    if (this.nextRoundAt <= now) this.nextRoundAt = now + this.settings.intervalMs;
    this.scheduleRound();
    const t = Math.max(now, this.lastBatchT + 1);
    this.lastBatchT = t;
    const link = linkStateAt(this.outage, t);
    this.state.spoolBatches = this.spool.length;
    const batch = buildBatch(
      this.sim.school.uai,
      this.agentId,
      this.seq++,
      t,
      measureRound(this.sim, this.state, this.samplesRng, t, link, this.settings.rounds),
    );
    const payload = JSON.stringify(batch);
    this.spool.push({ seq: batch.seq, t, payload, duringCut: link.kind === 'wan-cut' });
    this.state.spoolBytes += payload.length;
    this.counters.batches++;
    if (this.spool.length > this.settings.spoolMax) {
      const dropped = this.spool.shift()!;
      this.state.spoolBytes -= dropped.payload.length;
      this.state.spoolDropped++;
      this.counters.spoolDropped++;
    }
    this.drain();
  }

  /** Publishes the spool head, one batch in flight at a time: order kept, memory bounded by the spool. */
  private drain(): void {
    if (this.publishing || this.phase !== 'online' || !this.client || !this.spool.length) return;
    const client = this.client;
    const head = this.spool[0]!;
    this.publishing = true;
    client.publish(this.topics.metrics, head.payload, { qos: 1 }, (err) => {
      this.publishing = false;
      if (client !== this.client) return;
      if (err) {
        this.counters.lastError = `publish: ${err.message}`;
        return;
      }
      if (this.spool[0] === head) {
        this.spool.shift();
        if (this.state) this.state.spoolBytes -= head.payload.length;
      }
      this.counters.acked++;
      this.counters.ackedBytes += head.payload.length;
      if (head.duringCut) this.counters.replayed++;
      this.drain();
    });
  }

  private status(state: 'online' | 'offline', reason: 'birth' | 'graceful' | 'will'): string {
    const msg = statusMessage(this.sender(), {
      state,
      t: this.now(),
      version: this.settings.rounds.version,
      startedAt: this.state?.startedAt,
      reason,
    });
    return JSON.stringify(msg);
  }

  private connect(): void {
    if (this.phase !== 'idle' && this.phase !== 'backoff') return;
    this.phase = 'waiting';
    this.gate.acquire(() => this.open());
  }

  private open(): void {
    if (this.phase !== 'waiting') {
      this.gate.done();
      return;
    }
    this.phase = 'connecting';
    if (!this.state) this.boot();
    let answered = false;
    const answer = () => {
      if (!answered) {
        answered = true;
        this.gate.done();
      }
    };
    this.releaseGate = answer;
    const client = mqtt.connect(this.settings.brokerUrl, {
      clientId: `vigie-sim-${this.uai}-${this.agentId}`,
      protocolVersion: 4,
      clean: true,
      keepalive: this.settings.keepaliveS,
      connectTimeout: this.settings.connectTimeoutMs,
      // Reconnection is ours: paced through the gate, with backoff, and skipped during outages.
      reconnectPeriod: 0,
      queueQoSZero: false,
      username: this.settings.credentials?.get(this.uai)?.username ?? this.settings.username,
      password: this.settings.credentials?.get(this.uai)?.password ?? this.settings.password,
      ...(this.settings.ca ? { ca: this.settings.ca, rejectUnauthorized: true } : {}),
      will: {
        topic: this.topics.status,
        payload: Buffer.from(this.status('offline', 'will')),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    let failure = '';
    client.on('connect', () => {
      answer();
      if (client !== this.client) return;
      this.phase = 'online';
      this.failures = 0;
      this.counters.births++;
      client.publish(this.topics.status, this.status('online', 'birth'), { qos: 1, retain: true });
      if (this.announceStart) {
        this.announceStart = false;
        client.publish(this.topics.events, this.startedEvent(), { qos: 1 });
      }
      this.drain();
    });
    client.on('error', (err: Error & { code?: string | number }) => {
      if (typeof err.code === 'number') {
        this.counters.refused++;
        failure = `broker refused the connection: ${err.message}`;
      } else {
        this.counters.networkErrors++;
        failure = `${err.code ?? 'error'}: ${err.message}`;
      }
      this.counters.lastError = failure;
      client.end(true);
    });
    client.on('close', () => {
      const wasAnswered = answered;
      answer();
      if (client !== this.client) return;
      this.client = null;
      this.publishing = false;
      client.removeAllListeners();
      // mqtt.js emits `error` after a socket error; keep a no-op so a late one cannot crash the process.
      client.on('error', () => undefined);
      if (this.phase === 'stopped' || this.phase === 'down') return;
      if (this.phase === 'online') {
        this.counters.connectionsLost++;
        this.counters.lastError = 'connection lost';
      } else if (!wasAnswered && !failure) {
        this.counters.timeouts++;
        this.counters.lastError = `no CONNACK within ${this.settings.connectTimeoutMs} ms`;
      }
      this.retryLater();
    });
  }

  private dropConnection(): void {
    const client = this.client;
    this.client = null;
    this.publishing = false;
    if (!client) return;
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
    this.releaseGate();
  }

  private retryLater(): void {
    this.phase = 'backoff';
    const delay = backoffDelayMs(this.failures++, RECONNECT_BACKOFF, this.netRng.next());
    this.counters.reconnects++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private startedEvent(): string {
    const event = eventMessage(this.sender(), {
      t: this.now(),
      kind: 'started',
      message: 'simulated agent started',
      data: { simulated: true, seq: this.seq },
    });
    return JSON.stringify(event);
  }

  private sender(): Sender {
    return { uai: this.sim.school.uai, agent: this.agentId };
  }
}
