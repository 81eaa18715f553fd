// Where the collector's points go when no InfluxDB is configured: appended to one line-protocol file
// (millisecond timestamps, the raw retention policy's points), synced before the write-ahead log
// moves its checkpoint, so nothing is lost. `vigie replay FILE --influx URL` loads it later.
import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EncodedBody, InfluxHttp, WriteOutcome } from './influx-http.ts';

/** What the shipper needs of InfluxDB: the file offers the same two calls. */
export type PointWriter = Pick<InfluxHttp, 'encode' | 'write' | 'close'>;

export class PointsFile implements PointWriter {
  private handle: Promise<FileHandle> | null = null;
  /** Bytes appended by this process. */
  bytesWritten = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** The file holds plain text: no gzip, whatever the influx section says. */
  encode(lines: Buffer): Promise<EncodedBody> {
    return Promise.resolve({ body: lines, gzip: false });
  }

  /** Appends and syncs; a failure (disk full) is 'failed', so the shipper retries and the log keeps the points. */
  async write(encoded: EncodedBody): Promise<WriteOutcome> {
    try {
      this.handle ??= open(this.path, 'a');
      const fh = await this.handle;
      await fh.appendFile(encoded.body);
      await fh.datasync();
      this.bytesWritten += encoded.body.length;
      return { ok: true };
    } catch (err) {
      void this.close();
      return { ok: false, kind: 'failed', status: 0, message: `${this.path}: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h) await h.then((fh) => fh.close()).catch(() => {});
  }
}
