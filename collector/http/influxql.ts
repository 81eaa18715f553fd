// Read-only InfluxQL over the v1 HTTP API. Values travel as bound parameters ($name), never
// spliced into the statement, so a school name or a UAI cannot change what a query does.
import type { InfluxQuery, InfluxRows } from './deps.ts';

export interface InfluxReadConfig {
  url: string;
  database: string;
  username?: string;
  password?: string;
  timeoutMs: number;
}

/** InfluxDB's own words, for the log only (collector/http/errors.ts keeps them from clients). */
export class InfluxQueryError extends Error {
  override name = 'InfluxQueryError';
  constructor(
    message: string,
    /** No answer at all (refused connection, timeout), rather than an answer that is an error. */
    readonly unreachable = false,
  ) {
    super(message);
  }
}

function authHeader(cfg: InfluxReadConfig): Record<string, string> {
  if (!cfg.username) return {};
  const basic = Buffer.from(`${cfg.username}:${cfg.password ?? ''}`).toString('base64');
  return { authorization: `Basic ${basic}` };
}

export function influxReader(cfg: InfluxReadConfig): {
  query: InfluxQuery;
  ping(): Promise<boolean>;
  database: string;
} {
  const base = cfg.url.replace(/\/+$/, '');
  const query: InfluxQuery = async (q, params) => {
    const body = new URLSearchParams({ q, db: cfg.database, epoch: 'ms' });
    if (params && Object.keys(params).length) body.set('params', JSON.stringify(params));
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${base}/query`, {
        method: 'POST',
        body,
        headers: authHeader(cfg),
        signal: AbortSignal.timeout(cfg.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message;
      throw new InfluxQueryError(
        `InfluxDB unreachable: ${(err as Error).message}${cause ? ` (${cause})` : ''}`,
        true,
      );
    }
    let json: { error?: string; results?: { error?: string; series?: InfluxRows[] }[] };
    try {
      json = JSON.parse(text);
    } catch {
      throw new InfluxQueryError(`InfluxDB answered ${res.status} with non-JSON`);
    }
    const error = json.error ?? json.results?.find((r) => r.error)?.error;
    // Before the first write the database may not exist yet: nothing stored is an empty answer.
    if (error?.startsWith('database not found')) return [];
    if (!res.ok || error)
      throw new InfluxQueryError(
        `InfluxDB query failed: ${error ?? res.status} (statement: ${q.slice(0, 300)})`,
      );
    return json.results?.[0]?.series ?? [];
  };
  const ping = async () => {
    try {
      const res = await fetch(`${base}/ping`, {
        headers: authHeader(cfg),
        // Readiness probes give up after a second or two: answer before they do.
        signal: AbortSignal.timeout(Math.min(cfg.timeoutMs, 2000)),
      });
      return res.status === 204;
    } catch {
      return false;
    }
  };
  return { query, ping, database: cfg.database };
}

/** Rows of every series as objects keyed by column, with the series tags merged in. */
export function rowsOf(series: InfluxRows[]): Record<string, unknown>[] {
  return series.flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );
}
