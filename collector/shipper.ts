// Ships the write-ahead log to InfluxDB: batches by points, bytes and time, several writes in flight,
// retries with capped backoff while InfluxDB is away (never sooner than a Retry-After it sent), splits a refused batch in halves until the bad
// points stand alone (they become dead letters), and moves the checkpoint past what InfluxDB accepted.
// Memory holds only the batches in flight: the backlog stays on disk.
import { backoffDelayMs } from '../shared/backoff.ts';
import type { Logger } from '../shared/log.ts';
import { type InfluxHttp, InfluxQueryError, type WriteOutcome } from './influx-http.ts';
import type { WriteAheadLog } from './wal.ts';

export interface ShipperOptions {
  batchPoints: number;
  batchBytes: number;
  flushMs: number;
  concurrency: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** Past this many unconfirmed bytes, send at once: the log is filling towards its bound. */
  urgentBytes: number;
  /** Retention policy to write into (none: the database default). */
  rp?: string;
}

export interface ShipperStats {
  writes: number;
  pointsWritten: number;
  retries: number;
  pointsRejected: number;
  lastError: string | null;
  influxUp: boolean;
}

export interface ShipperParts {
  wal: WriteAheadLog;
  /** InfluxDB, or the points file when none is configured. */
  sink: Pick<InfluxHttp, 'encode' | 'write'>;
  options: ShipperOptions;
  log: Logger;
  /** Creates database and retention policies; called before the first write and when InfluxDB says they are missing. */
  prepare?: () => Promise<void>;
  /** A point InfluxDB refused, alone in its batch: it becomes a dead letter. */
  onRejected: (line: string, message: string) => void;
  /** Called after the checkpoint moved (room in the log again). */
  onConfirmed?: () => void;
}

interface InFlight {
  end: number;
  done: boolean;
}

/** Written batches may wait this many times `concurrency` for an earlier one before the checkpoint moves. */
const UNCONFIRMED_FACTOR = 4;

/** Capped exponential backoff with ±20 % jitter so several collectors do not retry in step. */
export const backoffMs = (attempt: number, minMs: number, maxMs: number, random = Math.random): number =>
  backoffDelayMs(attempt, { minMs, maxMs, jitter: 0.2 }, random());

export class Shipper {
  readonly stats: ShipperStats = {
    writes: 0,
    pointsWritten: 0,
    retries: 0,
    pointsRejected: 0,
    lastError: null,
    influxUp: true,
  };
  private readPos: number;
  /** Batches not yet confirmed, in log order: the checkpoint moves only past a done prefix. */
  private readonly inflight: InFlight[] = [];
  /** Batches being written now. A slot frees when its write ends, not when the batches before it end:
   *  otherwise the writes go in convoys and InfluxDB idles between them. */
  private writing = 0;
  private pendingSince: number | null = null;
  private pendingLines = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private prepared = false;
  private preparing: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Callers of written(): each waits for the checkpoint to pass the log end it saw. */
  private writtenWaiters: { end: number; resolve: () => void }[] = [];
  /** No write before this time (ms): InfluxDB asked for a pause with Retry-After. Shared by every write in flight. */
  private notBefore = 0;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  private readonly wal: WriteAheadLog;
  private readonly http: ShipperParts['sink'];
  private readonly opts: ShipperOptions;
  private readonly log: Logger;
  private readonly prepare: () => Promise<void>;
  private readonly onRejected: (line: string, message: string) => void;
  private readonly onConfirmed: () => void;

  constructor(parts: ShipperParts) {
    this.wal = parts.wal;
    this.http = parts.sink;
    this.opts = parts.options;
    this.log = parts.log;
    this.prepare = parts.prepare ?? (() => Promise.resolve());
    this.onRejected = parts.onRejected;
    this.onConfirmed = parts.onConfirmed ?? (() => {});
    this.readPos = this.wal.confirmed;
  }

  /** New lines were appended to the log. */
  appended(lines: number): void {
    this.pendingLines += lines;
    this.pendingSince ??= Date.now();
    this.pump();
  }

  /** Creates database and policies now, so the first batch does not wait for them (errors retried later). */
  warmUp(): void {
    this.ensurePrepared().catch((err: Error) => {
      this.stats.lastError = `preparing InfluxDB: ${err.message}`;
    });
  }

  /** Resolves once everything appended so far is in InfluxDB (or dead-lettered). */
  drained(): Promise<void> {
    this.pump(true);
    if (this.wal.unconfirmedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once everything appended so far has been accepted by InfluxDB (or dead-lettered), whatever
   * is appended meanwhile: after a restart, the unconfirmed tail of the log is in InfluxDB then.
   */
  written(): Promise<void> {
    const end = this.wal.end;
    if (this.wal.confirmed >= end) return Promise.resolve();
    this.pump(true);
    return new Promise((resolve) => this.writtenWaiters.push({ end, resolve }));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.wake();
    }
  }

  /** Start whatever batches are due; `force` sends a partial batch now. */
  pump(force = false): void {
    if (this.stopped) return;
    while (this.hasSlot() && this.readPos < this.wal.end) {
      const due =
        force ||
        this.pendingLines >= this.opts.batchPoints ||
        this.wal.unconfirmedBytes >= this.opts.urgentBytes ||
        this.wal.end - this.readPos >= this.opts.batchBytes ||
        this.pendingSince === null ||
        Date.now() - this.pendingSince >= this.opts.flushMs;
      if (!due) break;
      const { data, next } = this.wal.read(this.readPos, this.opts.batchBytes, this.opts.batchPoints);
      if (data.length === 0) break;
      this.readPos = next;
      this.pendingLines = Math.max(0, this.pendingLines - countLines(data));
      this.pendingSince = this.readPos < this.wal.end ? Date.now() : null;
      const entry: InFlight = { end: next, done: false };
      this.inflight.push(entry);
      this.writing++;
      void this.ship(data).then((taken) => {
        this.writing--;
        if (!taken) return; // stopping: the batch stays unconfirmed and is replayed at next start
        entry.done = true;
        this.settle();
      });
    }
    if (this.readPos < this.wal.end && !this.timer && this.hasSlot()) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, this.opts.flushMs);
    }
  }

  private hasSlot(): boolean {
    return (
      this.writing < this.opts.concurrency &&
      this.inflight.length < this.opts.concurrency * UNCONFIRMED_FACTOR
    );
  }

  private settle(): void {
    let confirmed = -1;
    while (this.inflight[0]?.done) confirmed = this.inflight.shift()!.end;
    if (confirmed >= 0) {
      try {
        this.wal.confirm(confirmed);
      } catch (err) {
        // Disk full, say: the checkpoint file lags, so a restart replays a little more (harmless, the
        // points overwrite themselves); the next confirm writes it. Thrown here it would end the process.
        this.stats.lastError = `write-ahead log checkpoint: ${(err as Error).message}`;
        this.log.warn({ err: (err as Error).message }, 'could not write the write-ahead log checkpoint');
      }
      this.onConfirmed();
    }
    if (this.wal.unconfirmedBytes === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
    const confirmedUpTo = this.wal.confirmed;
    this.writtenWaiters = this.writtenWaiters.filter((w) => {
      if (w.end > confirmedUpTo) return true;
      w.resolve();
      return false;
    });
    this.pump(this.idleWaiters.length > 0);
  }

  /** Writes one batch until InfluxDB has taken it; false when the collector stopped first. */
  private async ship(data: Buffer): Promise<boolean> {
    const outcome = await this.writeWithRetry(data);
    if (outcome.ok) return true;
    if (this.stopped) return false;
    // Refused: split in halves until the bad points stand alone. Good points are written again, harmlessly.
    const lines = splitLines(data);
    if (lines.length === 1) {
      this.stats.pointsRejected++;
      this.onRejected(lines[0]!.toString('utf8'), outcome.message);
      return true;
    }
    const mid = lines.length >> 1;
    return (
      (await this.ship(Buffer.concat(lines.slice(0, mid)))) &&
      (await this.ship(Buffer.concat(lines.slice(mid))))
    );
  }

  /** Returns ok, or a 'rejected' outcome to split on; everything else is retried with backoff. */
  private async writeWithRetry(data: Buffer): Promise<WriteOutcome> {
    const body = await this.http.encode(data);
    for (let attempt = 0; !this.stopped; attempt++) {
      const pause = this.notBefore - Date.now();
      if (pause > 0) await this.sleep(pause);
      if (this.stopped) break;
      if (!this.prepared) {
        try {
          await this.ensurePrepared();
        } catch (err) {
          const after = err instanceof InfluxQueryError ? err.retryAfterMs : undefined;
          await this.failed(`preparing InfluxDB: ${(err as Error).message}`, attempt, after);
          continue;
        }
      }
      const outcome = await this.http.write(body, this.opts.rp);
      if (outcome.ok) {
        if (!this.stats.influxUp) this.log.info('InfluxDB takes writes again');
        this.stats.influxUp = true;
        this.stats.writes++;
        this.stats.pointsWritten += countLines(data);
        return outcome;
      }
      if (outcome.kind === 'rejected') return outcome;
      if (outcome.kind === 'missing') this.prepared = false;
      await this.failed(
        `write failed (${outcome.status}): ${outcome.message}`,
        attempt,
        outcome.kind === 'failed' ? outcome.retryAfterMs : undefined,
      );
    }
    return { ok: false, kind: 'failed', status: 0, message: 'collector stopping' };
  }

  /** Waits before the next attempt: the backoff, or longer when InfluxDB said when to come back (ms, capped). */
  private async failed(message: string, attempt: number, retryAfterMs?: number): Promise<void> {
    if (this.stats.influxUp)
      this.log.warn(
        { err: message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
        'InfluxDB refuses writes; retrying with backoff',
      );
    this.stats.influxUp = false;
    this.stats.lastError = message;
    this.stats.retries++;
    const wait = Math.max(backoffMs(attempt, this.opts.retryMinMs, this.opts.retryMaxMs), retryAfterMs ?? 0);
    if (retryAfterMs !== undefined) this.notBefore = Math.max(this.notBefore, Date.now() + retryAfterMs);
    await this.sleep(wait);
  }

  private ensurePrepared(): Promise<void> {
    this.preparing ??= this.prepare()
      .then(() => {
        this.prepared = true;
      })
      .finally(() => {
        this.preparing = null;
      });
    return this.preparing;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const s = {
        timer: setTimeout(() => {
          this.sleepers.delete(s);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(s);
    });
  }
}

function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

function splitLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) {
    lines.push(data.subarray(start, i + 1));
    start = i + 1;
  }
  return lines;
}
