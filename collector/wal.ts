// The collector's write-ahead log: accepted messages, as line protocol, appended synchronously before
// the MQTT ack (a kill -9 loses nothing the broker was told is safe), fsynced in groups, read back by
// the InfluxDB shipper and trimmed past the checkpoint of what InfluxDB accepted.
// Layout: segment files named by the global byte offset they start at, and a `checkpoint` file.
import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface WalOptions {
  dir: string;
  segmentBytes: number;
  fsyncMs: number;
}

interface Segment {
  start: number;
  size: number;
}

const SEGMENT_RE = /^(\d{20})\.wal$/;
const NEWLINE = 0x0a;
const segmentName = (start: number) => `${String(start).padStart(20, '0')}.wal`;

export class WriteAheadLog {
  private readonly segments: Segment[] = [];
  private fd: number;
  private checkpoint: number;
  private dirty = false;
  private syncing = false;
  private readonly timer: NodeJS.Timeout;
  private readFd: { start: number; fd: number } | null = null;
  /** Bytes cut from a torn last record at open (a crash in the middle of a write). */
  readonly tornBytes: number;

  constructor(private readonly opts: WalOptions) {
    mkdirSync(opts.dir, { recursive: true });
    for (const name of readdirSync(opts.dir)) {
      const m = SEGMENT_RE.exec(name);
      if (m) this.segments.push({ start: Number(m[1]), size: statSync(join(opts.dir, name)).size });
    }
    this.segments.sort((a, b) => a.start - b.start);
    this.checkpoint = this.readCheckpoint();
    if (this.segments.length === 0) this.segments.push({ start: this.checkpoint, size: 0 });
    const last = this.segments[this.segments.length - 1]!;
    this.fd = openSync(this.segmentPath(last.start), 'a+');
    this.tornBytes = this.cutTornTail(last);
    const first = this.segments[0]!;
    // A checkpoint outside the log (segments lost or trimmed by hand): trust the log.
    if (this.checkpoint < first.start || this.checkpoint > this.end) this.checkpoint = first.start;
    this.timer = setInterval(() => this.syncSoon(), opts.fsyncMs);
    this.timer.unref();
  }

  /** Global offset just past the last appended byte. */
  get end(): number {
    const last = this.segments[this.segments.length - 1]!;
    return last.start + last.size;
  }

  get confirmed(): number {
    return this.checkpoint;
  }

  /** Appended but not yet accepted by InfluxDB. */
  get unconfirmedBytes(): number {
    return this.end - this.checkpoint;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Synchronous: once it returns, the record survives the death of this process. */
  append(record: Buffer): number {
    let last = this.segments[this.segments.length - 1]!;
    if (last.size >= this.opts.segmentBytes) last = this.roll();
    let written = 0;
    try {
      while (written < record.length) written += writeSync(this.fd, record, written);
    } catch (err) {
      // A full disk may take part of a record: cut it, so the log holds whole records at the offsets
      // it counts and the redelivered message starts a line of its own.
      if (written > 0) ftruncateSync(this.fd, last.size);
      throw err;
    }
    last.size += record.length;
    this.dirty = true;
    return this.end;
  }

  /**
   * Complete lines from `from`, at most `maxBytes` (more only when a single line is longer) and at most
   * `maxLines`. Returns where the next read starts; an empty buffer when nothing is there yet.
   */
  read(from: number, maxBytes: number, maxLines: number): { data: Buffer; next: number } {
    const seg = this.segments.find((s) => from < s.start + s.size);
    if (!seg) return { data: Buffer.alloc(0), next: from };
    const start = Math.max(from, seg.start);
    const available = seg.start + seg.size - start;
    let want = Math.min(available, maxBytes);
    const fd = this.readerFor(seg.start);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const got = readSync(fd, buf, 0, want, start - seg.start);
      const chunk = buf.subarray(0, got);
      let cut = -1;
      let lines = 0;
      for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
        cut = i;
        if (++lines >= maxLines) break;
      }
      if (cut !== -1) return { data: chunk.subarray(0, cut + 1), next: start + cut + 1 };
      if (want >= available) return { data: Buffer.alloc(0), next: from };
      want = Math.min(available, want * 2);
    }
  }

  /** InfluxDB accepted everything before `offset`: move the checkpoint and drop whole segments behind it. */
  confirm(offset: number): void {
    if (offset <= this.checkpoint) return;
    this.checkpoint = offset;
    const tmp = join(this.opts.dir, 'checkpoint.tmp');
    writeFileSync(tmp, String(offset));
    renameSync(tmp, join(this.opts.dir, 'checkpoint'));
    while (this.segments.length > 1 && this.segments[0]!.start + this.segments[0]!.size <= offset) {
      const gone = this.segments.shift()!;
      if (this.readFd?.start === gone.start) {
        closeSync(this.readFd.fd);
        this.readFd = null;
      }
      unlinkSync(this.segmentPath(gone.start));
    }
  }

  /** fsync now (on stop). */
  sync(): void {
    if (this.dirty) {
      this.dirty = false;
      fsyncSync(this.fd);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.sync();
    closeSync(this.fd);
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = null;
  }

  private syncSoon(): void {
    if (!this.dirty || this.syncing) return;
    this.dirty = false;
    this.syncing = true;
    const fd = this.fd;
    fdatasync(fd, () => {
      this.syncing = false;
    });
  }

  private roll(): Segment {
    fsyncSync(this.fd);
    closeSync(this.fd);
    const seg = { start: this.end, size: 0 };
    this.segments.push(seg);
    this.fd = openSync(this.segmentPath(seg.start), 'a+');
    return seg;
  }

  private readerFor(start: number): number {
    if (this.readFd?.start !== start) {
      if (this.readFd) closeSync(this.readFd.fd);
      this.readFd = { start, fd: openSync(this.segmentPath(start), 'r') };
    }
    return this.readFd.fd;
  }

  private readCheckpoint(): number {
    try {
      const value = Number(readFileSync(join(this.opts.dir, 'checkpoint'), 'utf8').trim());
      return Number.isSafeInteger(value) && value >= 0 ? value : 0;
    } catch {
      return 0;
    }
  }

  /** A record is complete when its last line ends in a newline; anything after the last one is torn. */
  private cutTornTail(seg: Segment): number {
    if (seg.size === 0) return 0;
    const data = readFileSync(this.segmentPath(seg.start));
    const keep = data.lastIndexOf(NEWLINE) + 1;
    if (keep === data.length) return 0;
    ftruncateSync(this.fd, keep);
    seg.size = keep;
    return data.length - keep;
  }

  private segmentPath(start: number): string {
    return join(this.opts.dir, segmentName(start));
  }
}
