// Connect pacing: thousands of agents starting at once would flood the broker's accept queue
// (SYN drops, CONNECT timeouts). The gate lets through `perSecond` new connections a second and
// keeps at most `maxPending` waiting for their CONNACK.
export class ConnectGate {
  // A queue read from `head`: Array.shift is O(n), and 10,000 agents wait here at start.
  private waiting: (() => void)[] = [];
  private head = 0;
  private pending = 0;
  private tokens: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly perSecond: number,
    private readonly maxPending: number,
  ) {
    this.tokens = Math.max(1, Math.round(perSecond / 10));
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }

  get inProgress(): number {
    return this.pending;
  }

  /** Calls `go` when this connection may start; the caller must call `done()` once it is answered. */
  acquire(go: () => void): void {
    this.waiting.push(go);
    this.pump();
  }

  done(): void {
    if (this.pending > 0) this.pending--;
    this.pump();
  }

  close(): void {
    this.waiting = [];
    this.head = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private pump(): void {
    while (this.queued && this.tokens >= 1 && this.pending < this.maxPending) {
      this.tokens--;
      this.pending++;
      const go = this.waiting[this.head]!;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      go();
    }
    if (this.queued && !this.timer) {
      // Refill every 100 ms; stop ticking once nobody waits, so an idle gate keeps no timer alive.
      this.timer = setInterval(() => {
        this.tokens = Math.min(Math.max(1, this.perSecond / 10), this.tokens + this.perSecond / 10);
        this.pump();
        if (!this.queued && this.timer) {
          clearInterval(this.timer);
          this.timer = null;
        }
      }, 100);
    }
  }
}
