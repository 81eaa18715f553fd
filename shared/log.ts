// One logger for every process. Secrets never reach the output: each finished line goes through
// redactLogLine (shared/secrets.ts), so secret-named fields at any depth and credentials inside any
// URL (a field, the message, an error's stack) are masked whatever the call site logged.
import pino, { type Logger } from 'pino';
import { formatLogLine, logFormat } from './log-format.ts';
import { redactLogLine } from './secrets.ts';

export { redactSecrets, redactUrl } from './secrets.ts';
export type { Logger };

/**
 * A logger writing one line per event to `destination` (default stdout). VIGIE_LOG_LEVEL: trace,
 * debug, info (default), warn, error, fatal, silent. VIGIE_LOG_FORMAT: json (default) or text
 * (shared/log-format.ts: pino-pretty, one line per event, formatted in this thread), read at each call.
 * @throws Error for an unknown level or format.
 */
export function createLogger(
  name: string,
  level = process.env['VIGIE_LOG_LEVEL'] || 'info',
  destination?: pino.DestinationStream,
): Logger {
  if (logFormat(process.env['VIGIE_LOG_FORMAT']) === 'text') {
    const out = destination ?? pino.destination(1);
    // Redacted as JSON first (streamWrite), then turned into text by pino-pretty: the masking rules see the fields.
    return pino({ name, level, hooks: { streamWrite: (line) => formatLogLine(redactLogLine(line)) } }, out);
  }
  return pino({ name, level, hooks: { streamWrite: redactLogLine } }, destination);
}
