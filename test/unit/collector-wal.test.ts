import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WriteAheadLog } from '../../collector/wal.ts';
import { tempDir } from '../harness/daemon.ts';

const open: WriteAheadLog[] = [];
const wal = (dir: string, segmentBytes = 1 << 20) => {
  const w = new WriteAheadLog({ dir, segmentBytes, fsyncMs: 10 });
  open.push(w);
  return w;
};
afterEach(() => {
  for (const w of open.splice(0)) {
    try {
      w.close();
    } catch {}
  }
});

describe('write-ahead log', () => {
  it('reads back complete lines in order, by bytes and by line count', () => {
    const w = wal(tempDir('wal'));
    w.append(Buffer.from('a 1\nb 2\n'));
    w.append(Buffer.from('c 3\n'));
    expect(w.read(0, 1000, 2)).toEqual({ data: Buffer.from('a 1\nb 2\n'), next: 8 });
    expect(w.read(8, 1000, 10).data.toString()).toBe('c 3\n');
    expect(w.read(0, 5, 10).data.toString()).toBe('a 1\n');
    expect(w.read(12, 1000, 10).data.length).toBe(0);
  });

  it('reads one line longer than the byte budget whole', () => {
    const w = wal(tempDir('wal'));
    const long = `${'x'.repeat(5000)}\n`;
    w.append(Buffer.from(long));
    expect(w.read(0, 100, 10).data.toString()).toBe(long);
  });

  it('keeps the unconfirmed tail across a reopen and drops confirmed segments', () => {
    const dir = tempDir('wal');
    const w = wal(dir, 16);
    for (let i = 0; i < 10; i++) w.append(Buffer.from(`line-${i} 1\n`));
    expect(w.segmentCount).toBeGreaterThan(3);
    // A read stops at a segment's end: three reads here take three 2-line segments.
    let cut = 0;
    for (let i = 0; i < 3; i++) cut = w.read(cut, 1000, 10).next;
    w.confirm(cut);
    w.close();
    const again = wal(dir, 16);
    expect(again.confirmed).toBe(cut);
    expect(again.unconfirmedBytes).toBe(again.end - cut);
    expect(again.read(cut, 1000, 1).data.toString()).toBe('line-6 1\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.wal')).length).toBe(again.segmentCount);
  });

  it('cuts a torn record left by a crash, so the next append starts on a clean line', () => {
    const dir = tempDir('wal');
    const w = wal(dir);
    w.append(Buffer.from('ok 1\n'));
    w.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.wal'));
    appendFileSync(join(dir, segment!), 'torn 2');
    const again = wal(dir);
    expect(again.tornBytes).toBe(6);
    again.append(Buffer.from('next 3\n'));
    expect(again.read(0, 1000, 10).data.toString()).toBe('ok 1\nnext 3\n');
  });
});
