// The broker's access rules as both brokers apply them (deploy/acl.ts), the password file reader the
// embedded broker uses, and where the embedded broker may listen with what it is given.
import { describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { embeddedBrokerProblems, isLoopbackHost } from '../../collector/embedded-broker-config.ts';
import { filterCovers, filterMatches, mayPublish, maySubscribe } from '../../deploy/acl.ts';
import { COLLECTOR_USER } from '../../deploy/enrollment.ts';
import { hashPassword, parsePasswordFile } from '../../deploy/mosquitto-passwd.ts';
import { ConfigError } from '../../shared/config.ts';

const A = '0690001B';
const B = '0380042P';

describe('topic filters', () => {
  it('match as MQTT says, # also matching its parent level and no wildcard first level matching $SYS', () => {
    expect(filterMatches('vigie/v1/#', 'vigie/v1/x/y')).toBe(true);
    expect(filterMatches('vigie/v1/#', 'vigie/v1')).toBe(true);
    expect(filterMatches('vigie/v1/+/+/metrics', `vigie/v1/${A}/box/metrics`)).toBe(true);
    expect(filterMatches('vigie/v1/+/+/metrics', `vigie/v1/${A}/box/status`)).toBe(false);
    expect(filterMatches('vigie/v1/+', `vigie/v1/${A}/box`)).toBe(false);
    expect(filterMatches('#', '$SYS/broker/uptime')).toBe(false);
    expect(filterMatches('+/broker/uptime', '$SYS/broker/uptime')).toBe(false);
    expect(filterMatches('$SYS/#', '$SYS/broker/uptime')).toBe(true);
  });

  it('cover a subscription only when every topic it matches is matched', () => {
    expect(filterCovers('vigie/v1/#', 'vigie/v1/+/+/metrics')).toBe(true);
    expect(filterCovers('vigie/v1/#', 'vigie/v1/#')).toBe(true);
    expect(filterCovers('vigie/v1/#', `vigie/v1/${A}`)).toBe(true);
    expect(filterCovers('vigie/v1/#', '#')).toBe(false);
    expect(filterCovers('vigie/v1/#', 'vigie/#')).toBe(false);
    expect(filterCovers('vigie/v1/#', '+/v1/#')).toBe(false);
    expect(filterCovers(`vigie/v1/${A}/#`, 'vigie/v1/+/box/metrics')).toBe(false);
    expect(filterCovers('vigie/v1/+/box', 'vigie/v1/+/box')).toBe(true);
    expect(filterCovers('vigie/v1/+/box', 'vigie/v1/+/#')).toBe(false);
    expect(filterCovers('#', '$SYS/#')).toBe(false);
    expect(filterCovers('$SYS/#', '$SYS/broker/uptime')).toBe(true);
  });
});

describe('what an account may do', () => {
  it('lets a school publish under its own UAI only', () => {
    expect(mayPublish(A, `vigie/v1/${A}/box/metrics`)).toBe(true);
    expect(mayPublish(A, `vigie/v1/${B}/box/metrics`)).toBe(false);
    // A UAI that starts like A's is another school.
    expect(mayPublish(A, `vigie/v1/${A}X/box/metrics`)).toBe(false);
    expect(mayPublish(A, 'vigie/v1/+/box/metrics')).toBe(false);
    expect(mayPublish(A, '$SYS/broker/uptime')).toBe(false);
  });

  it('confines no name holding a level separator or a wildcard: it could reach into another school', () => {
    for (const name of [`${B}/box`, '+', '#', `${A}/#`, ''])
      expect(mayPublish(name, `vigie/v1/${B}/box/metrics`), name).toBe(false);
    // Names that are also properties of every JavaScript object get the pattern, nothing more.
    for (const name of ['constructor', '__proto__', 'toString']) {
      expect(mayPublish(name, `vigie/v1/${name}/box/metrics`), name).toBe(true);
      expect(maySubscribe(name, 'vigie/v1/#'), name).toBe(false);
    }
  });

  it('lets the collector read every school and publish nothing; schools read nothing, even their own', () => {
    expect(maySubscribe(COLLECTOR_USER, 'vigie/v1/+/+/metrics')).toBe(true);
    expect(maySubscribe(COLLECTOR_USER, '$SYS/broker/uptime')).toBe(true);
    expect(maySubscribe(COLLECTOR_USER, '#')).toBe(false);
    expect(mayPublish(COLLECTOR_USER, `vigie/v1/${A}/box/metrics`)).toBe(false);
    expect(maySubscribe(A, `vigie/v1/${A}/#`)).toBe(false);
    expect(maySubscribe(A, 'vigie/v1/#')).toBe(false);
  });
});

describe('password file', () => {
  it('keeps every usable line and names each other one by its number', () => {
    const good = hashPassword('secret', 101);
    const text = [
      `${A}:${good}`,
      'no-colon-here',
      '',
      `${B}:$6$c2FsdA==$aGFzaA==`,
      `${A}:${hashPassword('other', 101)}`,
      ':orphan-hash',
      `${COLLECTOR_USER}:${good}\r`,
    ].join('\n');
    const { hashes, problems } = parsePasswordFile(text);
    expect([...hashes.keys()]).toEqual([A, COLLECTOR_USER]);
    expect(hashes.get(A)).toBe(good);
    expect(problems.map((p) => p.line)).toEqual([2, 4, 5, 6]);
    expect(problems[1]!.message).toContain(`user "${B}"`);
    expect(problems[1]!.message).toContain('$7$');
    expect(problems[2]!.message).toContain('listed again');
  });
});

describe('where the embedded broker listens', () => {
  it('tells loopback from the rest', () => {
    for (const host of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1', 'localhost'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [
      '0.0.0.0',
      '::',
      '198.18.0.1',
      '::ffff:198.18.0.1',
      'collector.example.org',
      '128.0.0.1',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('listens on loopback by default', () => {
    expect(resolveCollectorConfig({}).broker.host).toBe('127.0.0.1');
  });

  it('refuses a host beyond loopback without accounts and TLS, before anything starts, saying what to set', () => {
    for (const host of ['0.0.0.0', '::', '198.18.0.1', 'collector.example.org']) {
      let err: unknown;
      try {
        resolveCollectorConfig({ broker: { host } });
      } catch (e) {
        err = e;
      }
      expect(err, host).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toContain('collector.broker.passwordFile');
      expect(message).toContain('collector.broker.tls');
      expect(message).toContain(`"${host}"`);
      expect(message).toContain('vigie enroll');
      expect(message).toContain('127.0.0.1');
    }
    // Accounts without TLS: the passwords would travel in clear.
    const half = embeddedBrokerProblems({ host: '0.0.0.0', port: 1883, passwordFile: '/p' });
    expect(half.map((p) => p.path)).toEqual(['collector.broker.tls']);
    const full = { host: '0.0.0.0', port: 1883, passwordFile: '/p', tls: { cert: '/c', key: '/k' } };
    expect(resolveCollectorConfig({ broker: full }).broker).toEqual(full);
    // With a broker URL the embedded broker does not run: its block is not checked.
    expect(() =>
      resolveCollectorConfig({ mqtt: { url: 'mqtts://mqtt.example.org:8883' }, broker: { host: '0.0.0.0' } }),
    ).not.toThrow();
  });
});
