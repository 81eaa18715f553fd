// Five-minute slots with two numbers each, as columns sorted by time: a year of a school's open-time
// slots (~16,000) without an object each (allocating them was most of a 1,000-school report's time).
// Unknown values are NaN inside, null outside.

/** Slots as columns: `t` (ms), and two values `a`, `b` whose meaning the subclass names. */
export class SlotColumns {
  t: Float64Array;
  a: Float64Array;
  b: Float64Array;
  length = 0;
  constructor(capacity = 256) {
    this.t = new Float64Array(capacity);
    this.a = new Float64Array(capacity);
    this.b = new Float64Array(capacity);
  }
  /** Appends one slot (t in ms; null = unknown). */
  push(t: number, a: number | null, b: number | null): void {
    if (this.length === this.t.length) {
      const grow = (x: Float64Array) => {
        const y = new Float64Array(Math.max(16, x.length * 2));
        y.set(x);
        return y;
      };
      this.t = grow(this.t);
      this.a = grow(this.a);
      this.b = grow(this.b);
    }
    this.t[this.length] = t;
    this.a[this.length] = a ?? Number.NaN;
    this.b[this.length] = b ?? Number.NaN;
    this.length++;
  }
  /** Appends every slot of `other` (values as they are, NaN unknowns kept), as three block copies. */
  append(other: SlotColumns): void {
    const n = other.length;
    if (!n) return;
    if (this.length + n > this.t.length) {
      const grow = (x: Float64Array) => {
        const y = new Float64Array(Math.max(16, 2 * x.length, this.length + n));
        y.set(x.subarray(0, this.length));
        return y;
      };
      this.t = grow(this.t);
      this.a = grow(this.a);
      this.b = grow(this.b);
    }
    this.t.set(other.t.subarray(0, n), this.length);
    this.a.set(other.a.subarray(0, n), this.length);
    this.b.set(other.b.subarray(0, n), this.length);
    this.length += n;
  }
  forEach(f: (t: number, a: number | null, b: number | null) => void): void {
    for (let i = 0; i < this.length; i++) {
      const a = this.a[i]!;
      const b = this.b[i]!;
      f(this.t[i]!, Number.isNaN(a) ? null : a, Number.isNaN(b) ? null : b);
    }
  }
  /** Sorts by time in place (slots appended out of order, e.g. slot-level days after rollup days). */
  sort(): void {
    let sorted = true;
    for (let i = 1; i < this.length && sorted; i++) sorted = this.t[i - 1]! <= this.t[i]!;
    if (sorted) return;
    const order = Array.from({ length: this.length }, (_, i) => i).sort((x, y) => this.t[x]! - this.t[y]!);
    const pick = (x: Float64Array) => Float64Array.from(order, (i) => x[i]!);
    [this.t, this.a, this.b] = [pick(this.t), pick(this.a), pick(this.b)];
  }
  /** The slots with t in [startMs, endMs), sharing this one's memory (binary search; sorted first). */
  within(startMs: number, endMs: number): this {
    const first = (bound: number) => {
      let lo = 0;
      let hi = this.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.t[mid]! < bound) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const from = first(startMs);
    const to = Math.max(from, first(endMs));
    const out = new (this.constructor as new (capacity: number) => this)(0);
    out.t = this.t.subarray(from, to);
    out.a = this.a.subarray(from, to);
    out.b = this.b.subarray(from, to);
    out.length = to - from;
    return out;
  }
}

/** Anchor-ping slots: a = mean of the targets' median RTT (ms), b = mean loss (%). */
export class PingColumns extends SlotColumns {}

/** Wi-Fi slots: a = access-point polls, b = polls that found the AP up (counts, never unknown). */
export class WifiColumns extends SlotColumns {}
