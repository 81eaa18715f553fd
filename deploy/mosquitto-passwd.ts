// Mosquitto 2.0 password file entries, byte-compatible with what `mosquitto_passwd` writes:
// `user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 hash>` (12-byte salt, 64-byte hash).
import { pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

const SALT_BYTES = 12;
const HASH_BYTES = 64;
/**
 * mosquitto_passwd's default. Enrolled passwords are 256 random bits, so stretching adds nothing
 * against guessing, while a high count would cost the broker CPU when hundreds of schools reconnect at once.
 */
export const DEFAULT_ITERATIONS = 101;

export function hashPassword(
  password: string,
  iterations = DEFAULT_ITERATIONS,
  salt = randomBytes(SALT_BYTES),
): string {
  const hash = pbkdf2Sync(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

const HASH_RE = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;
/** Past this, one login would hold the broker's CPU for long: no tool writes more. */
const MAX_ITERATIONS = 1_000_000;

interface Hash7 {
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

function parseHash(encoded: string): Hash7 | null {
  const m = HASH_RE.exec(encoded);
  if (!m) return null;
  const iterations = Number(m[1]);
  const hash = Buffer.from(m[3]!, 'base64');
  if (hash.length !== HASH_BYTES || iterations < 1 || iterations > MAX_ITERATIONS) return null;
  return { iterations, salt: Buffer.from(m[2]!, 'base64'), hash };
}

/** True when `encoded` (a `$7$` hash) was made from `password`; false for any other format. */
export function verifyPassword(password: string, encoded: string): boolean {
  const h = parseHash(encoded);
  if (!h) return false;
  return timingSafeEqual(pbkdf2Sync(password, h.salt, h.iterations, HASH_BYTES, 'sha512'), h.hash);
}

/** verifyPassword off the event loop (the embedded broker checks logins while it carries traffic). */
export async function verifyPasswordAsync(password: string, encoded: string): Promise<boolean> {
  const h = parseHash(encoded);
  if (!h) return false;
  return timingSafeEqual(await pbkdf2Async(password, h.salt, h.iterations, HASH_BYTES, 'sha512'), h.hash);
}

export interface PasswordFileProblem {
  /** 1-based line number. */
  line: number;
  message: string;
}

/**
 * Reads a password file as Mosquitto does (`user:hash` a line, blank lines skipped). A line that
 * cannot be used is reported and left out; every other account is kept.
 * @returns the `$7$` hash of each username, and the problems, by line.
 */
export function parsePasswordFile(text: string): {
  hashes: Map<string, string>;
  problems: PasswordFileProblem[];
} {
  const hashes = new Map<string, string>();
  const problems: PasswordFileProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const problem = (message: string) => problems.push({ line: i + 1, message });
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const encoded = line.slice(colon + 1);
    if (colon <= 0) problem('expected `username:hash`, found no username before a colon');
    else if (hashes.has(user)) problem(`user "${user}" is listed again; the first line is kept`);
    else if (!parseHash(encoded))
      problem(
        `user "${user}": the hash is not a $7$ PBKDF2-SHA512 hash as \`vigie enroll\` and mosquitto_passwd 2.0 write it`,
      );
    else hashes.set(user, encoded);
  }
  return { hashes, problems };
}

/** Mosquitto splits each line at the first colon: a username may not contain one (nor a newline). */
export function passwordFileLine(username: string, encoded: string): string {
  if (!/^[^:\s]+$/.test(username)) throw new Error(`username "${username}" cannot go in a password file`);
  return `${username}:${encoded}`;
}
