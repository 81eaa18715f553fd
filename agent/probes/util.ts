// Small helpers the probes share.
import { setMaxListeners } from 'node:events';
import type { ProbeContext } from './contract.ts';

/** Maps with at most `limit` calls in flight, keeping the input order in the result. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * A short machine-readable code from any thrown value: Node's err.code, else that of its cause (fetch
 * wraps ECONNREFUSED in a TypeError), else its name.
 */
export function errorCode(err: unknown, fallback = 'ERROR'): string {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code =
    typeof e?.code === 'string' && e.code
      ? e.code
      : typeof e?.cause?.code === 'string' && e.cause.code
        ? e.cause.code
        : typeof e?.name === 'string' && e.name
          ? e.name
          : fallback;
  return code.slice(0, 64);
}

/**
 * A FIFO gate letting at most `limit` tasks run at once: `gate(fn)` runs `fn` when a slot frees and
 * settles as it does. Tasks start in the order they were handed in.
 */
export function createLimiter(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    if (running < limit) running++;
    else await new Promise<void>((r) => waiting.push(r)); // the slot is handed over, running unchanged
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * The order a round checks its items in (Wi-Fi APs, ping targets): those that answered at once last
 * round first, then those not seen yet, then the slow or silent ones, each group in config order. The
 * checks queue for slots: a dead switch's hosts must not hold the live ones back past the timeout.
 * `fast(i)`: item i answered at once last round (true), waited for a timeout (false), unknown (undefined).
 */
export function checkOrder(count: number, fast: (i: number) => boolean | undefined): number[] {
  const rank = (i: number) => {
    const f = fast(i);
    return f === true ? 0 : f === undefined ? 1 : 2;
  };
  return Array.from({ length: count }, (_, i) => i).sort((a, b) => rank(a) - rank(b) || a - b);
}

/**
 * Share of a round's timeout its waves are planned to fill: the rest is headroom for a loaded box and
 * late timers (default ping: 2 waves of 7 s in 30 s; default dns: 1 wave of 5 s in 15 s).
 */
export const ROUND_BUDGET = 0.6;

/**
 * Checks at once for a round of `items`, each taking up to `itemWorstS` (a silent host: its whole
 * timeout): `floor` (the configured or usual concurrency), raised so that every item fits in
 * ROUND_BUDGET × `timeoutS` (at least one wave), capped at `cap` and at `items`; 1 at least.
 */
export function parallelToFit(
  items: number,
  limits: { floor: number; cap: number; itemWorstS: number; timeoutS: number },
): number {
  const waves = Math.max(1, Math.floor((limits.timeoutS * ROUND_BUDGET) / limits.itemWorstS));
  const needed = Math.min(limits.cap, Math.ceil(items / waves));
  return Math.max(1, Math.min(items, Math.max(limits.floor, needed)));
}

/**
 * One check per item in config order, `parallelToFit` of them at once (one abort listener each on
 * `ctx.signal`). Cut by the round's signal, items not started give no sample: the samples it has are
 * returned and a warning names the items left out (`what` says which, in English and French).
 */
export async function checkWithinRound<T, S>(
  items: readonly T[],
  ctx: ProbeContext,
  limits: { floor: number; cap: number; itemWorstS: number; timeoutS: number },
  check: (item: T) => Promise<S>,
  what: { probe: string; key: string; name: (item: T) => string; en: string; fr: string },
): Promise<S[]> {
  const parallel = parallelToFit(items.length, limits);
  setMaxListeners(Math.max(10, parallel + 1), ctx.signal);
  const done = await mapLimit(items, parallel, (item) =>
    ctx.signal.aborted ? Promise.resolve(undefined) : check(item),
  );
  const samples = done.filter((s): s is Awaited<S> => s !== undefined) as S[];
  if (samples.length < items.length) {
    const missed = items.filter((_, i) => done[i] === undefined).map(what.name);
    ctx.log.warn(
      { checked: samples.length, notChecked: missed.length, [what.key]: missed.slice(0, 20) },
      `${what.probe}: round cut at its timeout, ${what.en} / ${what.fr}`,
    );
  }
  return samples;
}
