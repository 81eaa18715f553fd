// A real InfluxDB 1.x on free loopback ports, in its own temp dir, with small query helpers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, freePort, tempDir } from './daemon.ts';

export interface InfluxHandle {
  daemon: Daemon;
  port: number;
  url: string;
  dir: string;
  /** Runs InfluxQL and returns the parsed JSON; throws on an HTTP or statement error. */
  query(q: string, db?: string): Promise<InfluxQueryResult>;
  /** Posts line protocol; throws with InfluxDB's message on error. */
  write(lines: string, db: string, precision?: string): Promise<void>;
  /** Rows of the first series of the first statement, as objects keyed by column. */
  rows(q: string, db?: string): Promise<Record<string, unknown>[]>;
}

export interface InfluxQueryResult {
  results: {
    statement_id: number;
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
}

export interface InfluxOptions {
  /** `[http] auth-enabled`: with no user created, InfluxDB refuses every query (tests of that refusal). */
  authEnabled?: boolean;
}

export async function startInfluxdb(opts: InfluxOptions = {}): Promise<InfluxHandle> {
  const dir = tempDir('influxdb');
  const port = await freePort();
  const rpcPort = await freePort();
  const conf = `
reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[coordinator]
[retention]
  enabled = true
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  max-body-size = 0
  auth-enabled = ${opts.authEnabled === true}
[continuous_queries]
  enabled = true
  run-interval = "1s"
[subscriber]
  enabled = false
`;
  const confFile = join(dir, 'influxdb.conf');
  writeFileSync(confFile, conf);
  const url = `http://127.0.0.1:${port}`;
  const daemon = new Daemon({
    name: 'influxd',
    binary: 'influxd',
    args: ['-config', confFile],
    dir,
    ready: async () => (await fetch(`${url}/ping`)).status === 204,
  });
  await daemon.start();

  const query = async (q: string, db?: string): Promise<InfluxQueryResult> => {
    const body = new URLSearchParams({ q, epoch: 'ms' });
    if (db) body.set('db', db);
    const res = await fetch(`${url}/query`, { method: 'POST', body });
    const json = (await res.json()) as InfluxQueryResult & { error?: string };
    if (!res.ok || json.error) throw new Error(`InfluxQL "${q}" failed: ${json.error ?? res.status}`);
    const stmtErr = json.results.find((r) => r.error);
    if (stmtErr) throw new Error(`InfluxQL "${q}" failed: ${stmtErr.error}`);
    return json;
  };
  const write = async (lines: string, db: string, precision = 'ms') => {
    const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=${precision}`, {
      method: 'POST',
      body: lines,
    });
    if (res.status !== 204) throw new Error(`InfluxDB write failed ${res.status}: ${await res.text()}`);
  };
  const rows = async (q: string, db?: string) => {
    const series = (await query(q, db)).results[0]?.series?.[0];
    if (!series) return [];
    return series.values.map((v) => Object.fromEntries(series.columns.map((c, i) => [c, v[i]])));
  };
  return { daemon, port, url, dir, query, write, rows };
}
