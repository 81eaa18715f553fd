// The readable log format (VIGIE_LOG_FORMAT=text): one line per event for a terminal or journald,
// `LEVEL name: message key=value ...`, logfmt-style values (quoted when they hold a space, a quote or
// '='; objects as compact JSON; an error as its message). It formats pino's JSON lines after they
// are redacted (shared/log.ts), synchronously, so it works in the agent's one-file bundle too
// (pino-pretty's transport runs in a worker thread loading files by path).

/** pino's numeric levels (https://getpino.io/#/docs/api?id=levels). */
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields pino adds to every line, shown in the prefix or dropped (journald has its own pid/host). */
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/**
 * The format named by VIGIE_LOG_FORMAT: unset or empty = json; `logfmt` is taken as text.
 * @throws Error naming the accepted values, for any other value.
 */
export function logFormat(value: string | undefined): LogFormat {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'json') return 'json';
  if (v === 'text' || v === 'logfmt' || v === 'pretty') return 'text';
  throw new Error(`VIGIE_LOG_FORMAT must be json or text, got "${value}"`);
}

function fieldValue(value: unknown): string {
  if (value && typeof value === 'object' && 'message' in value && 'stack' in value)
    return fieldValue((value as { message: unknown }).message);
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  const text = typeof value === 'string' ? value : String(value);
  return /[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text;
}

/**
 * One pino JSON line as text: `2026-03-02T08:00:00.000Z INFO collector: school 0690001B offline uai=0690001B`.
 * A line that is not JSON is returned as it is.
 */
export function formatLogLine(jsonLine: string, withTime = true): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(jsonLine);
  } catch {
    return jsonLine;
  }
  if (!o || typeof o !== 'object') return jsonLine;
  const level = LEVELS[o['level'] as number] ?? String(o['level']);
  const time = withTime && typeof o['time'] === 'number' ? `${new Date(o['time']).toISOString()} ` : '';
  const name = o['name'] ? `${o['name']}: ` : '';
  const fields = Object.entries(o)
    .filter(([k, v]) => !OMITTED.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  return `${time}${level} ${name}${o['msg'] ?? ''}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}
