// report/slot-columns.ts: slots as columns (push, append by block copies, sort, within).
import { describe, expect, it } from 'vitest';
import { PingColumns, WifiColumns } from '../../report/slot-columns.ts';

const rows = (c: PingColumns | WifiColumns) => {
  const out: [number, number | null, number | null][] = [];
  c.forEach((t, a, b) => {
    out.push([t, a, b]);
  });
  return out;
};

describe('slot columns', () => {
  it('append copies every slot, unknowns included, growing past the capacity', () => {
    const into = new PingColumns(2);
    into.push(1, 10, null);
    const other = new PingColumns(1);
    for (let i = 0; i < 40; i++) other.push(100 + i, i % 3 ? i : null, i % 5 ? i / 10 : null);
    into.append(other);
    into.append(new PingColumns(0));
    expect(into.length).toBe(41);
    expect(rows(into)).toEqual([[1, 10, null], ...rows(other)]);
    // `other` is untouched and independent.
    other.push(999, 1, 1);
    expect(into.length).toBe(41);
  });

  it('sorts by time, and within() is a view of [start, end) of the same kind', () => {
    const c = new WifiColumns();
    for (const t of [30, 10, 20, 40]) c.push(t, t / 10, t / 20);
    c.sort();
    expect(rows(c).map((r) => r[0])).toEqual([10, 20, 30, 40]);
    const w = c.within(15, 40);
    expect(w).toBeInstanceOf(WifiColumns);
    expect(rows(w)).toEqual([
      [20, 2, 1],
      [30, 3, 1.5],
    ]);
  });
});
