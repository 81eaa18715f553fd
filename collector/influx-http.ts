// The InfluxDB v1 HTTP API over undici: /write (line protocol, gzip) and /query (InfluxQL).
// Measured against the `influx` package (bench/ingest.ts): it escapes less than InfluxDB needs and
// has no gzip, so the collector writes its own line protocol and posts it here.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Pool } from 'undici';

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
  /** kind: 'rejected' = InfluxDB refused some points (4xx); 'missing' = no such database or RP; 'failed' = try again later. */
  | { ok: false; kind: 'rejected' | 'missing' | 'failed'; status: number; message: string };

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
      return { ok: false, kind: 'failed', status: res.statusCode, message };
    } catch (err) {
      return { ok: false, kind: 'failed', status: 0, message: (err as Error).message };
    }
  }

  async query(q: string, method: 'GET' | 'POST' = 'POST'): Promise<QueryResult> {
    const params = new URLSearchParams({ q, db: this.opts.database, epoch: 'ms', ...this.auth });
    const res = await this.pool.request({
      method,
      path: `/query?${params}`,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
    });
    const text = await res.body.text();
    let json: QueryResult & { error?: string };
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`InfluxDB answered ${res.statusCode} to a query: ${text.slice(0, 200)}`);
    }
    const error = json.error ?? json.results?.find((r) => r.error)?.error;
    if (res.statusCode >= 300 || error)
      throw new Error(`InfluxQL "${q}": ${error ?? `HTTP ${res.statusCode}`}`);
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
