// One queue per channel, sent in order (a resolution never overtakes its alert), bounded.
import type { Logger } from '../../shared/log.ts';
import type { Channel, Delivery } from './channels/channel.ts';

export interface ChannelStats {
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
  lastError: string | null;
}

class ChannelQueue {
  private readonly queue: Delivery[] = [];
  private running: Promise<void> | null = null;
  readonly stats: ChannelStats = { sent: 0, failed: 0, dropped: 0, queued: 0, lastError: null };

  constructor(
    readonly channel: Channel,
    private readonly maxQueued: number,
    private readonly log: Logger,
  ) {}

  push(d: Delivery): void {
    if (this.queue.length >= this.maxQueued) {
      this.queue.shift();
      this.stats.dropped++;
      this.log.warn(
        { channel: this.channel.name, maxQueued: this.maxQueued },
        'alert queue full: dropped the oldest',
      );
    }
    this.queue.push(d);
    this.stats.queued = this.queue.length;
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const d = this.queue[0]!;
      try {
        await this.channel.send(d);
        this.stats.sent++;
        this.log.info({ channel: this.channel.name, alert: d.notification.alert.key }, 'alert sent');
      } catch (err) {
        this.stats.failed++;
        this.stats.lastError = (err as Error).message;
        this.log.error(
          { channel: this.channel.name, alert: d.notification.alert.key, err: (err as Error).message },
          'could not deliver an alert',
        );
      }
      this.queue.shift();
      this.stats.queued = this.queue.length;
    }
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

export class Dispatcher {
  private readonly queues: ChannelQueue[];

  constructor(channels: Channel[], maxQueued: number, log: Logger) {
    this.queues = channels.map((c) => new ChannelQueue(c, maxQueued, log));
  }

  send(d: Delivery): void {
    for (const q of this.queues) q.push(d);
  }

  async refresh(open: Delivery[], log: Logger): Promise<void> {
    for (const q of this.queues) {
      if (!q.channel.refresh) continue;
      await q.channel.refresh(open).catch((err: Error) => {
        q.stats.lastError = err.message;
        log.warn({ channel: q.channel.name, err: err.message }, 'could not refresh open alerts');
      });
    }
  }

  stats(): Record<string, ChannelStats> {
    return Object.fromEntries(this.queues.map((q) => [q.channel.name, { ...q.stats }]));
  }

  /** Wait for queued deliveries, at most `ms`. */
  async idle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.queues.map((q) => q.idle())),
      new Promise((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.channel.close?.()));
  }
}
