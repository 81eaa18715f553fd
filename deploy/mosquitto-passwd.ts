// Mosquitto 2.0 password file entries, byte-compatible with what `mosquitto_passwd` writes:
// `user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 hash>` (12-byte salt, 64-byte hash).
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

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

/** True when `encoded` (a `$7$` hash) was made from `password`; false for any other format. */
export function verifyPassword(password: string, encoded: string): boolean {
  const m = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(encoded);
  if (!m) return false;
  const expected = Buffer.from(m[3]!, 'base64');
  if (expected.length !== HASH_BYTES) return false;
  const actual = pbkdf2Sync(password, Buffer.from(m[2]!, 'base64'), Number(m[1]), HASH_BYTES, 'sha512');
  return timingSafeEqual(actual, expected);
}

/** Mosquitto splits each line at the first colon: a username may not contain one (nor a newline). */
export function passwordFileLine(username: string, encoded: string): string {
  if (!/^[^:\s]+$/.test(username)) throw new Error(`username "${username}" cannot go in a password file`);
  return `${username}:${encoded}`;
}
