// Alerts (read), silences and maintenance windows (read, and write with the admin token).
import type { FastifyInstance } from 'fastify';
import { parseInstant } from '../../shared/time.ts';
import type { App, HttpContext } from './context.ts';
import type { MaintenanceStore, Scope, SilenceStore } from './deps.ts';
import { sendError } from './errors.ts';
import {
  AlertList,
  AlertsQuery,
  ErrorBody,
  IdParams,
  MaintenanceOut,
  NewMaintenanceBody,
  NewSilenceBody,
  SilenceOut,
} from './schemas.ts';
import { scopeProblem } from './window-scope.ts';

/** A silence or a window longer than this is a mistake (a year typed for a day). */
const MAX_SPAN_MS = 366 * 86_400_000;

type Period = { startsAt: string; endsAt: string };

/**
 * Reads and checks the period of a new silence or maintenance window (shared/time.ts parseInstant).
 * @param now ms since the epoch
 * @returns both ends in ms since the epoch, or the reason it is refused, naming the field
 *   (`body/startsAt: "2026-12-31T23:59:60Z": second 60 (a leap second) is not accepted…`).
 */
export function checkPeriod(p: Period, now: number): { startsAt: number; endsAt: number } | string {
  const startsAt = parseInstant(p.startsAt);
  if (!startsAt.ok) return `body/startsAt: ${startsAt.problem}`;
  const endsAt = parseInstant(p.endsAt);
  if (!endsAt.ok) return `body/endsAt: ${endsAt.problem}`;
  if (endsAt.ms <= startsAt.ms) return 'body/endsAt: must be after startsAt';
  if (endsAt.ms <= now) return 'body/endsAt: is already past';
  if (endsAt.ms - startsAt.ms > MAX_SPAN_MS) return 'body: a period lasts at most 366 days';
  return { startsAt: startsAt.ms, endsAt: endsAt.ms };
}

// Long: one route table (each endpoint with its schema), as a Fastify plugin.
export async function alertRoutes(app: App, ctx: HttpContext): Promise<void> {
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 503: ErrorBody };
  const unavailable = 'alerting is not running in this collector';

  app.get(
    '/api/alerts',
    {
      schema: {
        summary: 'Open alerts, and past ones newest first',
        tags: ['alerts'],
        querystring: AlertsQuery,
        response: { 200: AlertList, ...errors },
      },
    },
    async (request, reply) => {
      const alerts = ctx.deps.alerts;
      if (!alerts) return sendError(reply, 503, unavailable);
      return { open: alerts.open(), past: alerts.past(request.query.limit) };
    },
  );

  // Silences and maintenance windows share their routes; typed loosely here, checked by the schemas.
  const loose = app as unknown as FastifyInstance;
  const windows = <T extends { startsAt: number; endsAt: number }>(
    path: string,
    what: string,
    store: () =>
      | { list(): T[]; create(x: never): T | Promise<T>; remove(id: string): boolean | Promise<boolean> }
      | undefined,
    body: typeof NewSilenceBody | typeof NewMaintenanceBody,
    out: typeof SilenceOut | typeof MaintenanceOut,
  ) => {
    loose.get(
      path,
      {
        schema: {
          summary: `List ${what}s (ended ones stay a week)`,
          tags: ['alerts'],
          response: { 200: { type: 'array', items: out }, ...errors },
        },
      },
      async (_request, reply) => {
        const s = store();
        if (!s) return sendError(reply, 503, unavailable);
        const now = ctx.now();
        return s.list().map((w) => ({ ...w, active: w.startsAt <= now && now < w.endsAt }));
      },
    );

    loose.post(
      path,
      {
        config: { admin: true },
        schema: {
          summary: `Create a ${what} (admin token)`,
          tags: ['alerts'],
          security: [{ bearer: [] }],
          body,
          response: { 201: out, 409: ErrorBody, ...errors },
        },
      },
      async (request, reply) => {
        const s = store();
        if (!s) return sendError(reply, 503, unavailable);
        const now = ctx.now();
        const b = request.body as Period & {
          scope: Scope;
          comment: string;
          createdBy: string;
          kinds?: string[];
        };
        const period = checkPeriod(b, now);
        if (typeof period === 'string') return sendError(reply, 400, period);
        const unknown = scopeProblem(b, ctx.deps.registry);
        if (unknown) return sendError(reply, 400, unknown);
        const created = await s.create({ ...b, ...period } as never);
        request.log.info(
          { id: (created as { id?: string }).id, what, createdBy: b.createdBy },
          `${what} created`,
        );
        return reply.code(201).send({ ...created, active: created.startsAt <= now && now < created.endsAt });
      },
    );

    loose.delete<{ Params: { id: string } }>(
      `${path}/:id`,
      {
        config: { admin: true },
        schema: {
          summary: `Delete a ${what} (admin token)`,
          tags: ['alerts'],
          security: [{ bearer: [] }],
          params: IdParams,
          response: { 204: { type: 'null', description: 'deleted' }, 404: ErrorBody, ...errors },
        },
      },
      async (request, reply) => {
        const s = store();
        if (!s) return sendError(reply, 503, unavailable);
        if (!(await s.remove(request.params.id)))
          return sendError(reply, 404, `no ${what} ${request.params.id}`);
        request.log.info({ id: request.params.id, what }, `${what} deleted`);
        return reply.code(204).send();
      },
    );
  };

  windows(
    '/api/silences',
    'silence',
    () => ctx.deps.silences as SilenceStore | undefined,
    NewSilenceBody,
    SilenceOut,
  );
  windows(
    '/api/maintenance',
    'maintenance window',
    () => ctx.deps.maintenance as MaintenanceStore | undefined,
    NewMaintenanceBody,
    MaintenanceOut,
  );
}
