// Read routes about schools: the fleet, one school with its history, outages, the live stream.
import type { App, HttpContext } from './context.ts';
import { sendError } from './errors.ts';
import { ongoingOutages, outagesBetween, outageWindow, schoolHistory, withNames } from './history.ts';
import {
  ErrorBody,
  HistoryQuery,
  OutageList,
  OutagesQuery,
  SchoolDetail,
  SchoolList,
  UaiParams,
} from './schemas.ts';
import { allViews, countByState, viewOf } from './school-view.ts';

export function schoolList(ctx: HttpContext) {
  const schools = allViews(ctx.views);
  return { now: ctx.now(), counts: countByState(schools), schools };
}

// Long: one route table (each endpoint with its schema), as a Fastify plugin.
export async function schoolRoutes(app: App, ctx: HttpContext): Promise<void> {
  const errors = { 400: ErrorBody, 401: ErrorBody };

  app.get(
    '/api/schools',
    {
      schema: {
        summary: 'Every school: state, since when, last seen, latency, loss, throughput, agent version',
        tags: ['schools'],
        response: { 200: SchoolList, ...errors },
      },
    },
    async () => schoolList(ctx),
  );

  app.get(
    '/api/schools/:uai',
    {
      schema: {
        summary: 'One school, with its recent history from InfluxDB',
        tags: ['schools'],
        params: UaiParams,
        querystring: HistoryQuery,
        response: { 200: SchoolDetail, 404: ErrorBody, 502: ErrorBody, 503: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      const { uai } = request.params;
      const school = viewOf(ctx.views, uai);
      if (!school) return sendError(reply, 404, `no school ${uai} in the registry, and none heard of`);
      const to = ctx.now();
      const from = to - (request.query.hours ?? ctx.config.historyHours) * 3_600_000;
      const history = await schoolHistory(ctx.deps.influx.query, uai, from, to);
      const ongoing = ongoingOutages(ctx.deps.presence, to, from, to, uai);
      return {
        school,
        from,
        to,
        ...history,
        outages: withNames([...ongoing, ...history.outages], ctx.deps.registry),
      };
    },
  );

  app.get(
    '/api/outages',
    {
      schema: {
        summary: 'Outages overlapping [from, to): finished ones from InfluxDB, ongoing ones from presence',
        tags: ['schools'],
        querystring: OutagesQuery,
        response: { 200: OutageList, 502: ErrorBody, 503: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      const now = ctx.now();
      const window = outageWindow(request.query, now);
      if (typeof window === 'string') return sendError(reply, 400, window);
      const { from, to } = window;
      const uai = request.query.uai;
      const [finished, ongoing] = [
        await outagesBetween(ctx.deps.influx.query, from, to, uai),
        ongoingOutages(ctx.deps.presence, now, from, to, uai),
      ];
      return { from, to, outages: withNames([...ongoing, ...finished], ctx.deps.registry) };
    },
  );

  app.get(
    '/api/stream',
    {
      schema: {
        summary:
          'Live updates (Server-Sent Events): a `snapshot` event, then `schools` events with what changed',
        tags: ['schools'],
        produces: ['text/event-stream'],
        response: { 200: { description: 'text/event-stream', type: 'string' }, 503: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      if (ctx.hub.full) {
        reply.header('retry-after', '30');
        return sendError(reply, 503, 'too many live streams: poll /api/schools instead');
      }
      reply.hijack();
      ctx.hub.add(reply.raw);
      request.log.debug({ streams: ctx.hub.size }, 'live stream opened');
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics of the collector',
        tags: ['operations'],
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text format 0.0.4', type: 'string' }, ...errors },
      },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
}
