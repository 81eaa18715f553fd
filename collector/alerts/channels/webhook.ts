// Webhook channel: generic JSON, Slack/Mattermost incoming webhooks, Microsoft Teams (Adaptive Card),
// signed with HMAC-SHA256 when a secret is set.
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { WebhookConfig } from '../config.ts';
import { type Channel, type Delivery, httpProblem, withRetries } from './channel.ts';

export const SIGNATURE_HEADER = 'x-vigie-signature';
export const TIMESTAMP_HEADER = 'x-vigie-timestamp';

const COLORS = { firing: { critical: '#d62728', warning: '#ff7f0e' }, resolved: '#2ca02c' } as const;

export function genericPayload(d: Delivery): Record<string, unknown> {
  const { notification: n, rendered: r, school } = d;
  const a = n.alert;
  return {
    version: 1,
    type: n.type,
    status: r.status,
    kind: a.kind,
    severity: a.severity,
    key: a.key,
    title: r.title,
    text: r.text,
    link: r.link,
    uai: a.uai ?? null,
    school: school ? { name: school.name, commune: school.commune, isp: school.isp } : null,
    subject: a.subject ?? null,
    group: a.group ?? null,
    members: a.members ?? null,
    since: new Date(a.since).toISOString(),
    at: new Date(n.at).toISOString(),
    durationSeconds: n.type === 'resolved' ? Math.round((n.durationMs ?? n.at - a.since) / 1000) : null,
    delayedBy: n.delayedBy ?? null,
  };
}

export function slackPayload(d: Delivery): Record<string, unknown> {
  const { rendered: r } = d;
  const color = r.status === 'resolved' ? COLORS.resolved : COLORS.firing[r.severity];
  // Mattermost reads the same incoming-webhook format.
  return {
    text: r.title,
    attachments: [{ fallback: r.text, color, title: r.title, title_link: r.link, text: r.text }],
  };
}

export function teamsPayload(d: Delivery): Record<string, unknown> {
  const { rendered: r } = d;
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            {
              type: 'TextBlock',
              text: r.title,
              weight: 'Bolder',
              wrap: true,
              color: r.status === 'resolved' ? 'Good' : r.severity === 'critical' ? 'Attention' : 'Warning',
            },
            { type: 'TextBlock', text: r.text, wrap: true },
          ],
          actions: [{ type: 'Action.OpenUrl', title: r.linkLabel, url: r.link }],
        },
      },
    ],
  };
}

const FORMATS = { generic: genericPayload, slack: slackPayload, teams: teamsPayload };

/** `sha256=` + hex HMAC of `timestamp.body`: the receiver recomputes it and rejects stale timestamps. */
export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookChannel(cfg: WebhookConfig, retryBaseMs = 500): Channel {
  const host = new URL(cfg.url).host;
  return {
    name: `webhook:${cfg.format}:${host}`,
    async send(d) {
      const body = JSON.stringify(FORMATS[cfg.format](d));
      await withRetries(
        async () => {
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            'user-agent': 'vigie',
          };
          if (cfg.secret) {
            const ts = String(Math.floor(Date.now() / 1000));
            headers[TIMESTAMP_HEADER] = ts;
            headers[SIGNATURE_HEADER] = sign(cfg.secret, ts, body);
          }
          const res = await request(cfg.url, {
            method: 'POST',
            headers,
            body,
            headersTimeout: cfg.timeoutMs,
            bodyTimeout: cfg.timeoutMs,
          });
          const text = await res.body.text();
          if (res.statusCode >= 300) throw httpProblem(res.statusCode, text, cfg.url);
        },
        cfg.retries,
        retryBaseMs,
      );
    },
  };
}
