// The readable log format (VIGIE_LOG_FORMAT=text): one line per event for a terminal or journald,
// `[time] LEVEL (name): message {"key":"value",...}`, made by pino-pretty from pino's JSON lines after
// they are redacted (shared/log.ts). Its prettyFactory formats synchronously in the process: nothing
// is lost at exit and it works in the agent's one-file bundle (pino-pretty's transport runs in a
// worker thread loading files by path; its stream form always spreads an `err` over several lines).
import { prettyFactory } from 'pino-pretty';

export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/**
 * The format named by VIGIE_LOG_FORMAT: unset or empty = json; `logfmt` and `pretty` are taken as text.
 * @throws Error naming the accepted values, for any other value.
 */
export function logFormat(value: string | undefined): LogFormat {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'json') return 'json';
  if (v === 'text' || v === 'logfmt' || v === 'pretty') return 'text';
  throw new Error(`VIGIE_LOG_FORMAT must be json or text, got "${value}"`);
}

/**
 * pino-pretty's options for Vigie's text lines: time in UTC ISO 8601 (the process's zone never
 * matters), pid and hostname left out (journald has its own), no colours (journald, files), the
 * fields as one JSON object on the same line. An error (`err`) is shown by its message, on that line:
 * it is not one of pino-pretty's error-like keys (printed over several lines with the stack).
 */
const TEXT_OPTIONS = {
  colorize: false,
  singleLine: true,
  translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'",
  ignore: 'pid,hostname,err.type,err.stack',
  errorLikeObjectKeys: [],
};

let prettify: ((line: string) => string) | undefined;

/**
 * One pino JSON line as text, ending in '\n': `[2026-03-02T08:00:00.000Z] INFO (collector): school
 * 0690001B offline {"uai":"0690001B","from":"online"}`. A line that is not JSON is returned as it is.
 */
export function formatLogLine(jsonLine: string): string {
  prettify ??= prettyFactory(TEXT_OPTIONS);
  return prettify(jsonLine);
}
