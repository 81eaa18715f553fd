// ICMP echo rounds through the system ping (no raw-socket privilege needed), killed when the round
// is cut (echo.ts: the `ping` package could not stop its child).
//
// A round with many silent targets (a dead switch, the anchors during a WAN cut) keeps the live
// targets' samples (test/integration/probe-ping-round.test.ts): the pings run as many at once as it
// takes for every target, each silent to ping's deadline, to fit in ROUND_BUDGET of the timeout
// (PING_PARALLEL_MAX at most); targets that answered last round go first; a target cut at the
// timeout gives no sample (its echoes were not all counted) and a warning names it.
import { setMaxListeners } from 'node:events';
import type { PingSample } from '../../shared/schemas.ts';
import type { PingConfig, PingTarget } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { pingOutput } from './echo.ts';
import { readDefaultRoute } from './route.ts';
import { lossPct, summarizeRtts } from './stats.ts';
import { checkOrder, createLimiter, parallelToFit } from './util.ts';

export { ROUND_BUDGET } from './util.ts';

/**
 * ping processes at once, at most, whatever the targets (each 2.5 MB RSS, mostly shared libc; spawning one blocks the event
 * loop 12–16 ms on a loaded 2-core box): 64 silent targets at the default 7 s deadline in 2 waves.
 */
export const PING_PARALLEL_MAX = 32;

type RoundLimits = Pick<PingConfig, 'count' | 'echoIntervalMs' | 'echoTimeoutS' | 'concurrency' | 'timeoutS'>;

/**
 * ping's -w deadline, s: the echoes' span plus the wait for the last one. A silent target runs to it
 * (7 s by default: 10 echoes 500 ms apart, 2 s timeout); a live one ends at its count-th reply.
 */
export function pingDeadlineS(cfg: Pick<PingConfig, 'count' | 'echoIntervalMs' | 'echoTimeoutS'>): number {
  return Math.ceil((cfg.count * cfg.echoIntervalMs) / 1000) + cfg.echoTimeoutS;
}

/**
 * Pings at once for a round of `targets`: the config's concurrency, raised so that every target,
 * silent to the deadline, fits in ROUND_BUDGET × timeoutS (at least one wave), capped at
 * PING_PARALLEL_MAX and at `targets`. Default config, 64 targets: 32 at once, 2 waves, 14 s ≤ 30 s.
 */
export function roundParallelism(targets: number, cfg: RoundLimits): number {
  const itemWorstS = pingDeadlineS(cfg);
  return parallelToFit(targets, {
    floor: cfg.concurrency,
    cap: PING_PARALLEL_MAX,
    itemWorstS,
    timeoutS: cfg.timeoutS,
  });
}

/** Longest a round of `targets` can take, s: its waves, each as long as the deadline (all silent). */
export function worstRoundS(targets: number, cfg: RoundLimits): number {
  if (targets === 0) return 0;
  return Math.ceil(targets / roundParallelism(targets, cfg)) * pingDeadlineS(cfg);
}

/** ping's arguments for one target: as the `ping` package built them, minus its default -s 56. */
export function pingArgs(
  host: string,
  cfg: Pick<PingConfig, 'count' | 'echoIntervalMs' | 'echoTimeoutS'>,
): string[] {
  return [
    ...['-n', '-W', String(cfg.echoTimeoutS), '-w', String(pingDeadlineS(cfg))],
    ...['-c', String(cfg.count), '-i', String(cfg.echoIntervalMs / 1000), '--', host],
  ];
}

/**
 * How many echoes ping sent, from its own summary line: with a deadline, ping keeps sending until it
 * has `count` replies or the deadline passes, so `sent` can exceed `count`. (Its `received` counts a
 * reply to a sequence it never sent, and a late one: the probe counts from the reply lines instead.)
 */
export function parseTransmitted(output: string): { sent: number; received: number } | undefined {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  return m ? { sent: Number(m[1]), received: Number(m[2]) } : undefined;
}

export interface EchoReply {
  /** ICMP sequence number (iputils numbers echoes 1, 2, … sent). */
  seq: number;
  /** Round-trip time, ms. */
  ms: number;
}

/**
 * The echo replies in iputils ping's output, in arrival order:
 * `64 bytes from 192.0.2.1: icmp_seq=3 ttl=64 time=0.51 ms`, possibly followed by `(DUP!)`. The
 * `ping` package's `times` keeps every such line, duplicates included: we read the lines ourselves.
 */
export function parseReplies(output: string): EchoReply[] {
  const replies: EchoReply[] = [];
  for (const m of output.matchAll(/\bicmp_seq=(\d+)\b.*?\btime[=<]([\d.]+) ?ms/g)) {
    const ms = Number(m[2]);
    if (Number.isFinite(ms)) replies.push({ seq: Number(m[1]), ms });
  }
  return replies;
}

export interface EchoCount {
  /** Echoes whose first reply came within the timeout. */
  received: number;
  /** Their RTTs, ms, in the order the echoes were sent (jitter compares consecutive echoes). */
  rtts: number[];
  /** Replies beyond the first for one echo (RFC 5560's duplicates): not RTT samples, not loss. */
  duplicates: number;
  /** Echoes whose first reply came after the timeout: lost (RFC 2680 §2.5), not RTT samples. */
  late: number;
}

/**
 * Counts each echo once, by its ICMP sequence number: the first reply within `timeoutMs` is its RTT,
 * later ones are duplicates, a first reply after `timeoutMs` makes it late (and lost). A reply to a
 * sequence number outside 1..sent was never asked for and is ignored.
 */
export function countEchoes(sent: number, replies: readonly EchoReply[], timeoutMs: number): EchoCount {
  const first = new Map<number, number>();
  let duplicates = 0;
  for (const r of replies) {
    if (r.seq < 1 || r.seq > sent) continue;
    if (first.has(r.seq)) duplicates++;
    else first.set(r.seq, r.ms);
  }
  const inTime = [...first].filter(([, ms]) => ms <= timeoutMs).sort(([a], [b]) => a - b);
  return {
    received: inTime.length,
    rtts: inTime.map(([, ms]) => ms),
    duplicates,
    late: first.size - inTime.length,
  };
}

/** Why a round got no answer, from ping's own words (its exit code is not exposed by the package). */
export function pingErrorCode(output: string, received: number): string | undefined {
  if (received > 0) return undefined;
  if (/Name or service not known|No address associated|Unknown host|nodename nor servname/i.test(output))
    return 'ENOTFOUND';
  if (/Temporary failure in name resolution/i.test(output)) return 'EAI_AGAIN';
  if (/Network is unreachable/i.test(output)) return 'ENETUNREACH';
  if (/Destination Host Unreachable/i.test(output)) return 'EHOSTUNREACH';
  if (/Operation not permitted|permission denied/i.test(output)) return 'EPERM';
  return 'ETIMEDOUT';
}

/** One round's sample from ping's output; `echoTimeoutMs` is how long an echo may take to count. */
export function pingSample(
  target: string,
  role: PingTarget['role'],
  t: number,
  output: string,
  echoTimeoutMs: number,
): PingSample {
  const sent = parseTransmitted(output)?.sent ?? 0;
  const { received, rtts, duplicates, late } = countEchoes(sent, parseReplies(output), echoTimeoutMs);
  const error = pingErrorCode(output, received);
  return {
    probe: 'ping',
    t,
    target,
    role,
    sent,
    received,
    lossPct: lossPct(sent, received),
    ...summarizeRtts(rtts),
    ...(sent > 0 ? { duplicates, late } : {}),
    ...(error ? { error } : {}),
  };
}

const targetKey = (t: PingTarget) => `${t.name ?? t.host}\u0000${t.host}`;

export class PingProbe implements Probe<PingConfig> {
  readonly kind = 'ping' as const;
  /** By targetKey: any echo answered last round (see checkOrder); one entry per configured target. */
  private readonly lastAnswered = new Map<string, boolean>();
  private toldTooLong = false;

  constructor(readonly config: PingConfig) {}

  /**
   * One sample per target pinged, in config order. Cut by `ctx.signal`, it kills the pings in flight
   * and returns at once with the targets it finished; the others give no sample and a warning names them.
   */
  async run(ctx: ProbeContext): Promise<PingSample[]> {
    const targets = this.config.targets;
    const parallel = roundParallelism(targets.length, this.config);
    this.warnTooLong(ctx);
    // One abort listener per ping in flight, past Node's default warning threshold of 10.
    const cut = new AbortController();
    setMaxListeners(parallel + 1, cut.signal);
    const onAbort = () => cut.abort(ctx.signal.reason);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const gate = createLimiter(parallel);
      const done: (PingSample | undefined)[] = new Array(targets.length);
      const order = checkOrder(targets.length, (i) => this.lastAnswered.get(targetKey(targets[i]!)));
      await Promise.all(
        order.map(async (i) => {
          done[i] = await gate(() => this.pingOne(targets[i]!, ctx, cut.signal));
        }),
      );
      const samples = done.filter((s): s is PingSample => s !== undefined);
      if (samples.length < targets.length) {
        const missed = targets.filter((_, i) => !done[i]).map((t) => t.name ?? t.host);
        ctx.log.warn(
          { checked: samples.length, notChecked: missed.length, targets: missed.slice(0, 20) },
          'ping: round cut at its timeout, targets not pinged to the end have no sample / ' +
            'tour ping coupé à son délai, les cibles non mesurées jusqu’au bout n’ont pas de mesure',
        );
      }
      return samples;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      cut.abort();
    }
  }

  /** Once per probe: the config lets a round of silent targets outlast the timeout even at the cap. */
  private warnTooLong(ctx: ProbeContext): void {
    const worstS = worstRoundS(this.config.targets.length, this.config);
    if (this.toldTooLong || worstS <= this.config.timeoutS) return;
    this.toldTooLong = true;
    ctx.log.warn(
      { targets: this.config.targets.length, worstS, timeoutS: this.config.timeoutS },
      'ping: with every target silent a round would outlast timeoutS; those cut give no sample ' +
        '(fewer targets, a smaller count or echoTimeoutS, or a longer timeoutS) / ' +
        'ping : si toutes les cibles se taisent, un tour dépasse timeoutS ; les cibles coupées ' +
        'n’ont pas de mesure (moins de cibles, count ou echoTimeoutS plus petit, ou timeoutS plus long)',
    );
  }

  /** The target's sample, or undefined when the round was cut before its ping ended. */
  private async pingOne(
    target: PingTarget,
    ctx: ProbeContext,
    signal: AbortSignal,
  ): Promise<PingSample | undefined> {
    // One spawn per event-loop turn (each blocks it 12–16 ms on a loaded box): the round's timer is
    // set and other work runs between them, instead of after 32 spawns in a row.
    await new Promise((resolve) => setImmediate(resolve));
    if (signal.aborted) return undefined; // its turn came too late
    const t = ctx.now();
    const label = target.name ?? target.host;
    let host = target.host;
    if (host === 'gateway') {
      const route = await readDefaultRoute();
      if (!route) {
        return {
          probe: 'ping',
          t,
          target: label,
          role: target.role,
          sent: 0,
          received: 0,
          lossPct: 100,
          error: 'NOGATEWAY',
        };
      }
      host = route.gateway;
    }
    try {
      // The -w deadline still ends ping on its own; the signal kills it when the round is cut.
      const { output, cut } = await pingOutput(pingArgs(host, this.config), signal);
      if (cut) {
        // No sample, but what came back so far still orders the next round: answering goes first.
        this.lastAnswered.set(targetKey(target), parseReplies(output).length > 0);
        return undefined;
      }
      const sample = pingSample(label, target.role, t, output, this.config.echoTimeoutS * 1000);
      this.lastAnswered.set(targetKey(target), sample.received > 0);
      return sample;
    } catch (err) {
      ctx.log.warn({ err, target: label }, 'ping could not run');
      return {
        probe: 'ping',
        t,
        target: label,
        role: target.role,
        sent: 0,
        received: 0,
        lossPct: 100,
        error: 'ESPAWN',
      };
    }
  }
}
