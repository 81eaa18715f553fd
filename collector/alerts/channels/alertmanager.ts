// Prometheus Alertmanager channel: POST /api/v2/alerts to every instance of the cluster; Alertmanager
// dedupes (several collectors may send the same alert), groups and routes. Firing alerts are re-posted
// periodically, since Alertmanager resolves an alert it has not heard of for resolve_timeout.
import { request } from 'undici';
import type { AlertmanagerConfig } from '../config.ts';
import { type Channel, type Delivery, httpProblem, withRetries } from './channel.ts';

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL: string;
}

export function amAlert(d: Delivery): AmAlert {
  const { notification: n, rendered: r, school } = d;
  const a = n.alert;
  const labels: Record<string, string> = {
    alertname: `vigie_${a.kind}`,
    severity: a.severity,
    source: 'vigie',
  };
  if (a.uai) labels['uai'] = a.uai;
  if (school) {
    labels['commune'] = school.commune;
    labels['isp'] = school.isp;
  }
  if (a.subject) labels['subject'] = a.subject;
  if (a.group) {
    labels[a.group.by] = a.group.value;
    labels['group_by'] = a.group.by;
  }
  const annotations: Record<string, string> = { summary: r.title, description: r.text, dashboard: r.link };
  if (school) annotations['school'] = school.name;
  if (a.members) annotations['schools'] = a.members.join(',');
  return {
    labels,
    annotations,
    startsAt: new Date(a.since).toISOString(),
    ...(r.status === 'resolved' ? { endsAt: new Date(n.at).toISOString() } : {}),
    generatorURL: r.link,
  };
}

export function alertmanagerChannel(cfg: AlertmanagerConfig, retryBaseMs = 500): Channel {
  const post = async (alerts: AmAlert[]) => {
    if (!alerts.length) return;
    const body = JSON.stringify(alerts);
    // Every instance gets every alert; one instance down must not stop the others.
    const results = await Promise.allSettled(
      cfg.urls.map((base) =>
        withRetries(
          async () => {
            const url = `${base.replace(/\/$/, '')}/api/v2/alerts`;
            const res = await request(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            const text = await res.body.text();
            if (res.statusCode >= 300) throw httpProblem(res.statusCode, text, url);
          },
          cfg.retries,
          retryBaseMs,
        ),
      ),
    );
    if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;
  };
  return {
    name: 'alertmanager',
    send: (d) => post([amAlert(d)]),
    refresh: (open) => post(open.map(amAlert)),
  };
}
