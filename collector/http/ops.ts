// Routes for whoever runs the collector: liveness, readiness, the OpenAPI document. Public: a load
// balancer or an orchestrator asks them without a token, and they say nothing about schools.
import type { App, HttpContext } from './context.ts';
import { Health, Ready } from './schemas.ts';

export async function opsRoutes(app: App, ctx: HttpContext): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'The collector process answers',
        tags: ['operations'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok', uptimeS: Math.round((ctx.now() - ctx.startedAt) / 1000) }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The broker and InfluxDB are reachable (503 otherwise)',
        tags: ['operations'],
        response: { 200: Ready, 503: Ready },
      },
    },
    async (_request, reply) => {
      const [influxdb] = await Promise.all([ctx.deps.influx.ping()]);
      const broker = ctx.deps.readiness?.brokerConnected() ?? false;
      const ready = broker && influxdb;
      return reply.code(ready ? 200 : 503).send({ ready, checks: { broker, influxdb } });
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        summary: 'This API, as OpenAPI 3 generated from the route schemas',
        tags: ['operations'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
}
