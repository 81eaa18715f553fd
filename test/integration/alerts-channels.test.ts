// Alert channels against real receivers: an HTTP webhook receiver, the smtp-server package, and
// Debian's Prometheus Alertmanager.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerChannel } from '../../collector/alerts/channels/alertmanager.ts';
import type { Delivery } from '../../collector/alerts/channels/channel.ts';
import { emailChannel } from '../../collector/alerts/channels/email.ts';
import {
  SIGNATURE_HEADER,
  sign,
  TIMESTAMP_HEADER,
  webhookChannel,
} from '../../collector/alerts/channels/webhook.ts';
import { render } from '../../collector/alerts/messages.ts';
import type { Notification, SchoolInfo } from '../../collector/alerts/policy.ts';
import { type AlertmanagerHandle, startAlertmanager } from '../harness/alertmanager.ts';
import { waitFor } from '../harness/daemon.ts';
import { decodeQuotedPrintable, type SmtpHandle, startSmtpServer } from '../harness/smtp.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhook.ts';

const school: SchoolInfo = {
  uai: '0690001B',
  name: 'École Jean Macé',
  commune: 'Villeurbanne',
  isp: 'Orange',
  hours: 'school',
};
const since = Date.now() - 5 * 60_000;
const alert = {
  key: 'school_offline/0690001B',
  kind: 'school_offline' as const,
  severity: 'critical' as const,
  uai: school.uai,
  since,
  notifiedAt: null,
  lastSentAt: null,
  reason: 'will',
};
const msgOpts = {
  timezone: 'Europe/Paris',
  schoolUrl: 'http://grafana.test/d/school?var-uai={uai}',
  fleetUrl: 'http://grafana.test/d/fleet',
};

function delivery(
  type: Notification['type'],
  language: 'fr' | 'en' = 'fr',
  at = Date.now(),
  start = since,
): Delivery {
  const n: Notification = {
    type,
    alert: { ...alert, since: start },
    at,
    ...(type === 'resolved' ? { durationMs: at - start } : {}),
  };
  return { notification: n, rendered: render(n, () => school, { ...msgOpts, language }), school };
}

let hook: WebhookReceiver;
let amHook: WebhookReceiver;
let smtp: SmtpHandle;
let am: AlertmanagerHandle;

beforeAll(async () => {
  [hook, amHook, smtp] = await Promise.all([
    startWebhookReceiver(),
    startWebhookReceiver(),
    startSmtpServer(),
  ]);
  am = await startAlertmanager(amHook.url);
});
afterAll(async () => {
  await Promise.all([hook?.close(), amHook?.close(), smtp?.close(), am?.daemon.dispose()]);
});

describe('webhook channel', () => {
  it('posts generic JSON signed with HMAC-SHA256 over the timestamp and the body', async () => {
    hook.received.length = 0;
    const secret = 'a-long-shared-secret';
    await webhookChannel({ url: hook.url, format: 'generic', secret, retries: 0, timeoutMs: 5000 }).send(
      delivery('firing'),
    );
    expect(hook.received).toHaveLength(1);
    const req = hook.received[0]!;
    const ts = String(req.headers[TIMESTAMP_HEADER]);
    expect(req.headers[SIGNATURE_HEADER]).toBe(sign(secret, ts, req.raw));
    expect(req.headers[SIGNATURE_HEADER]).not.toBe(sign('another-secret', ts, req.raw));
    expect(req.body).toMatchObject({
      version: 1,
      type: 'firing',
      status: 'firing',
      kind: 'school_offline',
      uai: '0690001B',
      school: { name: 'École Jean Macé', commune: 'Villeurbanne', isp: 'Orange' },
      link: 'http://grafana.test/d/school?var-uai=0690001B',
      since: new Date(since).toISOString(),
    });
  });

  it('retries on 5xx until the receiver takes it, and gives up at once on a 4xx', async () => {
    hook.received.length = 0;
    hook.failNext(500, 503);
    const ch = webhookChannel({ url: hook.url, format: 'generic', retries: 3, timeoutMs: 5000 }, 20);
    await ch.send(delivery('resolved'));
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.body).toMatchObject({
      type: 'resolved',
      durationSeconds: expect.any(Number),
      text: expect.stringMatching(/— Fin : .+ — durée 5 min/),
    });
    hook.failNext(400);
    await expect(ch.send(delivery('firing'))).rejects.toThrow(/answered 400/);
    expect(hook.received).toHaveLength(1);
  });

  it('speaks the Slack/Mattermost and Teams formats', async () => {
    hook.received.length = 0;
    await webhookChannel({ url: hook.url, format: 'slack', retries: 0, timeoutMs: 5000 }).send(
      delivery('firing', 'en'),
    );
    await webhookChannel({ url: hook.url, format: 'teams', retries: 0, timeoutMs: 5000 }).send(
      delivery('resolved', 'en'),
    );
    type Slack = { text: string; attachments: { color: string; title_link: string }[] };
    type Teams = {
      attachments: {
        contentType: string;
        content: { body: { text: string }[]; actions: { url: string }[] };
      }[];
    };
    const slack = hook.received[0]?.body as Slack | undefined;
    const teams = hook.received[1]?.body as Teams | undefined;
    expect(slack!.text).toBe('[ALERT] École Jean Macé (Villeurbanne, UAI 0690001B): offline');
    expect(slack!.attachments[0]).toMatchObject({
      color: '#d62728',
      title_link: 'http://grafana.test/d/school?var-uai=0690001B',
    });
    const card = teams!.attachments[0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content.body[0]).toMatchObject({
      text: expect.stringContaining('[RESOLVED]'),
      color: 'Good',
    });
    expect(card.content.actions[0]).toMatchObject({
      title: 'Dashboard',
      url: 'http://grafana.test/d/school?var-uai=0690001B',
    });
  });
});

describe('email channel', () => {
  it('delivers a plain-text message to a real SMTP server', async () => {
    const ch = emailChannel({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      from: 'vigie@collectivite.test',
      to: ['reseau@collectivite.test', 'astreinte@collectivite.test'],
      retries: 0,
    });
    await ch.send(delivery('firing'));
    // An outage from 10:00 to 11:23 Paris time (UTC+1 in November), whatever this machine's zone.
    const start = Date.parse('2025-11-18T09:00:00Z');
    await ch.send(delivery('resolved', 'fr', start + 83 * 60_000, start));
    await ch.close?.();
    expect(smtp.mails).toHaveLength(2);
    const [firing, resolved] = smtp.mails;
    expect(firing!.to).toEqual(['reseau@collectivite.test', 'astreinte@collectivite.test']);
    expect(firing!.from).toBe('vigie@collectivite.test');
    expect(firing!.headers['x-vigie-alert']).toBe('school_offline/0690001B');
    expect(firing!.headers['x-vigie-status']).toBe('firing');
    expect(firing!.headers['x-priority']).toBe('1');
    const body = decodeQuotedPrintable(firing!.raw);
    expect(body).toContain('École Jean Macé (Villeurbanne, UAI 0690001B) : hors ligne');
    expect(body).toContain('Cause : connexion perdue sans au revoir');
    expect(body).toContain('http://grafana.test/d/school?var-uai=0690001B');
    expect(resolved!.headers['x-vigie-status']).toBe('resolved');
    // The recovery says when it ended, not only for how long.
    expect(decodeQuotedPrintable(resolved!.raw)).toContain(
      'Début : mar. 18 nov., 10:00 (dernier signe de vie) — Fin : mar. 18 nov., 11:23 — durée 1 h 23 min',
    );
  });
});

describe('Alertmanager channel', () => {
  it('posts alerts with uai, commune and severity labels that Alertmanager routes, then resolves them', async () => {
    const ch = alertmanagerChannel({ urls: [am.url], resendSeconds: 60, retries: 2 }, 100);
    await ch.send(delivery('firing'));
    const active = await am.alerts();
    expect(active).toHaveLength(1);
    expect(active[0]!.labels).toMatchObject({
      alertname: 'vigie_school_offline',
      uai: '0690001B',
      commune: 'Villeurbanne',
      isp: 'Orange',
      severity: 'critical',
    });
    expect(active[0]!.status.state).toBe('active');
    expect(Date.parse(active[0]!.startsAt)).toBe(since);
    // Alertmanager routes it to its own receiver.
    await waitFor('Alertmanager to notify its webhook', async () => amHook.received.length > 0, 20_000);
    expect(amHook.received[0]!.body).toMatchObject({ status: 'firing', commonLabels: { uai: '0690001B' } });
    // A re-post (refresh) of the same alert is deduplicated by Alertmanager.
    await ch.refresh?.([delivery('firing')]);
    expect(await am.alerts()).toHaveLength(1);
    await ch.send(delivery('resolved'));
    await waitFor(
      'Alertmanager to send the resolution',
      async () => amHook.received.some((r) => (r.body as { status?: string }).status === 'resolved'),
      20_000,
    );
    const after = await am.alerts();
    expect(after.filter((a) => a.status.state === 'active')).toHaveLength(0);
  });
});
