// Live board updates over Server-Sent Events. Changes are coalesced: a school that changes ten times
// in a flush interval is sent once, in its latest form. A client too slow to keep up is dropped
// (it reconnects and gets a fresh snapshot) rather than buffered without bound.
import type { ServerResponse } from 'node:http';
import type { SchoolView } from './schemas.ts';

export interface StreamHubOptions {
  maxClients: number;
  flushMs: number;
  heartbeatMs: number;
  /** Bytes queued for one client before it is dropped. */
  maxBufferedBytes: number;
  view: (uai: string) => SchoolView | undefined;
  snapshot: () => unknown;
  now: () => number;
}

export class StreamHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  /** Clients dropped for being too slow. */
  dropped = 0;

  constructor(private readonly opts: StreamHubOptions) {
    this.heartbeat = setInterval(() => this.broadcast(': keepalive\n\n'), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.opts.maxClients;
  }

  add(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Reverse proxies (nginx) would otherwise hold events back.
      'x-accel-buffering': 'no',
    });
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    this.send(res, `retry: 3000\nevent: snapshot\ndata: ${JSON.stringify(this.opts.snapshot())}\n\n`);
  }

  changed(uai: string): void {
    if (!this.clients.size) return;
    this.dirty.add(uai);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), this.opts.flushMs);
      this.flushTimer.unref();
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private flush(): void {
    this.flushTimer = null;
    const schools = [...this.dirty].map((u) => this.opts.view(u)).filter((v) => v !== undefined);
    this.dirty.clear();
    if (schools.length)
      this.broadcast(`event: schools\ndata: ${JSON.stringify({ now: this.opts.now(), schools })}\n\n`);
  }

  private broadcast(text: string): void {
    for (const res of this.clients) this.send(res, text);
  }

  private send(res: ServerResponse, text: string): void {
    if (res.writableLength > this.opts.maxBufferedBytes) {
      this.dropped++;
      this.clients.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  }
}
