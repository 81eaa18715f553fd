// Email channel over SMTP with nodemailer: one message per notification, plain text.
import type { Transporter } from 'nodemailer';
import type { EmailConfig } from '../config.ts';
import { type Channel, PermanentError, withRetries } from './channel.ts';

export function emailChannel(cfg: EmailConfig, retryBaseMs = 1000): Channel {
  // nodemailer is loaded at the first mail, not at start: most alerts never go by email.
  let transport: Promise<Transporter> | undefined;
  const transporter = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: cfg.host,
        port: cfg.port,
        secure: cfg.secure,
        ...(cfg.username ? { auth: { user: cfg.username, pass: cfg.password ?? '' } } : {}),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      }),
    ));
  return {
    name: `email:${cfg.host}:${cfg.port}`,
    async send(d) {
      const r = d.rendered;
      await withRetries(
        async () => {
          try {
            await (await transporter()).sendMail({
              from: cfg.from,
              to: cfg.to,
              subject: r.title,
              text: r.text,
              headers: {
                'X-Vigie-Alert': d.notification.alert.key,
                'X-Vigie-Status': r.status,
                'X-Priority': r.severity === 'critical' && r.status === 'firing' ? '1' : '3',
              },
            });
          } catch (err) {
            // 5xx SMTP replies (mailbox refused, message rejected) will not change on retry.
            const code = (err as { responseCode?: number }).responseCode;
            if (code !== undefined && code >= 500) throw new PermanentError((err as Error).message);
            throw err;
          }
        },
        cfg.retries,
        retryBaseMs,
      );
    },
    async close() {
      (await transport)?.close();
    },
  };
}
