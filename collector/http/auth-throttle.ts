// Failed logins: an address that presents too many wrong tokens in a window is refused (429 with
// Retry-After) until the window ends, so tokens cannot be guessed at line rate. Counted per client
// address as fastify sees it (`request.ip`: the X-Forwarded-For address behind a trusted proxy; IPv6
// by /64, as @fastify/rate-limit keys it). Only presented tokens count: a reader from an allowed
// network without a token, or a valid token, costs nothing.
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.ts';

export interface AuthThrottleOptions {
  /** Wrong tokens from one address within the window before it is refused. */
  maxFailures: number;
  windowS: number;
  /** Each wrong token. */
  onFailure?: () => void;
  /** An address just reached maxFailures: told once per lockout (log it there). */
  onLockout?: (request: FastifyRequest, retryAfterS: number) => void;
  /** A request refused because its address is locked out. */
  onRefused?: () => void;
}

export interface AuthThrottle {
  /** onRequest: answers 429 with Retry-After when this request carries a token from a locked-out address. */
  check(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /** The token this request carried was refused. */
  failed(request: FastifyRequest): Promise<void>;
}

const kLocked = Symbol('vigie.authThrottle.locked');
type Tagged = FastifyRequest & { [kLocked]?: boolean };

/**
 * Registers @fastify/rate-limit on `app` (no route limited by it: `global: false`) for its bounded
 * store (an LRU of 5000 addresses) and builds the throttle on `createRateLimit`.
 */
export async function createAuthThrottle(
  app: FastifyInstance,
  opts: AuthThrottleOptions,
): Promise<AuthThrottle> {
  await app.register(rateLimit, { global: false });
  // rate-limit says "exceeded" past max: max = maxFailures - 1 refuses from the maxFailures-th failure on.
  const limiter = app.createRateLimit({ max: opts.maxFailures - 1, timeWindow: opts.windowS * 1000 });
  return {
    async check(request, reply) {
      if (request.headers.authorization === undefined) return undefined;
      const state = await limiter(request, { increment: false });
      (request as Tagged)[kLocked] = !state.isAllowed && state.isExceeded;
      if (state.isAllowed || !state.isExceeded) return undefined;
      opts.onRefused?.();
      reply.header('retry-after', String(state.ttlInSeconds));
      return sendError(
        reply,
        429,
        `too many refused tokens from this address: retry in ${state.ttlInSeconds} s`,
      );
    },
    async failed(request) {
      opts.onFailure?.();
      const state = await limiter(request);
      if (!state.isAllowed && state.isExceeded && !(request as Tagged)[kLocked]) {
        (request as Tagged)[kLocked] = true;
        opts.onLockout?.(request, state.ttlInSeconds);
      }
    },
  };
}
