// One logger for every process. Secrets never reach the output: each finished line goes through
// redactLogLine (shared/secrets.ts), so secret-named fields at any depth and credentials inside any
// URL (a field, the message, an error's stack) are masked whatever the call site logged.
import pino, { type Logger } from 'pino';
import { redactLogLine } from './secrets.ts';

export { redactSecrets, redactUrl } from './secrets.ts';
export type { Logger };

export function createLogger(
  name: string,
  level = process.env['VIGIE_LOG_LEVEL'] ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino({ name, level, hooks: { streamWrite: redactLogLine } }, destination);
}
