import { describe, expect, it } from 'vitest';
import {
  adminDenial,
  bearerToken,
  networkAllowList,
  readDenial,
  speedtestToken,
  verifySpeedtestToken,
} from '../../collector/http/auth.ts';

const READ = 'read-token-0123456789';
const ADMIN = 'admin-token-0123456789';

describe('network allow-list', () => {
  const allowed = networkAllowList([
    '127.0.0.0/8',
    '198.18.4.0/24',
    '::1/128',
    '2001:db8::/32',
    '198.18.9.9',
  ]);

  it('matches IPv4, IPv6, IPv4-mapped IPv6 and single addresses', () => {
    expect(allowed('127.0.0.1')).toBe(true);
    expect(allowed('198.18.4.77')).toBe(true);
    expect(allowed('198.18.5.1')).toBe(false);
    expect(allowed('::ffff:198.18.4.2')).toBe(true);
    expect(allowed('::ffff:198.18.5.2')).toBe(false);
    expect(allowed('::1')).toBe(true);
    expect(allowed('2001:db8:1::5')).toBe(true);
    expect(allowed('2001:db9::5')).toBe(false);
    expect(allowed('198.18.9.9')).toBe(true);
    expect(allowed('198.18.9.10')).toBe(false);
    expect(allowed('not an ip')).toBe(false);
  });

  it('refuses a malformed network at start, naming it', () => {
    expect(() => networkAllowList(['10.0.0.0/33'])).toThrow(/"10.0.0.0\/33"/);
    expect(() => networkAllowList(['example.org/24'])).toThrow(/not an address or a CIDR/);
  });
});

describe('read and admin access', () => {
  const rules = { readTokens: [READ], adminToken: ADMIN, allowed: networkAllowList(['198.18.0.0/15']) };

  it('lets readers in by token or network, and says why not', () => {
    expect(readDenial(rules, `Bearer ${READ}`, '203.0.113.9')).toBeNull();
    expect(readDenial(rules, `Bearer ${ADMIN}`, '203.0.113.9')).toBeNull();
    expect(readDenial(rules, undefined, '198.18.1.1')).toBeNull();
    expect(readDenial(rules, undefined, '203.0.113.9')).toEqual({
      status: 401,
      message: 'a token is required from this network',
    });
    // A wrong token is refused even from an allowed network: it is a mistake worth seeing.
    expect(readDenial(rules, 'Bearer nope', '198.18.1.1')).toEqual({ status: 401, message: 'unknown token' });
    expect(readDenial(rules, `Basic ${READ}`, '198.18.1.1')?.status).toBe(401);
  });

  it('needs the admin token to write', () => {
    expect(adminDenial(rules, `Bearer ${ADMIN}`)).toBeNull();
    expect(adminDenial(rules, `Bearer ${READ}`)).toEqual({
      status: 403,
      message: 'a read token cannot write',
    });
    expect(adminDenial(rules, undefined)?.status).toBe(401);
    expect(adminDenial(rules, 'Bearer admin-token-012345678')?.status).toBe(401);
    expect(adminDenial({ ...rules, adminToken: undefined }, `Bearer ${ADMIN}`)?.status).toBe(403);
  });

  it('parses the bearer header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc  ')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('speed-test tokens', () => {
  const secret = 'a-secret-of-sixteen+';

  it("derives one token per school that only that school's UAI verifies", () => {
    const a = speedtestToken(secret, '0690001B');
    expect(a.startsWith('0690001B.')).toBe(true);
    expect(verifySpeedtestToken(secret, [], `Bearer ${a}`)).toEqual({ ok: true, uai: '0690001B' });
    expect(speedtestToken(secret, '0690002C')).not.toBe(a);
    const swapped = `0690002C.${a.split('.')[1]}`;
    expect(verifySpeedtestToken(secret, [], `Bearer ${swapped}`)).toEqual({
      ok: false,
      message: 'unknown token',
    });
    expect(verifySpeedtestToken('another-secret-000', [], `Bearer ${a}`).ok).toBe(false);
  });

  it('refuses revoked schools, malformed tokens and missing headers with a reason', () => {
    const a = speedtestToken(secret, '0690001B');
    expect(verifySpeedtestToken(secret, ['0690001B'], `Bearer ${a}`)).toEqual({
      ok: false,
      message: 'the speed-test token of 0690001B is revoked',
    });
    expect(verifySpeedtestToken(secret, [], 'Bearer 0690001A.xyz')).toEqual({
      ok: false,
      message: 'malformed speed-test token',
    });
    expect(verifySpeedtestToken(secret, [], undefined).ok).toBe(false);
  });
});
