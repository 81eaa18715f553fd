import { afterEach, describe, expect, it } from 'vitest';
import type { EncodedBody, WriteOutcome } from '../../collector/influx-http.ts';
import { Shipper } from '../../collector/shipper.ts';
import { WriteAheadLog } from '../../collector/wal.ts';
import { createLogger } from '../../shared/log.ts';
import { tempDir } from '../harness/daemon.ts';

/** A sink whose writes finish when the test says so, in any order. */
class ScriptedSink {
  readonly writes: { lines: string; finish: (outcome?: WriteOutcome) => void }[] = [];
  encode(lines: Buffer): Promise<EncodedBody> {
    return Promise.resolve({ body: lines, gzip: false });
  }
  write(encoded: EncodedBody): Promise<WriteOutcome> {
    return new Promise((resolve) => {
      this.writes.push({
        lines: encoded.body.toString(),
        finish: (outcome = { ok: true }) => resolve(outcome),
      });
    });
  }
}

const settled = () => new Promise((resolve) => setImmediate(resolve));
const stoppers: (() => void)[] = [];
afterEach(() => {
  for (const stop of stoppers.splice(0)) stop();
});

function setUp(batches: number, concurrency: number) {
  const wal = new WriteAheadLog({ dir: tempDir('shipper'), segmentBytes: 1 << 20, fsyncMs: 1000 });
  const sink = new ScriptedSink();
  const shipper = new Shipper({
    wal,
    sink,
    options: {
      batchPoints: 2,
      batchBytes: 1 << 20,
      flushMs: 10_000,
      concurrency,
      retryMinMs: 10,
      retryMaxMs: 10,
      urgentBytes: 1 << 30,
    },
    log: createLogger('test', 'silent'),
    prepare: () => Promise.resolve(),
    onRejected: () => {},
    onConfirmed: () => {},
  });
  stoppers.push(() => {
    shipper.stop();
    wal.close();
  });
  for (let i = 0; i < batches; i++) {
    wal.append(Buffer.from(`m v=${2 * i} ${i}\nm v=${2 * i + 1} ${i}\n`));
    shipper.appended(2);
  }
  return { wal, sink, shipper };
}

describe('shipper', () => {
  it('starts the next batch as soon as any write ends, and confirms only in log order', async () => {
    const { wal, sink } = setUp(6, 2);
    await settled();
    expect(sink.writes.map((w) => w.lines.split('\n')[0])).toEqual(['m v=0 0', 'm v=2 1']);

    // The second write ends first: its slot goes to the third batch, the checkpoint stays behind the first.
    sink.writes[1]!.finish();
    await settled();
    expect(sink.writes).toHaveLength(3);
    expect(wal.confirmed).toBe(0);

    sink.writes[0]!.finish();
    await settled();
    expect(sink.writes).toHaveLength(4);
    expect(wal.confirmed).toBe(Buffer.byteLength(sink.writes[0]!.lines + sink.writes[1]!.lines));
  });

  it('stops reading ahead when too many written batches wait for an earlier one', async () => {
    const { wal, sink } = setUp(20, 2);
    await settled();
    const stuck = sink.writes[0]!;
    // The first write hangs; every other one ends at once. Unconfirmed batches are bounded by
    // 4 × concurrency: then nothing more is read until the first one ends.
    for (let i = 0; i < 20; i++) {
      const last = sink.writes[sink.writes.length - 1]!;
      if (last !== stuck) last.finish();
      await settled();
    }
    expect(sink.writes).toHaveLength(8);
    expect(wal.confirmed).toBe(0);

    stuck.finish();
    await settled();
    expect(wal.confirmed).toBe(
      sink.writes.reduce((n, w) => n + Buffer.byteLength(w.lines), 0) -
        Buffer.byteLength(sink.writes[8]!.lines) -
        Buffer.byteLength(sink.writes[9]!.lines),
    );
    expect(sink.writes).toHaveLength(10);
  });
});
