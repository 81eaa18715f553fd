// The status board's static files (collector/board/), read once at start. They hold no data: the
// page asks /api/schools and /api/stream, with a token when the network is not allowed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_THRESHOLDS } from '../thresholds.ts';
import type { App, HttpContext } from './context.ts';
import { sendError } from './errors.ts';

const BOARD_DIR = new URL('../board/', import.meta.url);

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'board.js': 'text/javascript; charset=utf-8',
  'board.css': 'text/css; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export async function boardRoutes(app: App, ctx: HttpContext): Promise<void> {
  const files = new Map(
    Object.entries(FILES).map(([name, type]) => {
      const body = readFileSync(new URL(name, BOARD_DIR));
      return [name, { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` }];
    }),
  );
  const serve = (name: string) => files.get(name)!;
  const html = { 200: { description: 'the file', type: 'string' } };

  app.get(
    '/',
    { schema: { summary: 'The status board', tags: ['board'], produces: ['text/html'], response: html } },
    async (request, reply) => send(request.headers['if-none-match'], reply, serve('index.html')),
  );

  app.get(
    '/board/:file',
    {
      schema: {
        summary: "The board's script and style",
        tags: ['board'],
        params: {
          type: 'object',
          properties: { file: { type: 'string', enum: ['board.js', 'board.css'] } },
          required: ['file'],
        },
        response: { ...html, 404: { type: 'object', additionalProperties: true } },
      },
    },
    async (request, reply) => {
      const file = files.get((request.params as { file: string }).file);
      if (!file) return sendError(reply, 404, 'no such file');
      return send(request.headers['if-none-match'], reply, file);
    },
  );

  app.get(
    '/board/config.json',
    {
      schema: {
        summary: "The board's settings: title, default language, polling interval, thresholds",
        tags: ['board'],
        response: {
          200: {
            type: 'object',
            properties: {
              title: { type: 'string' },
              language: { type: 'string' },
              pollS: { type: 'integer' },
              thresholds: {
                type: 'object',
                description: "past these, an online school's last round is flagged on its tile",
                properties: { lossPct: { type: 'number' }, latencyMs: { type: 'number' } },
                required: ['lossPct', 'latencyMs'],
              },
            },
            required: ['title', 'language', 'pollS', 'thresholds'],
          },
        },
      },
    },
    async () => ({
      title: ctx.config.board.title,
      language: ctx.config.board.language,
      pollS: ctx.config.board.pollS,
      // The critical thresholds, as presence's degraded rule and the dashboards' colours use by default.
      thresholds: { lossPct: DEFAULT_THRESHOLDS.lossPct.crit, latencyMs: DEFAULT_THRESHOLDS.latencyMs.crit },
    }),
  );
}

function send(
  ifNoneMatch: string | undefined,
  reply: import('fastify').FastifyReply,
  file: { body: Buffer; type: string; etag: string },
) {
  reply.headers({ ...SECURITY_HEADERS, etag: file.etag, 'cache-control': 'no-cache' });
  if (ifNoneMatch === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}
