// ICMP echo rounds through the `ping` package (the system ping, so no raw-socket privilege needed).
import ping from 'ping';
import type { PingSample } from '../../shared/schemas.ts';
import type { PingConfig, PingTarget } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { readDefaultRoute } from './route.ts';
import { lossPct, summarizeRtts } from './stats.ts';
import { mapLimit } from './util.ts';

/**
 * The package gives per-echo RTTs (`times`, in arrival order) and a loss %, but not how many echoes
 * were sent: with a deadline, ping keeps sending until it has `count` replies or the deadline passes,
 * so `sent` can exceed `count`. We read it from ping's own summary line.
 */
export function parseTransmitted(output: string): { sent: number; received: number } | undefined {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  return m ? { sent: Number(m[1]), received: Number(m[2]) } : undefined;
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

export function pingSample(
  target: string,
  role: PingTarget['role'],
  t: number,
  output: string,
  times: readonly number[],
): PingSample {
  const rtts = times.filter((v) => typeof v === 'number' && Number.isFinite(v));
  const counted = parseTransmitted(output);
  const received = counted?.received ?? rtts.length;
  const sent = counted?.sent ?? 0;
  const summary = summarizeRtts(rtts);
  const error = pingErrorCode(output, received);
  return {
    probe: 'ping',
    t,
    target,
    role,
    sent,
    received,
    lossPct: lossPct(sent, received),
    ...summary,
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
      // `times` (per-echo RTTs) exists at runtime since ping 0.4.2 but @types/ping lacks it.
      const times = (res as { times?: unknown }).times;
      return pingSample(label, target.role, t, res.output, Array.isArray(times) ? times : []);
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
