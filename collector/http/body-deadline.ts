// Slow request bodies: a client sending one byte every few seconds would otherwise hold a connection
// and a request in flight for as long as it likes, whatever its token. Node's own timeouts bound the
// headers and the whole request server-wide; this gives each route a budget for its body.
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Time the request body may take to arrive, ms; 0: the route bounds its own body (the speed-test upload). */
    bodyTimeoutMs?: number;
  }
}

export class BodyTimeout extends Error {
  readonly statusCode = 408;
  readonly code = 'VIGIE_BODY_TIMEOUT';
}

/**
 * Installs, for every route registered after it on `app`:
 * - a body deadline: a body not fully received within `bodyMs` (or the route's `config.bodyTimeoutMs`)
 *   is answered 408 and the connection closed; `onTimeout` is told (count and log it there);
 * - an answer sent before its request body was received (401, 404, 413, 429...) closes the connection,
 *   so the rest of the body is not read at the client's pace.
 */
export function installBodyDeadline(
  app: FastifyInstance,
  opts: { bodyMs: number; onTimeout: (request: FastifyRequest, budgetMs: number) => void },
): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    const budgetMs = request.routeOptions.config.bodyTimeoutMs ?? opts.bodyMs;
    if (!(budgetMs > 0) || request.raw.complete) return payload;
    // A pass-through that fails with 408 when the budget runs out: fastify answers the parser's error
    // and closes the connection. pipe(), not pipeline(): the response must outlive the cut.
    const guarded = new Transform({
      transform: (chunk, _enc, next) => next(null, chunk),
    });
    const timer = setTimeout(() => {
      if (reply.sent) return;
      opts.onTimeout(request, budgetMs);
      guarded.destroy(new BodyTimeout(`request body not received within ${budgetMs / 1000} s`));
    }, budgetMs);
    timer.unref();
    guarded.once('end', () => clearTimeout(timer));
    guarded.once('close', () => clearTimeout(timer));
    payload.once('error', (err) => guarded.destroy(err));
    payload.pipe(guarded);
    return guarded;
  });
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) reply.header('connection', 'close');
  });
}
