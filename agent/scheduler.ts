// Runs each probe on its own interval, with jitter. A probe never overlaps itself; a probe that
// outlives its timeout is aborted and no longer waited for; a probe that throws or hangs costs
// only its own round.
import type { Logger } from '../shared/log.ts';
import type { Sample } from '../shared/schemas.ts';
import type { Probe } from './probes/contract.ts';
import { partitionSamples } from './sample-check.ts';

export interface ScheduledProbe {
  /** Name in the config (several probes may share a kind). */
  name: string;
  probe: Probe;
  intervalMs: number;
  timeoutMs: number;
  /** Each start moves by up to ± this fraction of the interval. */
  jitter: number;
}

export type RoundFailure = 'timeout' | 'threw' | 'invalid_sample';

export interface RoundOutcome {
  name: string;
  kind: Sample['probe'];
  samples: Sample[];
  durationMs: number;
  /** Set when the round did not end cleanly; samples may still hold what the probe returned. */
  failure?: { code: RoundFailure; message: string };
  /** Settles when the probe's run() really ends, which may be long after a timeout. */
  settled: Promise<void>;
}

/** After the abort, a probe gets this long to hand back what it measured. */
export const ABORT_GRACE_MS = 500;

/** Next delay: the interval moved by up to ± jitter (a fraction), never below 0. */
export function jitteredDelay(intervalMs: number, jitter: number, random: number): number {
  return Math.max(0, Math.round(intervalMs * (1 + jitter * (2 * random - 1))));
}

/** First run soon after start, spread so that probes and schools do not all fire at once. */
export function firstDelay(intervalMs: number, jitter: number, random: number, maxMs = 5000): number {
  return Math.round(random * Math.min(maxMs, intervalMs * Math.max(jitter, 0.05)));
}

// Each change is told once per process (a bounded set): the same name comes back every round.
const RELABELLED_TOLD_MAX = 1000;
const relabelledTold = new Set<string>();
let relabelledCount = 0;

/** Labels normalised since the agent started (shared/labels.ts), for its status and tests. */
export const relabelledTotal = () => relabelledCount;

function warnRelabelled(log: Logger, probe: string, changes: string[]): void {
  relabelledCount += changes.length;
  const fresh = changes.filter((c) => !relabelledTold.has(`${probe} ${c}`));
  if (!fresh.length || relabelledTold.size >= RELABELLED_TOLD_MAX) return;
  for (const c of fresh) relabelledTold.add(`${probe} ${c}`);
  log.warn(
    { probe, changes: fresh, total: relabelledCount },
    'label normalised so InfluxDB can store it (shared/labels.ts) / libellé normalisé pour être stocké',
  );
}

export interface RoundOptions {
  log: Logger;
  now?: () => number;
  /** Aborted when the agent stops. */
  signal?: AbortSignal;
  graceMs?: number;
}

export async function runRound(sp: ScheduledProbe, opts: RoundOptions): Promise<RoundOutcome> {
  const now = opts.now ?? Date.now;
  const controller = new AbortController();
  const started = performance.now();
  const base = { name: sp.name, kind: sp.probe.kind };

  const run = (async () => sp.probe.run({ signal: controller.signal, now, log: opts.log }))();
  const settled = run.then(
    () => {},
    () => {},
  );
  let timer: NodeJS.Timeout | undefined;
  let resolveCut: (v: 'cut') => void = () => {};
  const cut = new Promise<'cut'>((resolve) => {
    resolveCut = resolve;
  });
  // At the timeout, or when the agent stops, abort and wait only the grace for what the probe has.
  const abort = (reason: unknown) => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    clearTimeout(timer);
    timer = setTimeout(() => resolveCut('cut'), opts.graceMs ?? ABORT_GRACE_MS);
  };
  const onStop = () => abort(opts.signal?.reason);
  if (opts.signal?.aborted) onStop();
  opts.signal?.addEventListener('abort', onStop, { once: true });
  if (!controller.signal.aborted) {
    timer = setTimeout(
      () => abort(new Error(`probe ${sp.name} timed out after ${sp.timeoutMs} ms`)),
      sp.timeoutMs,
    );
  }
  try {
    const result = await Promise.race([run, cut]);
    const durationMs = Math.round(performance.now() - started);
    if (result === 'cut') {
      const message = opts.signal?.aborted
        ? 'no result when the agent stopped, abandoned'
        : `no result ${sp.timeoutMs} ms after start, abandoned`;
      return { ...base, samples: [], durationMs, settled, failure: { code: 'timeout', message } };
    }
    const { valid, problems, relabelled } = partitionSamples(Array.isArray(result) ? result : [result]);
    if (relabelled.length) warnRelabelled(opts.log, sp.name, relabelled);
    const timedOut = controller.signal.aborted && !opts.signal?.aborted;
    const failure =
      problems.length > 0
        ? { code: 'invalid_sample' as const, message: `${problems.length} sample(s) refused: ${problems[0]}` }
        : timedOut
          ? { code: 'timeout' as const, message: `aborted at ${sp.timeoutMs} ms, partial result kept` }
          : undefined;
    return { ...base, samples: valid, durationMs, settled, ...(failure ? { failure } : {}) };
  } catch (err) {
    const durationMs = Math.round(performance.now() - started);
    const message = err instanceof Error ? err.message : String(err);
    return { ...base, samples: [], durationMs, settled, failure: { code: 'threw', message } };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onStop);
  }
}

export interface SchedulerOptions {
  log: Logger;
  onRound: (outcome: RoundOutcome) => void;
  now?: () => number;
  random?: () => number;
}

export class Scheduler {
  private readonly stopping = new AbortController();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  /** The probe's own run() of its last round, which may outlive a timeout. */
  private readonly lastRun = new Map<string, Promise<void>>();
  /** Rounds skipped because the previous run of the same probe had still not ended. */
  skipped = 0;

  constructor(
    private readonly probes: readonly ScheduledProbe[],
    private readonly opts: SchedulerOptions,
  ) {}

  start(): void {
    const random = this.opts.random ?? Math.random;
    for (const sp of this.probes) {
      this.schedule(sp, firstDelay(sp.intervalMs, sp.jitter, random()));
    }
  }

  /** Stops scheduling, aborts the rounds in flight and waits (bounded by their timeouts) for them. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('agent stopping'));
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.running.values());
  }

  private schedule(sp: ScheduledProbe, delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    const timer = setTimeout(() => this.tick(sp), delayMs);
    this.timers.set(sp.name, timer);
  }

  private tick(sp: ScheduledProbe): void {
    const random = this.opts.random ?? Math.random;
    const startedAt = performance.now();
    const round = this.round(sp).finally(() => {
      this.running.delete(sp.name);
      const elapsed = performance.now() - startedAt;
      // Keep the cadence from round start; a round longer than its interval is followed at once.
      this.schedule(sp, Math.max(0, jitteredDelay(sp.intervalMs, sp.jitter, random()) - elapsed));
    });
    this.running.set(sp.name, round);
  }

  private async round(sp: ScheduledProbe): Promise<void> {
    const previous = this.lastRun.get(sp.name);
    if (previous && (await isPending(previous))) {
      this.skipped++;
      this.opts.log.warn(
        { probe: sp.name },
        'previous round of this probe has still not ended: round skipped',
      );
      return;
    }
    const outcome = await runRound(sp, {
      log: this.opts.log,
      signal: this.stopping.signal,
      ...(this.opts.now ? { now: this.opts.now } : {}),
    });
    this.lastRun.set(sp.name, outcome.settled);
    try {
      this.opts.onRound(outcome);
    } catch (err) {
      this.opts.log.error({ err, probe: sp.name }, 'handling a round failed');
    }
  }
}

/** True when `p` has not settled yet (a settled promise's callback runs first in the race). */
function isPending(p: Promise<void>): Promise<boolean> {
  return Promise.race([p.then(() => false), Promise.resolve().then(() => true)]);
}
