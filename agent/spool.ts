// Store-and-forward spool: one file per metrics batch, named by its sequence number. A batch is on
// disk (fsynced, renamed into place) before anyone may publish it, and leaves only on its PUBACK or
// when the size bound drops it, oldest first. The sequence number and the last batch time live in
// a state file beside it, so neither is ever reused after a restart, even with an empty spool.
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const BATCH_FILE = /^(\d{16})\.json$/;
const STATE_FILE = 'state.json';

export interface SpoolState {
  /** Sequence number of the next batch. */
  nextSeq: number;
  /** Time of the last batch written: batch times are strictly increasing per agent. */
  lastT: number;
  /** Batches dropped by the size bound since the spool was created. */
  dropped: number;
}

export interface SpoolStats {
  bytes: number;
  batches: number;
  dropped: number;
}

export interface AppendResult {
  seq: number;
  t: number;
  bytes: number;
  /** Sequence numbers dropped, oldest first, to make room for this batch. */
  dropped: number[];
}

export const batchFileName = (seq: number) => `${String(seq).padStart(16, '0')}.json`;

/** Batch time: the clock, unless it did not move forward (same ms, or stepped back by NTP). */
export const nextBatchTime = (now: number, lastT: number) => Math.max(Math.floor(now), lastT + 1);

/**
 * Which of the spooled batches (oldest first, with their sizes) to drop so that `incoming` more
 * bytes fit in `maxBytes`. The incoming batch itself is always kept.
 */
export function batchesToDrop(
  spooled: Iterable<{ seq: number; bytes: number }>,
  totalBytes: number,
  incoming: number,
  maxBytes: number,
): number[] {
  const drop: number[] = [];
  let total = totalBytes;
  for (const entry of spooled) {
    if (total + incoming <= maxBytes) break;
    drop.push(entry.seq);
    total -= entry.bytes;
  }
  return drop;
}

async function writeDurably(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class Spool {
  /** Spooled sequence numbers in order; entries removed from `sizes` are skipped lazily. */
  private readonly order: number[] = [];
  private readonly sizes = new Map<number, number>();
  private totalBytes = 0;
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private state: SpoolState,
  ) {}

  /** Opens (creating if needed) the spool in `dir` and indexes the batches left by a previous run. */
  static async open(dir: string, maxBytes: number): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    let state: SpoolState = { nextSeq: 0, lastT: 0, dropped: 0 };
    try {
      const saved = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as Partial<SpoolState>;
      state = {
        nextSeq: Number(saved.nextSeq) || 0,
        lastT: Number(saved.lastT) || 0,
        dropped: Number(saved.dropped) || 0,
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    const spool = new Spool(dir, maxBytes, state);
    const found: Array<{ seq: number; bytes: number }> = [];
    for (const name of await readdir(dir)) {
      if (name.endsWith('.tmp')) {
        // A write cut by a crash: never renamed into place, so never published.
        await unlink(join(dir, name)).catch(() => {});
        continue;
      }
      const m = BATCH_FILE.exec(name);
      if (!m) continue;
      found.push({ seq: Number(m[1]), bytes: (await stat(join(dir, name))).size });
    }
    found.sort((a, b) => a.seq - b.seq);
    for (const { seq, bytes } of found) spool.index(seq, bytes);
    const last = found.at(-1);
    // The state file is written after each batch file: a crash between the two leaves the file ahead.
    if (last && last.seq >= state.nextSeq) state.nextSeq = last.seq + 1;
    return spool;
  }

  get stats(): SpoolStats {
    return { bytes: this.totalBytes, batches: this.sizes.size, dropped: this.state.dropped };
  }

  get nextSeq(): number {
    return this.state.nextSeq;
  }

  /**
   * Writes one batch durably. `build` receives the batch's sequence number and time and returns
   * the payload. Resolves once the batch can be published.
   */
  append(now: number, build: (seq: number, t: number) => string): Promise<AppendResult> {
    return this.serialise(async () => {
      const seq = this.state.nextSeq;
      const t = nextBatchTime(now, this.state.lastT);
      const payload = Buffer.from(build(seq, t));
      const dropped = batchesToDrop(this.entries(), this.totalBytes, payload.length, this.maxBytes);
      // Collected before deleting: the generator walks the index that delete() changes.
      for (const old of dropped) await this.delete(old);
      await writeDurably(join(this.dir, batchFileName(seq)), payload);
      this.state = { nextSeq: seq + 1, lastT: t, dropped: this.state.dropped + dropped.length };
      await writeDurably(join(this.dir, STATE_FILE), JSON.stringify(this.state));
      await syncDir(this.dir);
      this.index(seq, payload.length);
      return { seq, t, bytes: payload.length, dropped };
    });
  }

  /** The oldest spooled sequence number after `seq` (or the oldest of all), if any. */
  firstAfter(seq = -1): number | undefined {
    this.compact();
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.order.length; i++) {
      const s = this.order[i]!;
      if (this.sizes.has(s)) return s;
    }
    return undefined;
  }

  has(seq: number): boolean {
    return this.sizes.has(seq);
  }

  /** The payload of a spooled batch, or null when it is gone (acknowledged or dropped meanwhile). */
  async read(seq: number): Promise<Buffer | null> {
    if (!this.sizes.has(seq)) return null;
    try {
      return await readFile(join(this.dir, batchFileName(seq)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Removes a batch once the broker acknowledged it. No-op when it is already gone. */
  remove(seq: number): Promise<void> {
    return this.serialise(() => this.delete(seq));
  }

  /** Resolves when every write queued so far is on disk. */
  flush(): Promise<void> {
    return this.serialise(async () => {});
  }

  private *entries(): Generator<{ seq: number; bytes: number }> {
    for (const seq of this.order) {
      const bytes = this.sizes.get(seq);
      if (bytes !== undefined) yield { seq, bytes };
    }
  }

  private index(seq: number, bytes: number): void {
    this.order.push(seq);
    this.sizes.set(seq, bytes);
    this.totalBytes += bytes;
  }

  private async delete(seq: number): Promise<void> {
    const bytes = this.sizes.get(seq);
    if (bytes === undefined) return;
    this.sizes.delete(seq);
    this.totalBytes -= bytes;
    await unlink(join(this.dir, batchFileName(seq))).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.compact();
  }

  /** Acks and drops remove from the front almost always: trim it so `order` stays as small as the spool. */
  private compact(): void {
    let n = 0;
    while (n < this.order.length && !this.sizes.has(this.order[n]!)) n++;
    if (n > 0) this.order.splice(0, n);
  }

  private serialise<T>(op: () => Promise<T>): Promise<T> {
    const run = this.writes.then(op, op);
    this.writes = run.catch(() => {});
    return run;
  }
}
