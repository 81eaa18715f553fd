// GET /api/report: the yearly report's figures (report/figures.ts) as JSON, for a reader token.
// The period is given in local dates (first and last day, inclusive); none: the current school year.
import Type from 'typebox';
import type { ReportJson, ReportService } from '../../report/api.ts';
import { periodFromOptions, UsageError } from '../../report/run.ts';
import type { App, HttpContext } from './context.ts';
import { sendError } from './errors.ts';
import { reportCache } from './report-cache.ts';
import { ErrorBody } from './schemas.ts';

const LocalDate = (description: string) =>
  Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: `${description}, YYYY-MM-DD local` });

export const ReportQuery = Type.Object(
  {
    from: Type.Optional(LocalDate('first day')),
    to: Type.Optional(LocalDate('last day, inclusive')),
    commune: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    isp: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

/** The widest period asked at once: a school year and a bit. */
const MAX_DAYS = 400;

export async function reportRoutes(
  app: App,
  ctx: HttpContext,
  service: ReportService | undefined,
): Promise<void> {
  // One cache per server: the key is the whole request (period in ms, filters), so compute() needs nothing else.
  const cache = service
    ? reportCache<ReportJson>({
        compute: (key) => {
          const { startMs, endMs, label, commune, isp } = JSON.parse(key);
          return service.figures({
            period: { startMs, endMs, label },
            ...(commune !== undefined ? { commune } : {}),
            ...(isp !== undefined ? { isp } : {}),
          });
        },
      })
    : undefined;
  app.get(
    '/api/report',
    {
      schema: {
        summary:
          'Availability and quality figures per school (by month), commune, ISP and fleet: docs/report.md',
        tags: ['report'],
        querystring: ReportQuery,
        response: {
          200: Type.Object({}, { additionalProperties: true, description: 'report/api.ts ReportJson' }),
          400: ErrorBody,
          401: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      if (!service) return sendError(reply, 503, 'the report is not available on this collector');
      const q = request.query;
      let period: ReturnType<typeof periodFromOptions>;
      try {
        period = periodFromOptions(
          { ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}) },
          service.timeZone,
          ctx.now(),
        );
      } catch (err) {
        if (err instanceof UsageError)
          return sendError(reply, 400, `querystring: ${err.message.replace(/--(from|to)/g, '$1')}`);
        throw err;
      }
      if (period.endMs - period.startMs > MAX_DAYS * 86_400_000)
        return sendError(reply, 400, `querystring: from … to spans at most ${MAX_DAYS} days`);
      const answer = await cache!.get(
        JSON.stringify({
          startMs: period.startMs,
          endMs: period.endMs,
          label: period.label,
          commune: q.commune,
          isp: q.isp,
        }),
      );
      if (answer.status === 'busy') {
        reply.header('retry-after', String(answer.retryAfterS));
        return sendError(
          reply,
          429,
          `another report is being computed: retry in ${answer.retryAfterS} s / un autre rapport est en cours de calcul : réessayez dans ${answer.retryAfterS} s`,
        );
      }
      reply.header('x-vigie-report-cache', answer.cached ? 'hit' : 'miss');
      return answer.value;
    },
  );
}
