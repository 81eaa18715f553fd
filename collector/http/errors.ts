// Every error leaves as JSON with a message that says what was wrong; a 5xx says no more than that
// it failed (the details go to the log), so no internal detail or secret reaches a client.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifySchemaValidationError } from 'fastify';
import { uaiProblem } from '../../shared/uai.ts';
import { InfluxQueryError } from './influxql.ts';

export function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export function sendError(reply: FastifyReply, statusCode: number, message: string) {
  if (statusCode === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(statusCode).type('application/json').send(errorBody(statusCode, message));
}

/** "querystring/from: must match format "date-time"", and for a UAI, what is wrong with it. */
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
  else if (e.keyword === 'additionalProperties')
    message = `${where}: unknown parameter "${params['additionalProperty']}"`;
  else if (e.keyword === 'required') message = `${where}: missing "${params['missingProperty']}"`;
  else message = `${where}: ${e.message}`;
  return Object.assign(new Error(message), { statusCode: 400 });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof InfluxQueryError) {
      request.log.warn({ err: err.message }, 'InfluxDB query failed');
      return sendError(reply, 502, err.message);
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return sendError(reply, status, 'internal error: see the collector log');
    }
    return sendError(reply, status, err.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}
