// What every alert channel does: deliver one rendered notification, or throw (retryable or not).
import type { RenderedAlert } from '../messages.ts';
import type { Notification, SchoolInfo } from '../policy.ts';

export interface Delivery {
  notification: Notification;
  rendered: RenderedAlert;
  school?: SchoolInfo;
  members?: SchoolInfo[];
}

export interface Channel {
  readonly name: string;
  send(d: Delivery): Promise<void>;
  /** Alertmanager forgets firing alerts not re-posted: it gets every open alert periodically. */
  refresh?(open: Delivery[]): Promise<void>;
  close?(): Promise<void>;
}

/** A failure not worth retrying (4xx other than 408/429, an address refused). */
export class PermanentError extends Error {}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Try, then retry with exponential backoff (base, 2×base, ... capped), unless the error is permanent. */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  retries: number,
  baseMs = 500,
  maxMs = 30_000,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof PermanentError || i >= retries) throw err;
      await sleep(Math.min(maxMs, baseMs * 2 ** i));
    }
  }
}

export function httpProblem(status: number, body: string, url: string): Error {
  const msg = `${url} answered ${status}: ${body.slice(0, 200)}`;
  return status >= 400 && status < 500 && status !== 408 && status !== 429
    ? new PermanentError(msg)
    : new Error(msg);
}
