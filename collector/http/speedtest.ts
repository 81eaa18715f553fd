// The server side of the agents' speed test, as a fastify plugin (mount it under a prefix):
//   GET  /download?bytes=N     streams N incompressible bytes (capped at maxBytes)
//   POST /upload?warmupMs=W    counts the body's bytes as they arrive and answers
//                              { bytes, durationMs, bps }, bps measured after the first W ms
// Authentication stays with whoever mounts it: pass `authorize(request)`.
// One client cannot starve the others: it holds at most maxPerClient of the maxConcurrent slots, and
// a transfer that stops moving (idle) or runs too long (total) is cut and its slot freed, whichever
// way the bytes flow. Every answer after authorization carries the limits (LIMITS_HEADER).
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { LIMITS_HEADER, SPEEDTEST_MAX_BYTES } from '../../shared/speedtest-limits.ts';
import { type Deadline, deadline, type Expiry } from './deadline.ts';

export interface SpeedtestPluginOptions {
  /** false (or a rejected promise) answers 401 before any byte moves. */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>;
  /** Largest download served and upload accepted, bytes (default SPEEDTEST_MAX_BYTES, 100 MiB). */
  maxBytes?: number;
  /** Transfers in flight at once; past it, 503 with Retry-After (default unlimited). */
  maxConcurrent?: number;
  /** Transfers in flight for one client (clientOf); past it, 429 with Retry-After (default unlimited). */
  maxPerClient?: number;
  /** Who a request counts against for maxPerClient (default: its address, `request.ip`). */
  clientOf?: (request: FastifyRequest) => string;
  /** No byte moved for this long, ms: the transfer is cut (default 15 s). */
  idleTimeoutMs?: number;
  /** A transfer longer than this, ms, from its first hook to its last byte, is cut (default 120 s). */
  totalTimeoutMs?: number;
  /** Refusals and cuts, for counters; the plugin logs them itself. */
  onEvent?: (event: SpeedtestEvent, request: FastifyRequest) => void;
}

export type SpeedtestEvent =
  | { kind: 'refused'; reason: 'busy' | 'client_busy' | 'too_large' }
  | { kind: 'cut'; reason: Expiry | 'too_large' };

export { LIMITS_HEADER, parseSpeedtestLimits } from '../../shared/speedtest-limits.ts';

const BLOCK = randomBytes(64 * 1024);
const DEFAULT_IDLE_MS = 15_000;
const DEFAULT_TOTAL_MS = 120_000;

/** N bytes cut from a random block: incompressible, and no allocation per request. `onRead`: each block asked for. */
export function byteStream(total: number, onRead?: () => void): Readable {
  let left = total;
  return new Readable({
    read() {
      onRead?.();
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, BLOCK.length);
      left -= n;
      this.push(BLOCK.subarray(0, n));
    },
  });
}

export interface UploadCount {
  bytes: number;
  durationMs: number;
  bps: number;
}

/** Counts bytes as they arrive; the rate leaves out the first warmupMs (slow start, shaper burst). */
export class UploadMeter {
  bytes = 0;
  private firstAt: number | undefined;
  /** The first chunk arrived at firstAt: it belongs to no time span. */
  private firstBytes = 0;
  private lastAt = 0;
  private cut: { at: number; bytes: number } | undefined;

  constructor(
    private readonly warmupMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  add(n: number): void {
    const now = this.clock();
    if (this.firstAt === undefined) {
      this.firstAt = now;
      this.firstBytes = n;
    } else if (!this.cut && now - this.firstAt >= this.warmupMs) {
      this.cut = { at: now, bytes: this.bytes + n };
    }
    this.bytes += n;
    this.lastAt = now;
  }

  result(): UploadCount {
    const first = this.firstAt ?? 0;
    // Too short to leave the warm-up out: the whole span after the first chunk.
    const from = this.cut ?? { at: first, bytes: this.firstBytes };
    const span = this.lastAt - from.at;
    return {
      bytes: this.bytes,
      durationMs: Math.round((this.lastAt - first) * 1000) / 1000,
      bps: span > 0 ? Math.round(((this.bytes - from.bytes) * 8 * 1000) / span) : 0,
    };
  }
}

/** An error answer with its status (and its headers, set on the reply before it is thrown). */
class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface Transfer {
  clock: Deadline;
  /** Gives the slot back; idempotent. */
  release: () => void;
  /** Set while an upload body is being counted: ends it with this error as the answer. */
  failUpload?: ((err: Error) => void) | undefined;
}

// Long: one Fastify plugin whose routes share the transfer slots and per-client counts it holds.
export const speedtestPlugin: FastifyPluginAsync<SpeedtestPluginOptions> = async (
  app: FastifyInstance,
  opts: SpeedtestPluginOptions,
) => {
  const maxBytes = opts.maxBytes ?? SPEEDTEST_MAX_BYTES;
  const maxConcurrent = opts.maxConcurrent ?? Number.POSITIVE_INFINITY;
  const maxPerClient = opts.maxPerClient ?? Number.POSITIVE_INFINITY;
  const clientOf = opts.clientOf ?? ((request: FastifyRequest) => request.ip);
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const totalMs = opts.totalTimeoutMs ?? DEFAULT_TOTAL_MS;
  const limits = [
    `max-bytes=${maxBytes}`,
    `idle-s=${Math.ceil(idleMs / 1000)}`,
    `total-s=${Math.ceil(totalMs / 1000)}`,
    ...(Number.isFinite(maxPerClient) ? [`per-client=${maxPerClient}`] : []),
    ...(Number.isFinite(maxConcurrent) ? [`concurrent=${maxConcurrent}`] : []),
  ].join(', ');
  let inFlight = 0;
  /** Transfers in flight by client; an entry leaves at zero, so this holds at most inFlight keys. */
  const perClient = new Map<string, number>();
  const transfers = new WeakMap<FastifyRequest, Transfer>();

  const refusal = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    reason: 'busy' | 'client_busy' | 'too_large',
    message: string,
    retryAfterS?: number,
  ) => {
    opts.onEvent?.({ kind: 'refused', reason }, request);
    request.log.warn({ client: clientOf(request), reason }, `speed test refused: ${message}`);
    if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS));
    // An upload's body is not worth reading once refused.
    reply.header('connection', 'close');
    return new Refusal(status, message);
  };

  const cut = (request: FastifyRequest, reply: FastifyReply, transfer: Transfer, why: Expiry) => {
    const message =
      why === 'idle'
        ? `speed test cut: no byte moved for ${idleMs / 1000} s`
        : `speed test cut: it ran longer than ${totalMs / 1000} s`;
    opts.onEvent?.({ kind: 'cut', reason: why }, request);
    request.log.warn({ client: clientOf(request), why }, message);
    // An upload still counting gets a 408 answer (fastify then closes the connection); a download,
    // or an answer its client does not read, loses its socket.
    if (transfer.failUpload && !reply.sent) transfer.failUpload(new Refusal(408, message));
    else {
      reply.raw.destroy();
      transfer.release(); // in case the socket had closed before its 'close' could be heard
    }
  };

  app.addHook('onRequest', async (request, reply) => {
    if (opts.authorize && !(await opts.authorize(request))) {
      return reply.code(401).send({ error: 'speed test not authorized' });
    }
    reply.header(LIMITS_HEADER, limits);
    const declared = Number(request.headers['content-length']);
    if (declared > maxBytes) {
      throw refusal(
        request,
        reply,
        413,
        'too_large',
        `an upload of ${declared} bytes is larger than this server accepts (${maxBytes} bytes)`,
      );
    }
  });

  // Slots are taken last, after every onRequest check (the mount's per-school rate limit included),
  // and before the first byte of a body is read.
  app.addHook('preParsing', async (request, reply, payload) => {
    const client = clientOf(request);
    const mine = perClient.get(client) ?? 0;
    if (mine >= maxPerClient) {
      throw refusal(
        request,
        reply,
        429,
        'client_busy',
        `${mine} speed tests of this client are already running (at most ${maxPerClient} at once)`,
        Math.ceil(totalMs / 1000),
      );
    }
    if (inFlight >= maxConcurrent) {
      throw refusal(request, reply, 503, 'busy', 'too many speed tests at once', 60);
    }
    inFlight++;
    perClient.set(client, mine + 1);
    let released = false;
    const transfer: Transfer = {
      clock: deadline({ idleMs, totalMs }, (why) => cut(request, reply, transfer, why)),
      release: () => {
        if (released) return;
        released = true;
        transfer.clock.stop();
        inFlight--;
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      },
    };
    transfers.set(request, transfer);
    reply.raw.once('close', transfer.release);
    request.raw.once('close', () => {
      if (reply.raw.writableEnded) transfer.release();
    });
    // The client may have left while the hooks before this one ran: its 'close' is already past.
    if (reply.raw.destroyed || request.raw.socket?.destroyed) transfer.release();
    return payload;
  });

  // This plugin's scope only: bodies are counted as a stream, never buffered.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const query = request.query as { warmupMs?: string };
    const warmupMs = Math.min(10_000, Math.max(0, Number(query.warmupMs ?? 0) || 0));
    const meter = new UploadMeter(warmupMs);
    const transfer = transfers.get(request);
    let finished = false;
    const finish = (err: Error | null, count?: UploadCount) => {
      if (finished) return;
      finished = true;
      if (transfer) transfer.failUpload = undefined;
      // The rest of a refused body is drained until fastify closes the connection.
      if (err) payload.resume();
      done(err, count);
    };
    if (transfer) transfer.failUpload = (err) => finish(err);
    payload.on('data', (chunk: Buffer) => {
      if (finished) return;
      transfer?.clock.progress();
      meter.add(chunk.length);
      if (meter.bytes > maxBytes) {
        opts.onEvent?.({ kind: 'cut', reason: 'too_large' }, request);
        request.log.warn({ client: clientOf(request) }, `speed test cut: upload past ${maxBytes} bytes`);
        finish(new Refusal(413, `upload larger than ${maxBytes} bytes`));
      }
    });
    payload.on('end', () => finish(null, meter.result()));
    payload.on('error', (err) => finish(err));
  });

  app.get('/download', async (request, reply) => {
    const asked = Number((request.query as { bytes?: string }).bytes ?? 0);
    if (!Number.isFinite(asked) || asked < 0) {
      return reply.code(400).send({ error: 'bytes must be a non-negative number' });
    }
    const bytes = Math.min(Math.floor(asked), maxBytes);
    const transfer = transfers.get(request);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(bytes))
      .header('cache-control', 'no-store')
      .header('content-encoding', 'identity')
      .send(byteStream(bytes, () => transfer?.clock.progress()));
  });

  // bodyTimeoutMs 0: the collector's body deadline (body-deadline.ts) leaves this body to the clocks above.
  app.post('/upload', { bodyLimit: maxBytes + 1, config: { bodyTimeoutMs: 0 } }, async (request, reply) => {
    const count = request.body as UploadCount | undefined;
    return reply.header('cache-control', 'no-store').send(count ?? { bytes: 0, durationMs: 0, bps: 0 });
  });
};
