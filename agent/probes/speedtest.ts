// Active download and upload throughput against the collector's speed-test endpoint
// (collector/http/speedtest.ts): GET {url}/download?bytes=N, POST {url}/upload?warmupMs=W.
import type { SpeedtestSample } from '../../shared/schemas.ts';
import { LIMITS_HEADER, parseSpeedtestLimits } from '../../shared/speedtest-limits.ts';
import type { SpeedtestConfig } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { speedtestDecision, speedtestHours } from './speedtest-schedule.ts';
import { errorCode } from './util.ts';
import type { LinkLoad } from './wan.ts';

/** Upload chunks: random bytes, so no compressing middlebox flatters the figure. */
const CHUNK = Buffer.from(crypto.getRandomValues(new Uint8Array(64 * 1024)));

export interface Transfer {
  bytes: number;
  bps: number;
  durationMs: number;
}

/**
 * Throughput over the window after warm-up: the first warmupMs after the first byte (TCP slow start,
 * a shaper's burst bucket) are left out. `marks` are (ms since start, cumulative bytes) per chunk.
 */
export function windowRate(marks: readonly [number, number][], warmupMs: number): Transfer | undefined {
  if (marks.length < 2) return undefined;
  const [t0] = marks[0]!;
  const [tEnd, bEnd] = marks[marks.length - 1]!;
  // Short transfers keep at least half their span.
  const cut = t0 + Math.min(warmupMs, (tEnd - t0) / 2);
  const from = marks.find(([t]) => t >= cut) ?? marks[0]!;
  const span = tEnd - from[0];
  if (span <= 0) return undefined;
  return { bytes: bEnd, bps: Math.round(((bEnd - from[1]) * 8 * 1000) / span), durationMs: tEnd - t0 };
}

export class SpeedtestProbe implements Probe<SpeedtestConfig> {
  readonly kind = 'speedtest' as const;
  private pastRuns: number[] = [];
  /** The server's `max-bytes`, from its last answer's LIMITS_HEADER; absent from an older server. */
  private serverMaxBytes: number | undefined;

  constructor(
    readonly config: SpeedtestConfig,
    private readonly deps: { linkLoad?: LinkLoad; wanIntervalS?: number; ignoreSchedule?: boolean } = {},
  ) {
    // A profile the config does not define stops the agent at start, not at the first round.
    speedtestHours(config);
  }

  async run(ctx: ProbeContext): Promise<SpeedtestSample[]> {
    const now = ctx.now();
    this.pastRuns = this.pastRuns.filter((t) => now - t < 2 * 86_400_000);
    if (!this.deps.ignoreSchedule) {
      const busy = this.deps.linkLoad?.busiestPct(now, 2 * (this.deps.wanIntervalS ?? 60) * 1000);
      const decision = speedtestDecision(this.config, this.pastRuns, now, busy);
      if (!decision.run) {
        ctx.log.debug({ reason: decision.reason, busyPct: busy }, 'speedtest skipped');
        return [];
      }
    } else if (!this.config.url) {
      return [];
    }
    this.pastRuns.push(now);
    return [await this.measure(ctx)];
  }

  /**
   * One download then one upload, whatever the schedule says. Each direction stands alone: a refused
   * or failed upload keeps the download's figure (ok false, `error` the upload's code), and the reverse.
   */
  async measure(ctx: ProbeContext): Promise<SpeedtestSample> {
    const t = ctx.now();
    const target = this.config.url ?? '';
    const start = performance.now();
    const base = { probe: 'speedtest' as const, t, target: target.slice(0, 128) || 'none' };
    const errors: string[] = [];
    const attempt = async <T>(direction: string, run: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await run();
      } catch (err) {
        ctx.log.warn({ err: String(err) }, `speedtest ${direction} failed`);
        errors.push(errorCode(err));
        return undefined;
      }
    };
    const down = await attempt('download', () => this.download(ctx));
    const up = ctx.signal.aborted ? undefined : await attempt('upload', () => this.upload(ctx));
    const ok = down !== undefined && up !== undefined;
    return {
      ...base,
      ok,
      ...(down ? { downBps: down.bps, downBytes: down.bytes } : {}),
      ...(up ? { upBps: up.bps, upBytes: up.bytes } : {}),
      durationMs: Math.round(performance.now() - start),
      ...(ok ? {} : { error: errors[0] ?? 'NO_DATA' }),
    };
  }

  private headers(): Record<string, string> {
    return this.config.token ? { authorization: `Bearer ${this.config.token}` } : {};
  }

  private async download(ctx: ProbeContext): Promise<Transfer | undefined> {
    const { url, durationS, maxBytes, warmupS } = this.config;
    // Our own controller, not AbortSignal.any(): the transfer ends on time or when the probe is cut.
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const durationMs = durationS * 1000;
    const timer = setTimeout(onAbort, durationMs + 1000);
    const start = performance.now();
    const marks: [number, number][] = [];
    let bytes = 0;
    try {
      const res = await fetch(`${url}/download?bytes=${maxBytes}`, {
        headers: this.headers(),
        signal: stop.signal,
      });
      this.serverMaxBytes = parseSpeedtestLimits(res.headers.get(LIMITS_HEADER))['max-bytes'];
      if (!res.ok || !res.body) {
        throw Object.assign(new Error(`download HTTP ${res.status}`), { code: `HTTP_${res.status}` });
      }
      const reader = res.body.getReader();
      while (performance.now() - start < durationMs) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        marks.push([performance.now() - start, bytes]);
      }
      // Enough measured: drop the rest of the download and its connection.
      stop.abort();
      await reader.cancel().catch(() => {});
    } catch (err) {
      if (ctx.signal.aborted || marks.length < 2) throw err;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return windowRate(marks, warmupS * 1000);
  }

  private async upload(ctx: ProbeContext): Promise<Transfer | undefined> {
    const { url, durationS, warmupS } = this.config;
    // One byte past the server's limit is a 413 and no figure: stop at it.
    const maxBytes = Math.min(this.config.maxBytes, this.serverMaxBytes ?? Number.POSITIVE_INFINITY);
    const until = performance.now() + durationS * 1000;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (performance.now() >= until || sent >= maxBytes || ctx.signal.aborted) {
          controller.close();
          return;
        }
        const n = Math.min(CHUNK.length, maxBytes - sent);
        sent += n;
        controller.enqueue(CHUNK.subarray(0, n));
      },
    });
    const res = await fetch(`${url}/upload?warmupMs=${Math.round(warmupS * 1000)}`, {
      method: 'POST',
      headers: { ...this.headers(), 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
      signal: ctx.signal,
    } as RequestInit);
    if (!res.ok) throw Object.assign(new Error(`upload HTTP ${res.status}`), { code: `HTTP_${res.status}` });
    // The server times the bytes as they arrive: the client's clock would count its socket buffer.
    const r = (await res.json()) as { bytes?: number; bps?: number; durationMs?: number };
    if (typeof r.bytes !== 'number' || typeof r.bps !== 'number' || !(r.bps > 0)) return undefined;
    return { bytes: r.bytes, bps: r.bps, durationMs: r.durationMs ?? 0 };
  }
}
