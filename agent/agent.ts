// The running agent: the scheduler's samples gather in memory for one batch interval, go to the
// disk spool as batches, and the publisher sends the spool. Memory holds at most one interval of
// samples (bounded); everything older is on disk.
import { networkInterfaces } from 'node:os';
import type { Logger } from '../shared/log.ts';
import { buildBatch } from '../shared/messages.ts';
import type { EventMessage, Sample } from '../shared/schemas.ts';
import { MAX_PAYLOAD_BYTES } from '../shared/schemas.ts';
import { splitSamples } from './batch.ts';
import type { AgentConfig } from './config.ts';
import { Publisher } from './publisher.ts';
import { type RoundOutcome, type ScheduledProbe, Scheduler } from './scheduler.ts';
import type { Spool } from './spool.ts';

/** Samples waiting for the next flush, at most; past it the oldest go (counted, logged). */
export const MAX_PENDING_SAMPLES = 20_000;
/** A graceful stop waits this long at most for the broker to acknowledge the last batches. */
export const STOP_DRAIN_MS = 3000;

export interface AgentOptions {
  config: AgentConfig;
  spool: Spool;
  probes: readonly ScheduledProbe[];
  log: Logger;
  version: string;
  now?: () => number;
}

export class Agent {
  readonly startedAt: number;
  readonly publisher: Publisher | null;
  private readonly scheduler: Scheduler;
  private pending: Sample[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Probe name → failure code of its last round, so an event goes out on change, not every round. */
  private readonly failing = new Map<string, string>();
  /** Whether an internet anchor answered in the last ping round (undefined: none measured yet). */
  private anchorsAnswered: boolean | undefined;
  /** The box's addresses at the last round, to notice a network change. */
  private addresses: string | undefined;
  private readonly now: () => number;
  /** Samples lost before reaching the spool: pending bound hit, or too big for any batch. */
  samplesDropped = 0;

  constructor(private readonly opts: AgentOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    const { config } = opts;
    this.publisher = config.mqtt
      ? new Publisher({
          mqtt: config.mqtt,
          uai: config.uai,
          agent: config.id,
          version: opts.version,
          startedAt: this.startedAt,
          spool: opts.spool,
          log: opts.log.child({ part: 'publisher' }),
          now: this.now,
        })
      : null;
    this.scheduler = new Scheduler(opts.probes, {
      log: opts.log,
      now: this.now,
      onRound: (outcome) => this.onRound(outcome),
    });
  }

  start(): void {
    const { config, spool, probes, log } = this.opts;
    const stats = spool.stats;
    log.info(
      {
        uai: config.uai,
        agent: config.id,
        version: this.opts.version,
        probes: probes.map((p) => `${p.name}/${p.intervalMs / 1000}s`),
        spooled: stats.batches,
        nextSeq: spool.nextSeq,
        broker: config.mqtt?.url ?? null,
      },
      'agent started',
    );
    if (!config.mqtt) log.warn('no mqtt section: measuring and spooling only, nothing is published');
    this.event('started', `agent ${this.opts.version} started with ${probes.length} probe(s)`, {
      version: this.opts.version,
      probes: probes.length,
      spooledBatches: stats.batches,
      nextSeq: spool.nextSeq,
    });
    this.publisher?.start();
    this.scheduler.start();
    this.flushTimer = setInterval(() => void this.flush(), config.batchIntervalS * 1000);
  }

  /** Stops measuring, spools what was measured, says `offline` (graceful) and disconnects. */
  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    this.event('stopping', 'agent stopping');
    await this.scheduler.stop();
    await this.flush();
    // What stays unsent is safe on disk and goes out after the restart.
    await this.publisher?.drain(STOP_DRAIN_MS);
    await this.publisher?.stop();
    await Promise.all(this.opts.probes.map(async (p) => p.probe.close?.()));
    this.opts.log.info({ spool: this.opts.spool.stats }, 'agent stopped');
  }

  private event(kind: EventMessage['kind'], message: string, data?: EventMessage['data']): void {
    this.publisher?.event(kind, message, data);
  }

  /**
   * Tells the publisher when the network comes back: an internet anchor answers after a round in
   * which none did, or the box's addresses changed (DHCP, a new link). Transitions only, so a broker
   * that is down while the internet works is not retried at every ping round.
   */
  private watchNetwork(samples: readonly Sample[]): void {
    const anchors = samples.filter((s) => s.probe === 'ping' && s.role === 'anchor');
    if (anchors.length > 0) {
      const answered = anchors.some((s) => s.probe === 'ping' && s.received > 0);
      if (answered && this.anchorsAnswered === false)
        this.publisher?.networkBack('an internet anchor answers again');
      this.anchorsAnswered = answered;
    }
    const addresses = localAddresses();
    if (this.addresses !== undefined && addresses !== this.addresses)
      this.publisher?.networkBack('the network addresses changed');
    this.addresses = addresses;
  }

  private onRound(outcome: RoundOutcome): void {
    const { log } = this.opts;
    if (outcome.failure) {
      log.warn(
        { probe: outcome.name, durationMs: outcome.durationMs, ...outcome.failure },
        'probe round failed',
      );
      if (this.failing.get(outcome.name) !== outcome.failure.code) {
        this.event('probe_error', `${outcome.name}: ${outcome.failure.message}`, {
          probe: outcome.name,
          code: outcome.failure.code,
        });
      }
      this.failing.set(outcome.name, outcome.failure.code);
    } else {
      this.failing.delete(outcome.name);
    }
    this.watchNetwork(outcome.samples);
    this.pending.push(...outcome.samples);
    const excess = this.pending.length - MAX_PENDING_SAMPLES;
    if (excess > 0) {
      this.pending.splice(0, excess);
      this.samplesDropped += excess;
      log.error(
        { dropped: excess, bound: MAX_PENDING_SAMPLES },
        'pending samples over their bound: oldest dropped',
      );
    }
  }

  /** Writes the pending samples to the spool as batches and wakes the publisher. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.pending.length === 0) return;
    const { config, spool, log } = this.opts;
    const samples = this.pending;
    this.pending = [];
    // A quarter of the spool at most, so one batch never evicts the whole backlog.
    const limit = Math.min(MAX_PAYLOAD_BYTES, Math.floor(spool.maxBytes / 4));
    const { groups, oversize } = splitSamples(samples, limit);
    if (oversize.length > 0) {
      this.samplesDropped += oversize.length;
      log.error({ count: oversize.length, limit }, 'samples too large for any batch: dropped');
    }
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i]!;
      try {
        const res = await spool.append(this.now(), (seq, t) =>
          JSON.stringify(buildBatch(config.uai, config.id, seq, t, group)),
        );
        if (res.dropped.length > 0) this.reportDrop(res.dropped);
      } catch (err) {
        // Disk full or read-only: keep the samples for the next flush (the pending bound still holds).
        log.error({ err }, 'spooling a batch failed; samples kept for the next flush');
        this.pending = [...groups.slice(i).flat(), ...this.pending];
        break;
      }
      this.publisher?.notify();
    }
  }

  private reportDrop(dropped: number[]): void {
    const total = this.opts.spool.stats.dropped;
    const first = dropped[0]!;
    const last = dropped.at(-1)!;
    this.opts.log.warn(
      {
        dropped: dropped.length,
        firstSeq: first,
        lastSeq: last,
        totalDropped: total,
        maxBytes: this.opts.spool.maxBytes,
      },
      'spool full: oldest batches dropped',
    );
    this.event(
      'spool_drop',
      `spool full: dropped ${dropped.length} oldest batch(es), seq ${first}..${last}`,
      {
        dropped: dropped.length,
        firstSeq: first,
        lastSeq: last,
        totalDropped: total,
      },
    );
  }
}

/** The box's non-internal addresses, as one comparable string. */
function localAddresses(): string {
  return Object.entries(networkInterfaces())
    .flatMap(([name, list]) => (list ?? []).filter((a) => !a.internal).map((a) => `${name}/${a.cidr}`))
    .sort()
    .join(' ');
}
