// Open alerts come from the alert policy; it forgets an alert once resolved, so the API keeps the
// last ones here (bounded), found by comparing the open set on a short timer.
import type { Alert } from '../alerts/policy.ts';
import type { AlertsSource, AlertView } from './deps.ts';

export function alertView(
  a: Alert,
  commune: (uai: string) => string | undefined,
  describe?: (a: Alert) => string,
): AlertView {
  const where = a.group ? `${a.group.by} ${a.group.value} (${a.members?.length ?? 0})` : (a.uai ?? '');
  const what = [a.kind.replaceAll('_', ' '), where, a.subject].filter(Boolean).join(' · ');
  const c = a.uai ? commune(a.uai) : a.group?.by === 'commune' ? a.group.value : undefined;
  return {
    id: a.key,
    kind: a.kind,
    severity: a.severity,
    ...(a.uai ? { uai: a.uai } : {}),
    ...(c ? { commune: c } : {}),
    // The alerts' own words and language when the alerting gives them (collector/alerts/messages.ts).
    summary: describe ? describe(a) : a.reason ? `${what}: ${a.reason}` : what,
    startedAt: a.since,
    ...(a.heldBy ? { suppressed: true } : {}),
  };
}

export class AlertHistory implements AlertsSource {
  private current = new Map<string, AlertView>();
  private readonly resolved: AlertView[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly policy: { open(): Alert[]; describe?(a: Alert): string },
    private readonly commune: (uai: string) => string | undefined,
    private readonly now: () => number,
    private readonly max = 1000,
    everyMs = 1000,
  ) {
    this.timer = setInterval(() => this.sync(), everyMs);
    this.timer.unref();
  }

  open(): AlertView[] {
    this.sync();
    return [...this.current.values()].sort((a, b) => b.startedAt - a.startedAt);
  }

  past(limit: number): AlertView[] {
    this.sync();
    return this.resolved.slice(0, limit);
  }

  close(): void {
    clearInterval(this.timer);
  }

  sync(): void {
    const next = new Map(
      this.policy
        .open()
        .map((a) => [a.key, alertView(a, this.commune, this.policy.describe?.bind(this.policy))]),
    );
    const at = this.now();
    for (const [key, view] of this.current) {
      if (next.has(key)) continue;
      this.resolved.unshift({ ...view, resolvedAt: at });
    }
    if (this.resolved.length > this.max) this.resolved.length = this.max;
    this.current = next;
  }
}
