// ICMP echo rounds through the `ping` package (the system ping, so no raw-socket privilege needed).
import ping from 'ping';
import type { PingSample } from '../../shared/schemas.ts';
import type { PingConfig, PingTarget } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { readDefaultRoute } from './route.ts';
import { lossPct, summarizeRtts } from './stats.ts';
import { mapLimit } from './util.ts';

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

export class PingProbe implements Probe<PingConfig> {
  readonly kind = 'ping' as const;
  constructor(readonly config: PingConfig) {}

  async run(ctx: ProbeContext): Promise<PingSample[]> {
    return mapLimit(this.config.targets, this.config.concurrency, (target) => this.pingOne(target, ctx));
  }

  private async pingOne(target: PingTarget, ctx: ProbeContext): Promise<PingSample> {
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
    const { count, echoIntervalMs, echoTimeoutS } = this.config;
    // The deadline makes ping end on its own: the package cannot kill its child on abort.
    const deadline = Math.ceil((count * echoIntervalMs) / 1000) + echoTimeoutS;
    try {
      const res = await ping.promise.probe(host, {
        min_reply: count,
        deadline,
        timeout: echoTimeoutS,
        extra: ['-n', '-i', String(echoIntervalMs / 1000)],
      });
      return pingSample(label, target.role, t, res.output, echoTimeoutS * 1000);
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
