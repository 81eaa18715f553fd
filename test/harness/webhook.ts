// A small HTTP receiver that records every request it gets (for webhook and Alertmanager tests).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: unknown;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedRequest[];
  /** Status codes to answer with, in order; once used up, 200. */
  failNext(...statuses: number[]): void;
  close(): Promise<void>;
}

/** Keeps at most this many requests: a test that floods it sees the newest. */
const MAX_KEPT = 10_000;

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const planned: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {}
      const status = planned.shift() ?? 200;
      if (status < 300) {
        received.push({
          at: Date.now(),
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          raw,
          body,
        });
        if (received.length > MAX_KEPT) received.shift();
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    failNext: (...s) => planned.push(...s),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The body of a `generic` format webhook alert, as the alert tests read it. */
export type GenericAlert = {
  type: string;
  kind: string;
  uai: string | null;
  subject: string | null;
  text: string;
};

/** Every request body the receiver kept, read as `generic` alerts, in order. */
export const genericAlerts = (hook: WebhookReceiver): GenericAlert[] =>
  hook.received.map((r) => r.body as GenericAlert);
