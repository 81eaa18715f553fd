// Runs the alert policy with a clock and channels: events in, notifications rendered and delivered.
import type { Logger } from '../../shared/log.ts';
import type { PointSink } from '../point.ts';
import { alertmanagerChannel } from './channels/alertmanager.ts';
import type { Channel, Delivery } from './channels/channel.ts';
import { emailChannel } from './channels/email.ts';
import { webhookChannel } from './channels/webhook.ts';
import type { AlertsConfig } from './config.ts';
import { Dispatcher } from './dispatch.ts';
import { type AnchorFigures, describe, type MessageOptions, render } from './messages.ts';
import {
  type Alert,
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

/** Schools whose latest anchor round is kept for the texts, at most. */
const MAX_FIGURES = 200_000;

export class Alerting {
  readonly policy: AlertPolicy;
  readonly dispatcher: Dispatcher;
  private readonly messages: MessageOptions;
  private lastRefresh = 0;
  /** Each school's latest live anchor round (loss and latency per anchor): a degraded alert quotes it. */
  private readonly figures = new Map<string, AnchorFigures & { at: number }>();
  /** The round a degraded alert quoted when sent: its resolution gives the same cause. */
  private readonly quoted = new Map<string, AnchorFigures>();
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
      massWindowMs: cfg.mass.windowSeconds * 1000,
    };
  }

  open(): Alert[] {
    return this.policy.open();
  }

  /** One line in the configured language, for the API's alert list. */
  describe(a: Alert): string {
    const figures = this.quoted.get(a.key) ?? (a.uai ? this.figures.get(a.uai) : undefined);
    return describe(a, this.school, this.messages, figures);
  }

  private delivery(n: Notification): Delivery {
    const a = n.alert;
    const figures = a.uai ? this.figures.get(a.uai) : undefined;
    const atStart = this.quoted.get(a.key);
    if (a.kind === 'school_degraded') {
      if (n.type === 'resolved') this.quoted.delete(a.key);
      // Alertmanager's periodic re-posts are 'firing' too: the first quote stays.
      else if (n.type === 'firing' && figures && !this.quoted.has(a.key)) this.quoted.set(a.key, figures);
    }
    return {
      notification: n,
      rendered: render(n, this.school, this.messages, figures, atStart),
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

  private record(ev: Extract<PolicyEvent, { kind: 'round' }>, at: number): void {
    if ((ev.metric !== 'loss' && ev.metric !== 'latency') || ev.value === undefined) return;
    let f = this.figures.get(ev.uai);
    // The rounds of one batch share its arrival time: a later one starts a fresh set.
    if (!f || f.at !== at) {
      f = { at, lossPct: {}, latencyMs: {} };
      this.figures.delete(ev.uai);
      this.figures.set(ev.uai, f);
      if (this.figures.size > MAX_FIGURES) this.figures.delete(this.figures.keys().next().value!);
    }
    (ev.metric === 'loss' ? f.lossPct : f.latencyMs)[ev.subject] = ev.value;
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
    if (ev.kind === 'round') this.record(ev, now);
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
