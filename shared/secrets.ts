// What counts as a secret, and how to speak of one without showing it: one rule for config errors,
// printed configs and log lines, so a secret key added later is covered without a list to update.

/**
 * Key names that hold a secret: …password, …passwd, …passphrase, …pass (nodemailer), anything with
 * secret, token or credential in it (adminToken, readTokens, hmacSecret), authorization, cookie, auth,
 * and …key (apiKey, privateKey). Matching is case-insensitive.
 */
const SECRET_NAME = /pass(?:word|wd|phrase)?s?$|secret|token|credential|authori[sz]ation|cookie|^auth$|key$/i;

/** True when a key name holds a secret (see SECRET_NAME); list indexes ("0", "[0]") never do. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * True when a key path's last key (list indexes skipped) is a secret name: `…readTokens[0]`, `…password`;
 * not `…auth.allowNetworks[0]`, whose value is no secret though it sits under `auth`.
 */
export function isSecretPath(path: string): boolean {
  const keys = path.split(/[.[\]/]+/).filter((segment) => segment !== '' && !/^\d+$/.test(segment));
  return keys.length > 0 && isSecretName(keys[keys.length - 1]!);
}

/** What a secret value is, without the value: `a string of 5 characters (hidden)`, `a number (hidden)`. */
export function describeHidden(value: unknown): string {
  if (typeof value === 'string') return `a string of ${[...value].length} characters (hidden)`;
  if (Array.isArray(value)) return `a list of ${value.length} (hidden)`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping (hidden)';
  return `a ${typeof value} (hidden)`;
}

// scheme://user:password@ — the password may hold '@' (the URL parser takes the last one before the
// path) and JSON escapes (`\"`) when the text is a log line; it ends at '/', '?', '#', space or quote.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"]*):((?:[^\s/?#"\\]|\\.)*)@/gi;
// ?token=…, &password=…: a query parameter named like a secret.
const QUERY_SECRET = /([?&])([^=&#\s"]+)=([^&#\s"]*)/g;

/**
 * Text with every credential of a URL in it masked: `mqtts://school:[redacted]@broker:8883`,
 * `https://host/x?token=[redacted]`. The user name stays (it says which account); works on a single
 * URL, on free text holding several, and on a JSON log line. Never throws.
 */
export function redactUrl(text: string): string {
  if (!text.includes('://') && !text.includes('=')) return text;
  return text
    .replace(USERINFO, (_, head: string, pw: string) => (pw === '' ? `${head}:@` : `${head}:[redacted]@`))
    .replace(QUERY_SECRET, (whole, sep: string, name: string) =>
      isSecretName(name) ? `${sep}${name}=[redacted]` : whole,
    );
}

/** True when a URL carries a password (user:password@) or a secret-named query parameter. */
export function urlHasCredentials(url: string): boolean {
  return redactUrl(url) !== url;
}

const isMapping = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A deep copy of a value (a config) with every secret-named key's value (a scalar or a list) masked
 * and every URL's credentials too. A secret-named mapping (`auth:`) is walked into, not hidden whole.
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactSecrets) as T;
  if (isMapping(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as object))
      out[k] =
        isSecretName(k) && v !== undefined && v !== null && !isMapping(v) ? '[redacted]' : redactSecrets(v);
    return out as T;
  }
  return (typeof value === 'string' ? redactUrl(value) : value) as T;
}

// A JSON member whose value is a scalar or a list of scalars: `"readTokens":["a","b"]`, `"password":"x"`.
const JSON_MEMBER =
  /"([A-Za-z0-9_$-]+)":("(?:[^"\\]|\\.)*"|\[(?:[^[\]{}"]|"(?:[^"\\]|\\.)*")*\]|-?[0-9][0-9.eE+-]*|true|false)/g;
const MAYBE_SECRET = /pass|secret|token|credential|authori|cookie|auth"|key"/i;

/**
 * One JSON log line with secrets masked: secret-named members (at any depth) become "[redacted]" and
 * URL credentials anywhere (messages, fields, error stacks) are masked. For pino's `streamWrite` hook.
 */
export function redactLogLine(line: string): string {
  let out = redactUrl(line);
  if (MAYBE_SECRET.test(out))
    out = out.replace(JSON_MEMBER, (whole, name: string) =>
      isSecretName(name) ? `"${name}":"[redacted]"` : whole,
    );
  return out;
}
