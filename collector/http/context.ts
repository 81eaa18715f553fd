// What every route plugin of the HTTP server is given: config, data sources, the live stream hub.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { AccessRules } from './auth.ts';
import type { HttpConfig } from './config.ts';
import type { HttpDeps } from './deps.ts';
import type { HttpMetrics } from './metrics.ts';
import type { ViewSources } from './school-view.ts';
import type { StreamHub } from './stream.ts';

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface HttpContext {
  config: HttpConfig;
  deps: HttpDeps;
  views: ViewSources;
  hub: StreamHub;
  metrics: HttpMetrics;
  access: AccessRules;
  now: () => number;
  startedAt: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route writes: the admin token is required. */
    admin?: boolean;
  }
}
