// The collector's HTTP server: fastify with every feature as a plugin, no global state. Public:
// health, readiness, the OpenAPI document, the board's static files. Readers (token or allowed
// network): the API, the live stream, /metrics. Writers: the admin token. Agents: /speedtest.
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyPluginAsync, LogController } from 'fastify';
import { createLogger, type Logger } from '../../shared/log.ts';
import { addVigieFormats } from '../../shared/validate.ts';
import { alertRoutes } from './alerts.ts';
import { adminDenial, forwardedBy, networkAllowList, readDenial, readerNetworks } from './auth.ts';
import { createAuthThrottle } from './auth-throttle.ts';
import { boardRoutes } from './board.ts';
import { installBodyDeadline } from './body-deadline.ts';
import type { HttpConfig } from './config.ts';
import type { App, HttpContext } from './context.ts';
import type { HttpDeps } from './deps.ts';
import { formatValidation, installErrorHandlers, sendError } from './errors.ts';
import { createMetrics } from './metrics.ts';
import { opsRoutes } from './ops.ts';
import { allViews, countByState, viewOf } from './school-view.ts';
import { schoolList, schoolRoutes } from './schools.ts';
import type { SpeedtestPluginOptions } from './speedtest.ts';
import { mountSpeedtest } from './speedtest-mount.ts';
import { StreamHub } from './stream.ts';

export interface HttpServerOptions {
  logger?: Logger;
  /** The speed-test plugin; served when `speedtest.secret` is set. */
  speedtest?: FastifyPluginAsync<SpeedtestPluginOptions>;
  /** How long changes are gathered before the board is told (ms). */
  streamFlushMs?: number;
  /** Default dashboard link pattern when the board config has none (the alerts' `dashboard.schoolUrl`). */
  grafanaSchoolUrl?: string;
}

// Long: the hooks and plugins in the order Fastify must register them; each is a few lines.
export async function buildHttpServer(
  config: HttpConfig,
  deps: HttpDeps,
  opts: HttpServerOptions = {},
): Promise<App> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const t = config.timeouts;
  if (t.idleS * 1000 <= config.queryTimeoutMs)
    throw new Error(
      `http.timeouts.idleS (${t.idleS} s) must be longer than http.queryTimeoutMs (${config.queryTimeoutMs} ms): ` +
        'a reader waiting for a slow query would lose its connection',
    );
  const app: App = Fastify({
    loggerInstance: opts.logger ?? createLogger('http'),
    logController: new LogController({ disableRequestLogging: !config.logRequests }),
    // A slow client holds a socket for no longer than these; routes bound their bodies (body-deadline.ts).
    connectionTimeout: t.idleS * 1000,
    // Backstop for a body nobody reads (the speed-test upload has the longest budget).
    requestTimeout: (t.headersS + Math.max(t.bodyS, config.speedtest.totalS)) * 1000,
    // Node checks header and request deadlines on this interval (30 s by default): a quarter of the
    // header budget keeps a cut within 25 % of it.
    http: {
      headersTimeout: t.headersS * 1000,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, (t.headersS * 1000) / 4)),
    },
    trustProxy: config.trustProxy.length ? config.trustProxy : false,
    ajv: { customOptions: { verbose: true, removeAdditional: false }, plugins: [addVigieFormats] },
    schemaErrorFormatter: formatValidation,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const views = {
    registry: deps.registry,
    presence: deps.presence,
    readings: deps.readings,
    grafanaPattern: config.board.grafanaSchoolUrl ?? opts.grafanaSchoolUrl,
    startedAt,
  };
  const hub = new StreamHub({
    maxClients: config.maxStreams,
    flushMs: opts.streamFlushMs ?? 500,
    heartbeatMs: 15_000,
    maxBufferedBytes: 4 * 1024 * 1024,
    view: (uai) => viewOf(views, uai),
    snapshot: () => schoolList(ctx),
    now,
  });
  const metrics = createMetrics({
    stats: deps.stats,
    schoolCounts: () => countByState(allViews(views)),
    streams: () => hub.size,
  });
  const ctx: HttpContext = {
    config,
    deps,
    views,
    hub,
    metrics,
    access: {
      readTokens: config.auth.readTokens,
      adminToken: config.auth.adminToken,
      allowed: networkAllowList(readerNetworks(config.auth.allowNetworks, config.trustProxy)),
    },
    now,
    startedAt,
  };

  const unsubscribe = [
    deps.presence.onChange((u) => hub.changed(u)),
    deps.readings.onChange((u) => hub.changed(u)),
  ];
  // Before the server closes: open streams would otherwise hold close() until their clients leave.
  app.addHook('preClose', async () => {
    for (const u of unsubscribe) u();
    hub.close();
  });

  installErrorHandlers(app);
  installBodyDeadline(app, {
    bodyMs: t.bodyS * 1000,
    onTimeout: (request, budgetMs) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.bodyTimeouts.inc({ route });
      request.log.warn({ ip: request.ip, route, budgetS: budgetMs / 1000 }, 'request body too slow: cut');
    },
  });
  const throttle = await createAuthThrottle(app, {
    maxFailures: config.authThrottle.maxFailures,
    windowS: config.authThrottle.windowS,
    onFailure: () => metrics.authFailures.inc(),
    onRefused: () => metrics.authThrottled.inc(),
    onLockout: (request, retryAfterS) =>
      request.log.warn(
        { ip: request.ip, failures: config.authThrottle.maxFailures, retryAfterS },
        'too many wrong tokens from this address: refused until the window ends',
      ),
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.inc({
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: String(reply.statusCode),
    });
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Vigie collector',
        version: '1',
        description: 'Presence, measurements and alerts of the schools',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'read token or admin token' },
          speedtest: { type: 'http', scheme: 'bearer', description: "the school's speed-test token" },
        },
      },
    },
  });

  await app.register(async (scope) => {
    await opsRoutes(scope, ctx);
    await boardRoutes(scope, ctx);
  });

  await app.register(async (scope: App) => {
    scope.addHook('onRequest', async (request, reply) => {
      const throttled = await throttle.check(request, reply);
      if (throttled) return throttled;
      const admin = request.routeOptions.config.admin === true;
      const denial = admin
        ? adminDenial(ctx.access, request.headers.authorization)
        : readDenial(
            ctx.access,
            request.headers.authorization,
            request.ip,
            config.trustProxy.length === 0 && forwardedBy(request.headers),
          );
      if (!denial) return;
      request.log.info(
        { ip: request.ip, route: request.routeOptions.url, status: denial.status },
        'access denied',
      );
      // A token presented and refused; a missing one (the board's first try) or a 403 is no guess.
      if (denial.status === 401 && request.headers.authorization !== undefined)
        await throttle.failed(request);
      return sendError(reply, denial.status, denial.message);
    });
    await schoolRoutes(scope, ctx);
    await alertRoutes(scope, ctx);
  });

  const secret = config.speedtest.secret;
  if (secret && opts.speedtest) {
    await mountSpeedtest(app, {
      config: { ...config.speedtest, secret },
      plugin: opts.speedtest,
      throttle,
      onLimited: () => metrics.speedtestRefused.inc({ reason: 'rate_limited' }),
      onEvent: (event) =>
        (event.kind === 'cut' ? metrics.speedtestCut : metrics.speedtestRefused).inc({
          reason: event.reason,
        }),
    });
  }
  return app;
}
