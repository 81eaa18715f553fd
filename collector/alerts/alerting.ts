// Runs the alert policy with a clock and channels: events in, notifications rendered and delivered.
import type { Logger } from '../../shared/log.ts';
import type { PointSink } from '../point.ts';
import { alertmanagerChannel } from './channels/alertmanager.ts';
import type { Channel, Delivery } from './channels/channel.ts';
import { emailChannel } from './channels/email.ts';
import { webhookChannel } from './channels/webhook.ts';
import type { AlertsConfig } from './config.ts';
import { Dispatcher } from './dispatch.ts';
import { type MessageOptions, render } from './messages.ts';
import {
  AlertPolicy,
  type Notification,
  type PagedAlert,
  type PolicyContext,
  type PolicyEvent,
  type SchoolInfo,
} from './policy.ts';
import { alertPoint } from './records.ts';
import { policyContext } from './schedule.ts';

export function channelsFrom(cfg: AlertsConfig['channels']): Channel[] {
  return [
    ...cfg.webhooks.map((w) => webhookChannel(w)),
    ...(cfg.email ? [emailChannel(cfg.email)] : []),
    ...(cfg.alertmanager ? [alertmanagerChannel(cfg.alertmanager)] : []),
  ];
}

export class Alerting {
  readonly policy: AlertPolicy;
  readonly dispatcher: Dispatcher;
  private readonly messages: MessageOptions;
  private lastRefresh = 0;
  private records: PointSink | null = null;

  constructor(
    private readonly cfg: AlertsConfig,
    private readonly school: (uai: string) => SchoolInfo | undefined,
    channels: Channel[],
    private readonly log: Logger,
    extraMuted?: PolicyContext['muted'],
  ) {
    this.policy = new AlertPolicy(
      {
        graceMs: cfg.graceSeconds * 1000,
        rounds: cfg.rounds,
        reminderMs: cfg.reminderMinutes * 60_000,
        mass: { windowMs: cfg.mass.windowSeconds * 1000, minSchools: cfg.mass.minSchools },
        brokerSettleMs: 5000,
        maxTrackedSeries: 200_000,
      },
      policyContext(cfg, school, extraMuted),
    );
    this.dispatcher = new Dispatcher(channels, cfg.maxQueued, log);
    this.messages = {
      language: cfg.language,
      timezone: cfg.timezone,
      schoolUrl: cfg.dashboard.schoolUrl,
      fleetUrl: cfg.dashboard.fleetUrl,
    };
  }

  private delivery(n: Notification): Delivery {
    return {
      notification: n,
      rendered: render(n, this.school, this.messages),
      school: n.alert.uai ? this.school(n.alert.uai) : undefined,
    };
  }

  /**
   * Write every notification as an `alert` point from now on: what was paged is known after a restart.
   * Written when the policy decides (as its own state changes), not when a channel confirms: a restart
   * then resumes exactly where the policy was.
   */
  recordTo(points: PointSink): void {
    this.records = points;
  }

  private deliver(list: Notification[]): void {
    if (list.length) this.records?.write(list.map(alertPoint));
    for (const n of list) {
      const d = this.delivery(n);
      this.log.info({ alert: n.alert.key, type: n.type, title: d.rendered.title }, 'alert');
      this.dispatcher.send(d);
    }
  }

  handle(ev: PolicyEvent, now: number): void {
    this.deliver(this.policy.handle(ev, now));
  }

  /** Alerts a previous run sent and never resolved (see AlertPolicy.restore). */
  restore(paged: readonly PagedAlert[], now: number): void {
    this.deliver(this.policy.restore(paged, now));
  }

  broker(up: boolean, now: number): void {
    this.deliver(this.policy.broker(up, now));
  }

  tick(now: number): void {
    const { notifications, muted } = this.policy.tick(now);
    for (const m of muted)
      this.log.info({ alert: m.alert.key, reason: m.reason }, 'alert held back (recorded, nobody paged)');
    this.deliver(notifications);
    const resendMs = (this.cfg.channels.alertmanager?.resendSeconds ?? 0) * 1000;
    if (resendMs && now - this.lastRefresh >= resendMs) {
      this.lastRefresh = now;
      const open = this.policy
        .open()
        .filter((a) => a.notifiedAt !== null && !a.groupKey)
        .map((a) => this.delivery({ type: 'firing', alert: a, at: now }));
      void this.dispatcher.refresh(open, this.log);
    }
  }

  async stop(): Promise<void> {
    await this.dispatcher.idle(5000);
    await this.dispatcher.close();
  }
}
