// `vigie replay FILE --influx URL`: loads a points file written without InfluxDB (collector
// `pointsFile`, the demo's spool) into InfluxDB, as the collector would have: same database,
// retention policies and continuous queries, millisecond timestamps. Streams the file, so its size
// does not matter; lines InfluxDB refuses are counted and shown, the rest still loads.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolveCollectorConfig } from './config.ts';
import { InfluxHttp, type WriteOutcome } from './influx-http.ts';
import { applyRetention } from './retention.ts';
import { backoffMs } from './shipper.ts';

export interface ReplayOptions {
  influx: string;
  database: string;
  rp: string;
  username?: string;
  password?: string;
  batchPoints: string;
  /** Create the database, policies and rollups first (the collector's `retention.manage`). */
  manage: boolean;
}

export interface ReplayResult {
  lines: number;
  written: number;
  refused: { line: number; text: string; error: string }[];
  refusedCount: number;
  /** Points InfluxDB dropped as older than the retention policy's duration. */
  tooOld: number;
}

const BEYOND_RETENTION = /^partial write: points beyond retention policy dropped=(\d+)$/;

const MAX_ATTEMPTS = 8;
const SHOWN_REFUSALS = 5;

class ReplayError extends Error {}

// Long: one read-send-retry loop whose progress, refusals and attempt count are shared state.
export async function replayFile(
  file: string,
  opts: ReplayOptions,
  progress: (r: ReplayResult) => void = () => {},
): Promise<ReplayResult> {
  const batchPoints = Number(opts.batchPoints);
  if (!Number.isInteger(batchPoints) || batchPoints < 1 || batchPoints > 100_000)
    throw new ReplayError(`--batch must be a whole number from 1 to 100000, got "${opts.batchPoints}"`);
  if (!/^https?:\/\//.test(opts.influx))
    throw new ReplayError(`--influx must be a URL such as http://127.0.0.1:8086, got "${opts.influx}"`);
  try {
    if (!statSync(file).isFile()) throw new ReplayError(`${file} is not a file`);
  } catch (err) {
    if (err instanceof ReplayError) throw err;
    throw new ReplayError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const retention = resolveCollectorConfig({}).retention;
  const http = new InfluxHttp({
    url: opts.influx,
    database: opts.database,
    username: opts.username,
    password: opts.password,
    gzip: true,
    timeoutMs: 30_000,
  });
  const result: ReplayResult = { lines: 0, written: 0, refused: [], refusedCount: 0, tooOld: 0 };
  const prepare = async () => {
    if (opts.manage) await applyRetention(http, opts.database, { ...retention, manage: true });
  };

  /** Writes lines [first line number, texts]; splits a refused batch until the bad lines stand alone. */
  const write = async (first: number, lines: string[]): Promise<void> => {
    const body = await http.encode(Buffer.from(`${lines.join('\n')}\n`));
    let outcome: WriteOutcome = { ok: false, kind: 'failed', status: 0, message: 'not tried' };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      outcome = await http.write(body, opts.rp);
      if (outcome.ok || outcome.kind === 'rejected') break;
      if (outcome.kind === 'missing') await prepare();
      else await new Promise((r) => setTimeout(r, backoffMs(attempt, 250, 5000)));
    }
    if (outcome.ok) {
      result.written += lines.length;
      return;
    }
    if (outcome.kind !== 'rejected')
      throw new ReplayError(
        `InfluxDB at ${opts.influx} refused writes ${MAX_ATTEMPTS} times (${outcome.message}); ` +
          `${result.written} points loaded so far, from line ${first} on nothing was; running the same command again is harmless (points are idempotent)`,
      );
    if (lines.length === 1) {
      // Only alone is a point's fate certain: InfluxDB 1.x names the retention drop and hides a parse error.
      if (BEYOND_RETENTION.test(outcome.message)) {
        result.tooOld++;
        return;
      }
      result.refusedCount++;
      if (result.refused.length < SHOWN_REFUSALS)
        result.refused.push({ line: first, text: lines[0]!.slice(0, 200), error: outcome.message });
      return;
    }
    const mid = lines.length >> 1;
    await write(first, lines.slice(0, mid));
    await write(first + mid, lines.slice(mid));
  };

  try {
    try {
      await prepare();
    } catch (err) {
      throw new ReplayError(
        `cannot prepare database ${opts.database} at ${opts.influx}: ${(err as Error).message}`,
      );
    }
    // Points the policy no longer keeps are counted here rather than found by splitting refused batches.
    const keepsMs = await policyDurationMs(http, opts.database, opts.rp).catch(() => null);
    const oldest = keepsMs === null ? Number.NEGATIVE_INFINITY : Date.now() - keepsMs;
    const reader = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
    let batch: string[] = [];
    let batchStart = 1;
    let lineNo = 0;
    for await (const line of reader) {
      lineNo++;
      if (line.trim() === '' || line.startsWith('#')) continue;
      result.lines++;
      if (timestampMs(line) < oldest) {
        result.tooOld++;
        continue;
      }
      if (batch.length === 0) batchStart = lineNo;
      batch.push(line);
      if (batch.length >= batchPoints) {
        await write(batchStart, batch);
        batch = [];
        progress(result);
      }
    }
    if (batch.length) await write(batchStart, batch);
    return result;
  } finally {
    await http.close();
  }
}

/** The policy's duration in ms (null: keeps forever, or unknown). InfluxDB writes it as Go does: 2160h0m0s. */
export async function policyDurationMs(
  http: Pick<InfluxHttp, 'query'>,
  database: string,
  rp: string,
): Promise<number | null> {
  const res = await http.query(`SHOW RETENTION POLICIES ON "${database.replace(/["\\]/g, '\\$&')}"`);
  const series = res.results[0]?.series?.[0];
  const row = series?.values.find((v) => v[0] === rp);
  const m = /^(\d+)h(\d+)m(\d+)s$/.exec(String(row?.[series!.columns.indexOf('duration')] ?? ''));
  if (!m) return null;
  const ms = ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000;
  return ms > 0 ? ms : null;
}

/** A line's timestamp (ms, the collector's precision); +Infinity when it has none, so it is sent as is. */
export function timestampMs(line: string): number {
  const t = Number(line.slice(line.lastIndexOf(' ') + 1));
  return Number.isInteger(t) ? t : Number.POSITIVE_INFINITY;
}

export async function runReplayCommand(
  file: string,
  opts: ReplayOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const started = Date.now();
  let lastProgress = started;
  let result: ReplayResult;
  try {
    result = await replayFile(file, opts, (r) => {
      if (Date.now() - lastProgress < 5000) return;
      lastProgress = Date.now();
      out(`  ${r.written} points loaded…`);
    });
  } catch (err) {
    if (!(err instanceof ReplayError)) throw err;
    process.stderr.write(`vigie replay: ${err.message}\n`);
    return err.message.startsWith('--') || err.message.startsWith('cannot read') ? 2 : 1;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  out(
    `loaded ${result.written} of ${result.lines} points from ${file} into database "${opts.database}" ` +
      `(retention policy "${opts.rp}") at ${opts.influx} in ${seconds} s`,
  );
  if (result.tooOld)
    out(
      `${result.tooOld} points were older than retention policy "${opts.rp}" keeps: left out (InfluxDB would drop them)`,
    );
  if (result.refusedCount === 0) return 0;
  out(`InfluxDB refused ${result.refusedCount} lines; the first ones:`);
  for (const r of result.refused) out(`  line ${r.line}: ${r.error}\n    ${r.text}`);
  return 1;
}
