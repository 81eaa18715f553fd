import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Probe, ProbeContext } from '../../agent/probes/contract.ts';
import {
  firstDelay,
  jitteredDelay,
  type RoundOutcome,
  runRound,
  type ScheduledProbe,
  Scheduler,
} from '../../agent/scheduler.ts';
import type { Sample } from '../../shared/schemas.ts';

const log = pino({ level: 'silent' });
const selfSample = (t: number): Sample => ({
  probe: 'self',
  t,
  version: 'test',
  uptimeS: 1,
  rssBytes: 1,
  cpuPct: 0,
  spoolBytes: 0,
  spoolBatches: 0,
  spoolDropped: 0,
});

/** A test probe following the contract: behaviour given as a function. */
function probe(run: (ctx: ProbeContext) => Promise<unknown>): Probe {
  return { kind: 'self', config: {}, run: run as Probe['run'] };
}
const scheduled = (name: string, p: Probe, intervalMs: number, timeoutMs: number): ScheduledProbe => ({
  name,
  probe: p,
  intervalMs,
  timeoutMs,
  jitter: 0,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('jitter', () => {
  it('keeps each delay within ± jitter of the interval', () => {
    expect(jitteredDelay(60_000, 0.1, 0)).toBe(54_000);
    expect(jitteredDelay(60_000, 0.1, 0.5)).toBe(60_000);
    expect(jitteredDelay(60_000, 0.1, 1)).toBe(66_000);
    expect(jitteredDelay(1000, 0, 0.9)).toBe(1000);
  });
  it('spreads first runs over a short window', () => {
    expect(firstDelay(60_000, 0.1, 0)).toBe(0);
    expect(firstDelay(60_000, 0.1, 1)).toBe(5000);
    expect(firstDelay(10_000, 0.1, 1)).toBe(1000);
  });
});

describe('runRound', () => {
  it('returns the samples of a probe that ends in time', async () => {
    const out = await runRound(
      scheduled(
        'self',
        probe(async (ctx) => [selfSample(ctx.now())]),
        1000,
        1000,
      ),
      {
        log,
        now: () => 42,
      },
    );
    expect(out.failure).toBeUndefined();
    expect(out.samples).toEqual([selfSample(42)]);
  });

  it('aborts a hung probe at its timeout and stops waiting for it', async () => {
    let signal: AbortSignal | undefined;
    const hung = probe((ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    });
    const started = Date.now();
    const out = await runRound(scheduled('hung', hung, 1000, 100), { log, graceMs: 50 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(signal?.aborted).toBe(true);
    expect(out.failure?.code).toBe('timeout');
    expect(out.samples).toEqual([]);
  });

  it('keeps what a probe returns when it obeys the abort', async () => {
    const polite = probe(
      (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve([selfSample(1)]))),
    );
    const out = await runRound(scheduled('polite', polite, 1000, 50), { log });
    expect(out.failure?.code).toBe('timeout');
    expect(out.samples).toEqual([selfSample(1)]);
  });

  it('on agent stop, waits only the grace for a probe in flight, not its whole timeout', async () => {
    const stop = new AbortController();
    const hung = probe(() => new Promise(() => {}));
    const started = Date.now();
    const round = runRound(scheduled('slow', hung, 1000, 60_000), { log, signal: stop.signal, graceMs: 50 });
    setTimeout(() => stop.abort(new Error('agent stopping')), 20);
    const out = await round;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(out.failure).toEqual({ code: 'timeout', message: 'no result when the agent stopped, abandoned' });
  });

  it('turns a thrown error into a failed round', async () => {
    const out = await runRound(
      scheduled(
        'bad',
        probe(async () => {
          throw new Error('boom');
        }),
        1000,
        1000,
      ),
      { log },
    );
    expect(out.failure).toEqual({ code: 'threw', message: 'boom' });
  });

  it('drops samples the collector would refuse, keeps the good ones and says why', async () => {
    const bad = { ...selfSample(1), cpuPct: Number.NaN };
    const worse = { probe: 'teleport', t: 1 };
    const out = await runRound(
      scheduled(
        'mixed',
        probe(async () => [selfSample(1), bad, worse]),
        1000,
        1000,
      ),
      {
        log,
      },
    );
    expect(out.samples).toEqual([selfSample(1)]);
    expect(out.failure?.code).toBe('invalid_sample');
    expect(out.failure?.message).toMatch(/2 sample\(s\) refused: \/cpuPct: number is not finite/);
  });
});

describe('Scheduler', () => {
  it('never runs a probe over itself, even when a round outlasts the interval', async () => {
    let active = 0;
    let maxActive = 0;
    let rounds = 0;
    const slow = probe(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(60);
      active--;
      rounds++;
      return [selfSample(Date.now())];
    });
    const scheduler = new Scheduler([scheduled('slow', slow, 10, 1000)], { log, onRound: () => {} });
    scheduler.start();
    await until(() => rounds >= 4);
    await scheduler.stop();
    expect(maxActive).toBe(1);
  });

  it('keeps the other probes going while one throws and another hangs', async () => {
    const outcomes: RoundOutcome[] = [];
    const good = probe(async (ctx) => [selfSample(ctx.now())]);
    const throwing = probe(async () => {
      throw new Error('broken probe');
    });
    const hung = probe(() => new Promise(() => {}));
    const scheduler = new Scheduler(
      [
        scheduled('good', good, 20, 500),
        scheduled('throwing', throwing, 20, 500),
        scheduled('hung', hung, 20, 40),
      ],
      { log, onRound: (o) => outcomes.push(o) },
    );
    scheduler.start();
    await until(() => scheduler.skipped > 1 && outcomes.filter((o) => o.name === 'good').length >= 10);
    await scheduler.stop();
    expect(
      outcomes.filter((o) => o.name === 'throwing' && o.failure?.code === 'threw').length,
    ).toBeGreaterThan(2);
    expect(outcomes.some((o) => o.name === 'hung' && o.failure?.code === 'timeout')).toBe(true);
    // The hung probe's first run never ended: its later rounds are skipped, not stacked.
    expect(outcomes.filter((o) => o.name === 'hung').length).toBe(1);
  });

  it('aborts rounds in flight on stop and schedules nothing after', async () => {
    let runs = 0;
    let aborted = false;
    const long = probe(
      (ctx) =>
        new Promise((resolve) => {
          runs++;
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve([]);
          });
        }),
    );
    const scheduler = new Scheduler([scheduled('long', long, 10, 10_000)], { log, onRound: () => {} });
    scheduler.start();
    await until(() => runs === 1);
    await scheduler.stop();
    expect(aborted).toBe(true);
    await sleep(50);
    expect(runs).toBe(1);
  });
});
