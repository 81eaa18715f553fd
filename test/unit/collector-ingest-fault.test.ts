import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isLocalIoError } from '../../collector/ingest/router.ts';

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
};

describe('isLocalIoError: whose fault a throw on the ingest path is', () => {
  it('blames the machine for a failed system call: the message is kept (no ack) and comes back', () => {
    const fd = openSync('/dev/null', 'w');
    closeSync(fd);
    expect(isLocalIoError(thrown(() => writeSync(fd, Buffer.from('x'))))).toBe(true); // EBADF
    expect(isLocalIoError(thrown(() => readFileSync('/nonexistent/vigie-wal')))).toBe(true); // ENOENT
    const full = openSync('/dev/full', 'w');
    expect(isLocalIoError(thrown(() => writeSync(full, Buffer.from('x'))))).toBe(true); // ENOSPC
    closeSync(full);
  });

  it('blames the message for anything else: refused (internal_error) and acked, so it cannot loop', () => {
    const deep = (n: number): unknown => (n === 0 ? 0 : [deep(n - 1)]);
    const overflow = thrown(() => {
      const walk = (v: unknown): number => (Array.isArray(v) ? 1 + walk(v[0]) : 0);
      let v: unknown = 0;
      for (let i = 0; i < 100_000; i++) v = [v];
      return walk(v);
    });
    expect(overflow).toBeInstanceOf(RangeError);
    expect(isLocalIoError(overflow)).toBe(false);
    expect(isLocalIoError(thrown(() => Buffer.alloc(-1)))).toBe(false); // a Node error with a code, no syscall
    expect(isLocalIoError(thrown(() => (deep(2) as { x: { y: number } }).x.y))).toBe(false); // TypeError
    expect(isLocalIoError('a string thrown')).toBe(false);
  });
});
