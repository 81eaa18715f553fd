// Who may do what. Readers: a read token, the admin token, or an address in an allowed network.
// Writers: the admin token only. Agents (speed test): their school's token, derived from one secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { isUai } from '../../shared/uai.ts';

export type Denial = { status: 401 | 403; message: string };

/** Constant time, so a token cannot be guessed byte by byte from response times. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** Throws with the offending entry when a CIDR does not parse, so a config typo fails at start. */
export function networkAllowList(cidrs: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [addr, bits] = cidr.split('/');
    const family = addr && isIPv4(addr) ? 'ipv4' : addr && isIPv6(addr) ? 'ipv6' : null;
    const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128))
      throw new Error(`http.auth.allowNetworks: "${cidr}" is not an address or a CIDR network`);
    list.addSubnet(addr!, prefix, family);
  }
  return (ip) => {
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    if (v4) return list.check(v4, 'ipv4');
    if (isIPv4(ip)) return list.check(ip, 'ipv4');
    return isIPv6(ip) && list.check(ip, 'ipv6');
  };
}

const LOOPBACK = /^(127\.|::1(\/|$)|::ffff:127\.)/i;

/**
 * The networks that may read without a token. Behind a reverse proxy (`trustProxy` set) loopback
 * entries are dropped: a request from loopback is then the proxy itself, or a proxy that did not say
 * who its client was, never a reader to trust by address.
 */
export function readerNetworks(allowNetworks: readonly string[], trustProxy: readonly string[]): string[] {
  return trustProxy.length ? allowNetworks.filter((cidr) => !LOOPBACK.test(cidr)) : [...allowNetworks];
}

/** A forwarding header: the request went through a proxy. */
export const forwardedBy = (headers: Record<string, unknown>): boolean =>
  headers['x-forwarded-for'] !== undefined ||
  headers.forwarded !== undefined ||
  headers['x-real-ip'] !== undefined;

export interface AccessRules {
  readTokens: readonly string[];
  adminToken?: string | undefined;
  allowed: (ip: string) => boolean;
}

const anyMatch = (token: string, secrets: readonly string[]) =>
  secrets.reduce((hit, s) => sameSecret(token, s) || hit, false);

/**
 * Reads need a token unless `ip` is in the allowed networks. `untrustedProxy`: the request carries
 * X-Forwarded-For, Forwarded or X-Real-IP and `http.trustProxy` is not set, so `ip` is a proxy's (on the
 * same host: loopback) and says nothing about the client: a token is needed.
 */
export function readDenial(
  rules: AccessRules,
  authorization: string | undefined,
  ip: string,
  untrustedProxy = false,
): Denial | null {
  const token = bearerToken(authorization);
  if (token !== null) {
    const known =
      anyMatch(token, rules.readTokens) || (rules.adminToken ? sameSecret(token, rules.adminToken) : false);
    return known ? null : { status: 401, message: 'unknown token' };
  }
  if (authorization) return { status: 401, message: 'the Authorization header must be "Bearer <token>"' };
  if (untrustedProxy)
    return {
      status: 401,
      message:
        'a token is required: this request came through a proxy (X-Forwarded-For) that http.trustProxy does not name',
    };
  return rules.allowed(ip) ? null : { status: 401, message: 'a token is required from this network' };
}

export function adminDenial(rules: AccessRules, authorization: string | undefined): Denial | null {
  if (!rules.adminToken) return { status: 403, message: 'writes are disabled: no admin token is configured' };
  const token = bearerToken(authorization);
  if (token === null)
    return { status: 401, message: 'the admin token is required (Authorization: Bearer <token>)' };
  if (sameSecret(token, rules.adminToken)) return null;
  if (anyMatch(token, rules.readTokens)) return { status: 403, message: 'a read token cannot write' };
  return { status: 401, message: 'unknown token' };
}

/**
 * A school's speed-test token: `<uai>.<mac>`, the MAC an HMAC-SHA256 of the UAI under the
 * collector's secret. The UAI in clear lets the collector check it without a table.
 */
export function speedtestToken(secret: string, uai: string): string {
  const mac = createHmac('sha256', secret).update(`vigie-speedtest:${uai}`).digest('base64url');
  return `${uai}.${mac}`;
}

export type SchoolAuth = { ok: true; uai: string } | { ok: false; message: string };

export function verifySpeedtestToken(
  secret: string,
  revoked: readonly string[],
  authorization: string | undefined,
): SchoolAuth {
  const token = bearerToken(authorization);
  if (token === null) return { ok: false, message: "the school's speed-test token is required (Bearer)" };
  const uai = token.slice(0, token.indexOf('.'));
  if (!isUai(uai)) return { ok: false, message: 'malformed speed-test token' };
  if (!sameSecret(token, speedtestToken(secret, uai))) return { ok: false, message: 'unknown token' };
  if (revoked.includes(uai)) return { ok: false, message: `the speed-test token of ${uai} is revoked` };
  return { ok: true, uai };
}
