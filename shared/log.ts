// One logger for every process, with secrets redacted wherever they sit in a logged object.
import pino, { type Logger } from 'pino';

export type { Logger };

const SECRET_KEYS = [
  'password',
  'token',
  'secret',
  'adminToken',
  'authorization',
  'hmacSecret',
  'pass',
  'apiKey',
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]).concat([
  'req.headers.authorization',
  'headers.authorization',
  'url.password',
]);

export function createLogger(
  name: string,
  level = process.env['VIGIE_LOG_LEVEL'] ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

/** A deep copy of a config with every secret masked, for printing. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactSecrets) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        SECRET_KEYS.some((s) => s.toLowerCase() === k.toLowerCase()) && v !== undefined
          ? '[redacted]'
          : redactSecrets(v);
    }
    return out as T;
  }
  if (typeof value === 'string' && /^[a-z]+:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value)) {
    return value.replace(/^([a-z]+:\/\/[^/\s:@]+:)[^/\s@]+@/i, '$1[redacted]@') as T;
  }
  return value;
}
