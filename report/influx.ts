// Read-only InfluxQL for the report: many statements per request (a report asks thousands of small
// questions), every result kept in order. Strings are quoted here once; UAIs are checked before.
import type { InfluxConfig } from '../collector/config.ts';

export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export class ReportQueryError extends Error {
  override name = 'ReportQueryError';
  /** InfluxDB did not answer at all (down, unreachable): worth trying again later. */
  constructor(
    message: string,
    readonly unreachable = false,
  ) {
    super(message);
  }
}

/**
 * Whether an InfluxDB error answer means "not now" rather than "not so": a server stopping ("query
 * engine shutdown"), overloaded or timing out (HTTP 5xx). The API then answers 503 with Retry-After
 * and the collector's jobs try again, instead of reporting a refused query.
 */
export function transientInfluxError(status: number, message: string): boolean {
  return (
    status >= 500 ||
    /query engine shut ?down|shutting down|server is closing|timeout|timed out/i.test(message)
  );
}

/** `"name"`, InfluxQL identifier quoting. */
export const ident = (name: string): string => `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
/** `'text'`, InfluxQL string literal quoting. */
export const literal = (text: string): string => `'${text.replace(/['\\]/g, (c) => `\\${c}`)}'`;
/** A time bound in InfluxQL: integer nanoseconds are exact, unlike RFC 3339 with a zone. */
export const at = (ms: number): string => `${Math.round(ms)}000000`;

export interface ReportInflux {
  database: string;
  /** One request, several statements separated by `;`: their series, in order (an empty list for none). */
  queryAll(statements: string[]): Promise<Series[][]>;
}

/**
 * @throws ReportQueryError naming InfluxDB's answer (unreachable, refused statement) — the report
 *   never goes on with part of the data.
 */
export function reportInflux(
  cfg: Pick<InfluxConfig, 'url' | 'database' | 'username' | 'password'>,
  timeoutMs = 120_000,
): ReportInflux {
  const base = cfg.url.replace(/\/+$/, '');
  // Uncompressed answers: on loopback, gzip costs InfluxDB and the report more CPU than it saves.
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (cfg.username)
    headers['authorization'] =
      `Basic ${Buffer.from(`${cfg.username}:${cfg.password ?? ''}`).toString('base64')}`;
  return {
    database: cfg.database,
    async queryAll(statements) {
      if (!statements.length) return [];
      const body = new URLSearchParams({ q: statements.join(';\n'), db: cfg.database, epoch: 'ms' });
      let text: string;
      let status: number;
      try {
        const res = await fetch(`${base}/query`, {
          method: 'POST',
          body,
          headers,
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = res.status;
        text = await res.text();
      } catch (err) {
        throw new ReportQueryError(`InfluxDB ${base} unreachable: ${(err as Error).message}`, true);
      }
      let json: { error?: string; results?: { statement_id: number; error?: string; series?: Series[] }[] };
      try {
        json = JSON.parse(text);
      } catch {
        throw new ReportQueryError(
          `InfluxDB answered ${status} with non-JSON: ${text.slice(0, 200)}`,
          transientInfluxError(status, text.slice(0, 200)),
        );
      }
      if (json.error)
        throw new ReportQueryError(`InfluxDB: ${json.error}`, transientInfluxError(status, json.error));
      const out: Series[][] = statements.map(() => []);
      for (const r of json.results ?? []) {
        if (r.error) {
          // No database yet: nothing stored is an empty answer, not a failure.
          if (r.error.startsWith('database not found')) continue;
          if (r.error.startsWith('retention policy not found'))
            throw new ReportQueryError(
              `database "${cfg.database}" has no ${r.error.replace('retention policy not found: ', 'retention policy "')}": has a collector ever run on it (collector.influx.database)? / ` +
                `la base « ${cfg.database} » n'a pas cette politique de rétention : un collecteur a-t-il déjà tourné dessus ?`,
            );
          if (transientInfluxError(status, r.error))
            throw new ReportQueryError(`InfluxDB ${base} not answering now: ${r.error}`, true);
          throw new ReportQueryError(
            `InfluxDB refused "${statements[r.statement_id]?.slice(0, 200)}": ${r.error}`,
          );
        }
        out[r.statement_id] = r.series ?? [];
      }
      return out;
    },
  };
}

/** The rows of series as objects (column → value), with the series' tags merged in. */
export function rowsOf(series: readonly Series[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const s of series)
    for (const v of s.values ?? []) {
      const row: Record<string, unknown> = { ...s.tags };
      s.columns.forEach((c, i) => {
        row[c] = v[i];
      });
      rows.push(row);
    }
  return rows;
}
