// Secrets never printed: the key-name rule, URL credentials, printed configs and log lines.
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from '../../shared/log.ts';
import {
  describeHidden,
  isSecretName,
  isSecretPath,
  redactUrl,
  urlHasCredentials,
} from '../../shared/secrets.ts';

const logLines = (fn: (log: ReturnType<typeof createLogger>) => void) => {
  const lines: string[] = [];
  fn(createLogger('test', 'info', { write: (s: string) => lines.push(s) }));
  return lines.join('');
};

describe('which keys hold secrets', () => {
  it('goes by the name, so keys added later are covered', () => {
    for (const k of ['password', 'adminToken', 'readTokens', 'secret', 'hmacSecret', 'pass', 'apiKey'])
      expect(isSecretName(k), k).toBe(true);
    for (const k of ['privateKey', 'webhookSecret', 'Authorization', 'passphrase', 'credentials'])
      expect(isSecretName(k), k).toBe(true);
    for (const k of ['url', 'username', 'passes', 'keepaliveS', 'passwordFile', 'uai', '0'])
      expect(isSecretName(k), k).toBe(false);
    expect(isSecretPath('collector.http.auth.readTokens[0]')).toBe(true);
    expect(isSecretPath('collector.http.speedtest.secret')).toBe(true);
    expect(isSecretPath('agent.mqtt.url')).toBe(false);
    expect(isSecretPath('collector.http.auth.allowNetworks[0]')).toBe(false);
  });

  it('describes a secret value without it', () => {
    expect(describeHidden('hunter')).toBe('a string of 6 characters (hidden)');
    expect(describeHidden(12345)).toBe('a number (hidden)');
    expect(describeHidden(['a', 'b'])).toBe('a list of 2 (hidden)');
  });
});

describe('credentials inside URLs', () => {
  it('masks the password and keeps the rest', () => {
    expect(redactUrl('mqtts://school:hunter2@broker:8883')).toBe('mqtts://school:[redacted]@broker:8883');
    expect(redactUrl('http://admin:s3cr%40t@influx:8086/')).toBe('http://admin:[redacted]@influx:8086/');
    // An '@' left unencoded in the password: the URL parser takes the last one, so do we.
    expect(redactUrl('mqtt://u:p@ss@host/x')).toBe('mqtt://u:[redacted]@host/x');
    expect(redactUrl('https://h/speedtest?token=abc&db=v')).toBe('https://h/speedtest?token=[redacted]&db=v');
    expect(redactUrl('connect to ws://a:b@h:1 then http://c:d@e')).toBe(
      'connect to ws://a:[redacted]@h:1 then http://c:[redacted]@e',
    );
  });

  it('leaves URLs without credentials alone', () => {
    for (const url of [
      'http://host:8086/x@y',
      'mqtt://school@host',
      'mqtts://h:8883',
      'see http://h:1 or a@b',
    ])
      expect(redactUrl(url)).toBe(url);
    expect(urlHasCredentials('mqtts://u:p@h')).toBe(true);
    expect(urlHasCredentials('mqtts://h:8883')).toBe(false);
  });
});

describe('printed configs', () => {
  it('masks every secret-named key, lists of tokens included, and URL passwords', () => {
    const masked = redactSecrets({
      mqtt: { url: 'mqtts://school:hunter2@broker:8883', password: 'hunter2', username: 'school' },
      http: { auth: { adminToken: 'admin-token-0123456789', readTokens: ['read-token-0123456789'] } },
      speedtest: { secret: 'speedtest-secret-0123456789' },
      list: [{ token: 't' }],
    });
    const text = JSON.stringify(masked);
    for (const secret of ['hunter2', 'admin-token', 'read-token', 'speedtest-secret', '"t"'])
      expect(text).not.toContain(secret);
    expect(masked).toEqual({
      mqtt: { url: 'mqtts://school:[redacted]@broker:8883', password: '[redacted]', username: 'school' },
      http: { auth: { adminToken: '[redacted]', readTokens: '[redacted]' } },
      speedtest: { secret: '[redacted]' },
      list: [{ token: '[redacted]' }],
    });
  });
});

describe('log lines', () => {
  it('never carry a secret-named field, at any depth, nor a list of tokens', () => {
    const out = logLines((log) =>
      log.info(
        {
          config: { mqtt: { password: 'hunter2', url: 'mqtt://x' } },
          token: 'abc',
          deep: { a: { b: { c: { d: { hmacSecret: 'deep-secret' } } } } },
          readTokens: ['tok-one', 'tok-"two'],
          apiKey: 12345,
        },
        'starting',
      ),
    );
    for (const s of ['hunter2', '"abc"', 'deep-secret', 'tok-one', 'tok-', '12345'])
      expect(out).not.toContain(s);
    expect(out).toContain('[redacted]');
    expect(JSON.parse(out)).toMatchObject({ msg: 'starting', config: { mqtt: { url: 'mqtt://x' } } });
  });

  it('mask URL credentials in any field, the message and an error stack', () => {
    const out = logLines((log) => {
      log.info({ url: 'mqtts://school:hunter2@broker:8883', broker: 'wss://u:pw-two@b' }, 'connected');
      log.info('retrying http://admin:pw-three@influx:8086');
      log.error({ err: new Error('failed: http://admin:pw-four@influx:8086/write') }, 'write failed');
    });
    for (const s of ['hunter2', 'pw-two', 'pw-three', 'pw-four']) expect(out).not.toContain(s);
    expect(out).toContain('mqtts://school:[redacted]@broker:8883');
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});
