// The InfluxDB v1 HTTP API over undici: /write (line protocol, gzip) and /query (InfluxQL).
// Measured against the `influx` package (bench/ingest.ts): it escapes less than InfluxDB needs and
// has no gzip, so the collector writes its own line protocol and posts it here.

import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Pool } from 'undici';
import { parseHttpDate } from '../shared/time.ts';

const gzipAsync = promisify(gzip);

export interface InfluxHttpOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  gzip: boolean;
  timeoutMs: number;
}

export interface EncodedBody {
  body: Buffer;
  gzip: boolean;
}

export type WriteOutcome =
  | { ok: true }
  /**
   * kind: 'rejected' = InfluxDB refused some points (4xx); 'missing' = no such database or RP; 'failed' = try
   * again later, not before retryAfterMs when the answer (429, 503) carried a Retry-After header.
   */
  | {
      ok: false;
      kind: 'rejected' | 'missing' | 'failed';
      status: number;
      message: string;
      retryAfterMs?: number;
    };

/** The longest wait a Retry-After header may impose (a misconfigured proxy must not stop writes for a day). */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * A Retry-After header value as a wait in ms from `now`: delta-seconds (`20`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, a past one meaning 0), capped at `maxMs`. Undefined when absent or
 * unreadable (the caller's own backoff applies then).
 */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now: number,
  maxMs = MAX_RETRY_AFTER_MS,
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Math.min(maxMs, Number(value) * 1000);
  // An HTTP-date is UTC whether it says GMT or not (shared/time.ts parseHttpDate, never Date.parse).
  const at = parseHttpDate(value);
  if (at === undefined) return undefined;
  return Math.min(maxMs, Math.max(0, at - now));
}

/**
 * A query that did not answer. kind: 'missing' = no such database yet (nothing was ever written: not a
 * fault); 'unreachable' = network error, timeout, 429 or 5xx (try again, not before retryAfterMs when
 * set); 'refused' = InfluxDB will not run it as is (bad InfluxQL, authentication): retrying is useless.
 */
export class InfluxQueryError extends Error {
  constructor(
    message: string,
    readonly kind: 'missing' | 'unreachable' | 'refused',
    /** The HTTP status, 0 when there was no answer. */
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'InfluxQueryError';
  }
}

export interface QueryResult {
  results: {
    statement_id: number;
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
}

export class InfluxHttp {
  private readonly pool: Pool;
  private readonly auth: Record<string, string>;

  constructor(private readonly opts: InfluxHttpOptions) {
    this.pool = new Pool(opts.url, { connections: 8, pipelining: 1, keepAliveTimeout: 30_000 });
    this.auth = opts.username ? { u: opts.username, p: opts.password ?? '' } : {};
  }

  /** The body to post for these lines: compressed once, reused by every retry. */
  encode(lines: Buffer): Promise<EncodedBody> {
    if (!this.opts.gzip) return Promise.resolve({ body: lines, gzip: false });
    // One output chunk as large as the input: the threadpool compresses the batch in one go. With the
    // default 16 KiB chunks, every chunk waits for a turn of an event loop busy with MQTT (~10 turns a batch).
    return gzipAsync(lines, { level: 1, chunkSize: Math.max(16 * 1024, lines.length + 1024) }).then(
      (body) => ({ body, gzip: true }),
    );
  }

  async write(encoded: EncodedBody, rp?: string): Promise<WriteOutcome> {
    const params = new URLSearchParams({ db: this.opts.database, precision: 'ms', ...this.auth });
    if (rp) params.set('rp', rp);
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    const body = encoded.body;
    if (encoded.gzip) headers['content-encoding'] = 'gzip';
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: `/write?${params}`,
        headers,
        body,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode === 204) return { ok: true };
      const message = errorMessage(text) || `HTTP ${res.statusCode}`;
      if (res.statusCode === 404 || /retention policy not found|database not found/.test(message)) {
        return { ok: false, kind: 'missing', status: res.statusCode, message };
      }
      // 400: unparsable line or field type conflict; 413: too large to take at once. Both: split.
      if (res.statusCode === 400 || res.statusCode === 413 || res.statusCode === 422) {
        return { ok: false, kind: 'rejected', status: res.statusCode, message };
      }
      const wait = parseRetryAfter(res.headers['retry-after'], Date.now());
      return {
        ok: false,
        kind: 'failed',
        status: res.statusCode,
        message,
        ...(wait === undefined ? {} : { retryAfterMs: wait }),
      };
    } catch (err) {
      return { ok: false, kind: 'failed', status: 0, message: (err as Error).message };
    }
  }

  /** Runs InfluxQL (several statements with `;`). Throws an InfluxQueryError when any of them fails. */
  async query(q: string, method: 'GET' | 'POST' = 'POST'): Promise<QueryResult> {
    const params = new URLSearchParams({ q, db: this.opts.database, epoch: 'ms', ...this.auth });
    let res: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      res = await this.pool.request({
        method,
        path: `/query?${params}`,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
      text = await res.body.text();
    } catch (err) {
      throw new InfluxQueryError((err as Error).message, 'unreachable', 0);
    }
    const status = res.statusCode;
    const busy = status === 429 || status >= 500;
    const wait = busy ? parseRetryAfter(res.headers['retry-after'], Date.now()) : undefined;
    let json: QueryResult & { error?: string };
    try {
      json = JSON.parse(text);
    } catch {
      throw new InfluxQueryError(
        `InfluxDB answered ${status} to a query: ${text.slice(0, 200)}`,
        busy ? 'unreachable' : 'refused',
        status,
        wait,
      );
    }
    const error = json.error ?? json.results?.find((r) => r.error)?.error;
    if (status >= 300 || error) {
      const kind = error?.startsWith('database not found') ? 'missing' : busy ? 'unreachable' : 'refused';
      throw new InfluxQueryError(`InfluxQL "${q}": ${error ?? `HTTP ${status}`}`, kind, status, wait);
    }
    return json;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function errorMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    return text.trim();
  }
}
