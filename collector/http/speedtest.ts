// The server side of the agents' speed test, as a fastify plugin (mount it under a prefix):
//   GET  /download?bytes=N     streams N incompressible bytes (capped at maxBytes)
//   POST /upload?warmupMs=W    counts the body's bytes as they arrive and answers
//                              { bytes, durationMs, bps }, bps measured after the first W ms
// Authentication stays with whoever mounts it: pass `authorize(request)`.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';

export interface SpeedtestPluginOptions {
  /** false (or a rejected promise) answers 401 before any byte moves. */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>;
  /** Largest download served and upload accepted, bytes (default 200 MiB). */
  maxBytes?: number;
  /** Transfers in flight at once; past it, 503 with Retry-After (default unlimited). */
  maxConcurrent?: number;
}

const BLOCK = randomBytes(64 * 1024);
const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;

/** N bytes cut from a random block: incompressible, and no allocation per request. */
export function byteStream(total: number): Readable {
  let left = total;
  return new Readable({
    read() {
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

class TooLarge extends Error {
  statusCode = 413;
  code = 'FST_SPEEDTEST_TOO_LARGE';
}

export const speedtestPlugin: FastifyPluginAsync<SpeedtestPluginOptions> = async (
  app: FastifyInstance,
  opts: SpeedtestPluginOptions,
) => {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxConcurrent = opts.maxConcurrent ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;

  app.addHook('onRequest', async (request, reply) => {
    if (opts.authorize && !(await opts.authorize(request))) {
      return reply.code(401).send({ error: 'speed test not authorized' });
    }
    if (inFlight >= maxConcurrent) {
      return reply.code(503).header('retry-after', '60').send({ error: 'too many speed tests at once' });
    }
    inFlight++;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        inFlight--;
      }
    };
    reply.raw.once('close', release);
    request.raw.once('close', () => {
      if (reply.raw.writableEnded) release();
    });
  });

  // This plugin's scope only: bodies are counted as a stream, never buffered.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const query = request.query as { warmupMs?: string };
    const warmupMs = Math.min(10_000, Math.max(0, Number(query.warmupMs ?? 0) || 0));
    const meter = new UploadMeter(warmupMs);
    let finished = false;
    payload.on('data', (chunk: Buffer) => {
      if (finished) return;
      meter.add(chunk.length);
      if (meter.bytes > maxBytes) {
        finished = true;
        payload.resume();
        done(new TooLarge(`upload larger than ${maxBytes} bytes`), undefined);
      }
    });
    payload.on('end', () => {
      if (finished) return;
      finished = true;
      done(null, meter.result());
    });
    payload.on('error', (err) => {
      if (finished) return;
      finished = true;
      done(err, undefined);
    });
  });

  app.get('/download', async (request, reply) => {
    const asked = Number((request.query as { bytes?: string }).bytes ?? 0);
    if (!Number.isFinite(asked) || asked < 0) {
      return reply.code(400).send({ error: 'bytes must be a non-negative number' });
    }
    const bytes = Math.min(Math.floor(asked), maxBytes);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(bytes))
      .header('cache-control', 'no-store')
      .header('content-encoding', 'identity')
      .send(byteStream(bytes));
  });

  app.post('/upload', { bodyLimit: maxBytes + 1 }, async (request, reply) => {
    const count = request.body as UploadCount | undefined;
    return reply.header('cache-control', 'no-store').send(count ?? { bytes: 0, durationMs: 0, bps: 0 });
  });
};
