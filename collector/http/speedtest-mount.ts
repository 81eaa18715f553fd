// The agents' speed test (collector/http/speedtest.ts) mounted under /speedtest: each request needs
// its school's token, each school gets a few tests per window, and few run at once (a school holds
// at most perSchoolConcurrent of them), so one agent looping on a bad config or a link that stalls
// cannot eat the collector's link or CPU, nor keep the other schools from testing.
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest, FastifySchema } from 'fastify';
import Type from 'typebox';
import { verifySpeedtestToken } from './auth.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import type { SpeedtestHttpConfig } from './config.ts';
import type { App } from './context.ts';
import { errorBody, sendError } from './errors.ts';
import { ErrorBody } from './schemas.ts';
import type { SpeedtestEvent, SpeedtestPluginOptions } from './speedtest.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The UAI whose speed-test token this request carries. */
    school?: string;
  }
}

const common = {
  tags: ['speedtest'],
  security: [{ speedtest: [] }],
  response: { 401: ErrorBody, 429: ErrorBody },
};
const SPEEDTEST_SCHEMAS: Record<string, FastifySchema> = {
  download: {
    ...common,
    summary: 'Download N incompressible bytes (capped by the server)',
    querystring: Type.Object({ bytes: Type.Integer({ minimum: 0 }) }),
  },
  upload: {
    ...common,
    summary: 'Upload sink: counts the bytes and answers the rate measured after the warm-up',
    querystring: Type.Object({ warmupMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })) }),
  },
};

export interface SpeedtestMountOptions {
  config: SpeedtestHttpConfig & { secret: string };
  plugin: FastifyPluginAsync<SpeedtestPluginOptions>;
  onLimited?: (uai: string) => void;
  /** Refusals and cuts of the plugin, for counters. */
  onEvent?: (event: SpeedtestEvent) => void;
  /** Wrong tokens count against their address, as on the API. */
  throttle?: AuthThrottle;
}

export async function mountSpeedtest(app: App, opts: SpeedtestMountOptions): Promise<void> {
  const { config } = opts;
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        const throttled = await opts.throttle?.check(request, reply);
        if (throttled) return throttled;
        const auth = verifySpeedtestToken(config.secret, config.revoked, request.headers.authorization);
        if (!auth.ok) {
          request.log.info({ ip: request.ip }, `speed test refused: ${auth.message}`);
          if (request.headers.authorization !== undefined) await opts.throttle?.failed(request);
          return sendError(reply, 401, auth.message);
        }
        request.school = auth.uai;
      });
      await scope.register(rateLimit, {
        max: config.perSchoolMax,
        timeWindow: config.windowS * 1000,
        keyGenerator: (request: FastifyRequest) => request.school ?? request.ip,
        onExceeded: (request: FastifyRequest) => {
          request.log.warn({ uai: request.school }, 'speed tests over the per-school limit');
          if (request.school) opts.onLimited?.(request.school);
        },
        errorResponseBuilder: (_request, context) => ({
          ...errorBody(
            429,
            `too many speed tests from this school: ${context.max} per ${config.windowS} s, retry in ${context.after}`,
          ),
        }),
      });
      // The plugin's routes come without schemas: give them one, for validation and the OpenAPI document.
      scope.addHook('onRoute', (route) => {
        route.schema = { ...SPEEDTEST_SCHEMAS[route.url.replace(/^.*\//, '')], ...route.schema };
      });
      await scope.register(opts.plugin, {
        maxConcurrent: config.maxConcurrent,
        maxBytes: config.maxBytes,
        maxPerClient: config.perSchoolConcurrent,
        clientOf: (request) => request.school ?? request.ip,
        idleTimeoutMs: config.idleS * 1000,
        totalTimeoutMs: config.totalS * 1000,
        onEvent: (event) => opts.onEvent?.(event),
      });
    },
    { prefix: '/speedtest' },
  );
}
