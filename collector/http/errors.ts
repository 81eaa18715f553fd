// Every error leaves as JSON with a message that says what was wrong; a 5xx says no more than that
// it failed and under which request id the log has the details, so no internal detail (InfluxDB's
// text, a statement, a stack, a secret) reaches a client.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifySchemaValidationError } from 'fastify';
import { ReportQueryError } from '../../report/influx.ts';
import { instantProblem } from '../../shared/time.ts';
import { uaiProblem } from '../../shared/uai.ts';
import { InfluxQueryError } from './influxql.ts';

export function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export function sendError(reply: FastifyReply, statusCode: number, message: string) {
  if (statusCode === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(statusCode).type('application/json').send(errorBody(statusCode, message));
}

/**
 * "querystring/hours: must be number"; for a UAI or a date-time, what is wrong with it in words
 * (shared/uai.ts, shared/time.ts), e.g. `querystring/from: "2026-02-30T10:00:00Z": February 2026 has…`.
 */
export function formatValidation(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const e = errors[0];
  const where = `${dataVar}${e?.instancePath ?? ''}`;
  const params = (e?.params ?? {}) as Record<string, unknown>;
  let message: string;
  if (!e) message = `${dataVar}: invalid`;
  else if (
    (e.keyword === 'format' && params['format'] === 'uai') ||
    (e as { parentSchema?: { format?: string } }).parentSchema?.format === 'uai'
  )
    message = `${where}: ${uaiProblem((e as { data?: unknown }).data) ?? 'not a UAI'}`;
  else if (e.keyword === 'format' && params['format'] === 'date-time')
    message = `${where}: ${instantProblem((e as { data?: unknown }).data) ?? e.message}`;
  else if (e.keyword === 'minItems' && /\/scope\/\w+$/.test(e.instancePath))
    message = `${where}: an empty list would match every school; leave it out, or send the scope {} for every school`;
  else if (e.keyword === 'additionalProperties')
    message = `${where}: unknown parameter "${params['additionalProperty']}"`;
  else if (e.keyword === 'required') message = `${where}: missing "${params['missingProperty']}"`;
  else message = `${where}: ${e.message}`;
  return Object.assign(new Error(message), { statusCode: 400 });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof InfluxQueryError || err instanceof ReportQueryError) {
      request.log.warn({ err: err.message, reqId: request.id }, 'InfluxDB query failed');
      if (err.unreachable) {
        reply.header('retry-after', '30');
        return sendError(reply, 503, `InfluxDB does not answer (request ${request.id}): try again later`);
      }
      return sendError(
        reply,
        502,
        `InfluxDB failed the query (request ${request.id}): see the collector log`,
      );
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err, reqId: request.id }, 'request failed');
      return sendError(reply, status, `internal error (request ${request.id}): see the collector log`);
    }
    return sendError(reply, status, err.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}
