import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchesToDrop, batchFileName, nextBatchTime, Spool } from '../../agent/spool.ts';

const dirs: string[] = [];
function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-agent-spool-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const payload = (seq: number, t: number, pad = 0) => JSON.stringify({ seq, t, pad: 'x'.repeat(pad) });

async function drain(spool: Spool): Promise<Array<{ seq: number; t: number }>> {
  const out: Array<{ seq: number; t: number }> = [];
  for (let seq = spool.firstAfter(); seq !== undefined; seq = spool.firstAfter(seq)) {
    out.push(JSON.parse((await spool.read(seq))!.toString()));
  }
  return out;
}

describe('batch time', () => {
  it('follows the clock and stays strictly increasing when the clock stalls or steps back', () => {
    expect(nextBatchTime(1000, 0)).toBe(1000);
    expect(nextBatchTime(1000, 1000)).toBe(1001);
    expect(nextBatchTime(900, 1000)).toBe(1001);
    expect(nextBatchTime(1500.7, 1000)).toBe(1500);
  });
});

describe('batchesToDrop', () => {
  const spooled = [
    { seq: 1, bytes: 100 },
    { seq: 2, bytes: 100 },
    { seq: 3, bytes: 100 },
  ];
  it('drops nothing while the new batch fits', () => {
    expect(batchesToDrop(spooled, 300, 100, 400)).toEqual([]);
  });
  it('drops the oldest first, only as many as needed', () => {
    expect(batchesToDrop(spooled, 300, 150, 400)).toEqual([1]);
    expect(batchesToDrop(spooled, 300, 250, 400)).toEqual([1, 2]);
  });
  it('may empty the spool for a batch larger than the bound', () => {
    expect(batchesToDrop(spooled, 300, 500, 400)).toEqual([1, 2, 3]);
  });
});

describe('Spool', () => {
  it('numbers batches in order, with strictly increasing times, and replays them after a reopen', async () => {
    const dir = spoolDir();
    const spool = await Spool.open(dir, 1 << 20);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await spool.append(5000, payload));
    expect(results.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => r.t)).toEqual([5000, 5001, 5002, 5003, 5004]);
    expect(spool.stats.batches).toBe(5);

    const again = await Spool.open(dir, 1 << 20);
    expect(await drain(again)).toEqual(results.map(({ seq, t }) => ({ seq, t, pad: '' })));
    const next = await again.append(1000, payload);
    expect(next).toMatchObject({ seq: 5, t: 5005 });
  });

  it('never reuses a sequence number, even once every batch was acknowledged', async () => {
    const dir = spoolDir();
    const spool = await Spool.open(dir, 1 << 20);
    for (let i = 0; i < 3; i++) await spool.append(Date.now(), payload);
    for (let seq = spool.firstAfter(); seq !== undefined; seq = spool.firstAfter(seq))
      await spool.remove(seq);
    expect(spool.stats).toEqual({ bytes: 0, batches: 0, dropped: 0 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'state.json')).toEqual([]);
    const reopened = await Spool.open(dir, 1 << 20);
    expect((await reopened.append(Date.now(), payload)).seq).toBe(3);
  });

  it('trusts a batch file over a state file left behind by a crash between the two writes', async () => {
    const dir = spoolDir();
    const spool = await Spool.open(dir, 1 << 20);
    for (let i = 0; i < 4; i++) await spool.append(10_000, payload);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ nextSeq: 2, lastT: 10_001, dropped: 0 }));
    writeFileSync(join(dir, `${batchFileName(4)}.tmp`), '{"half');
    const reopened = await Spool.open(dir, 1 << 20);
    expect(reopened.nextSeq).toBe(4);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect((await reopened.append(10_000, payload)).seq).toBe(4);
  });

  it('past its bound drops the oldest batches first, counts them and keeps the count across restarts', async () => {
    const dir = spoolDir();
    const maxBytes = 65536;
    const spool = await Spool.open(dir, maxBytes);
    const dropped: number[] = [];
    // ~1 KiB batches: 100 of them are well past 64 KiB.
    for (let i = 0; i < 100; i++)
      dropped.push(...(await spool.append(Date.now(), (s, t) => payload(s, t, 1000))).dropped);
    expect(spool.stats.bytes).toBeLessThanOrEqual(maxBytes);
    expect(dropped.length).toBeGreaterThan(30);
    expect(dropped).toEqual([...Array(dropped.length).keys()]);
    expect(spool.stats.dropped).toBe(dropped.length);
    const kept = await drain(spool);
    expect(kept[0]!.seq).toBe(dropped.length);
    expect(kept.at(-1)!.seq).toBe(99);
    expect(kept.length + dropped.length).toBe(100);

    const reopened = await Spool.open(dir, maxBytes);
    expect(reopened.stats).toEqual(spool.stats);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).dropped).toBe(dropped.length);
  });

  it('read of a batch dropped or acknowledged meanwhile returns null', async () => {
    const spool = await Spool.open(spoolDir(), 1 << 20);
    const { seq } = await spool.append(Date.now(), payload);
    await spool.remove(seq);
    expect(await spool.read(seq)).toBeNull();
    expect(spool.has(seq)).toBe(false);
    await spool.remove(seq);
    expect(spool.stats.batches).toBe(0);
  });

  it('finds the next batch after a hole left by an out-of-order acknowledgement', async () => {
    const spool = await Spool.open(spoolDir(), 1 << 20);
    for (let i = 0; i < 4; i++) await spool.append(Date.now(), payload);
    await spool.remove(1);
    expect(spool.firstAfter()).toBe(0);
    expect(spool.firstAfter(0)).toBe(2);
    await spool.remove(0);
    expect(spool.firstAfter()).toBe(2);
    expect(spool.firstAfter(3)).toBeUndefined();
  });
});
