// The http probe against real servers on loopback: plain HTTP with good and bad statuses, a hung
// service, a refused port, and HTTPS with a certificate made by openssl (trusted through `ca`, or not).
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { HttpProbe } from '../../agent/probes/http.ts';
import { createLogger } from '../../shared/log.ts';
import { decodeMetrics } from '../../shared/validate.ts';
import { freePort, requireBinary, tempDir } from '../harness/daemon.ts';

const log = createLogger('probe-test', 'silent');
const ctx = () => ({ signal: new AbortController().signal, now: () => Date.now(), log });

function rejected(...samples: unknown[]): string | undefined {
  const d = decodeMetrics(
    JSON.stringify({ v: 1, uai: '0750001U', agent: 'box', seq: 0, t: Date.now(), samples }),
  );
  return d.ok ? undefined : d.error;
}

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  if (req.url === '/down') return res.writeHead(503).end('maintenance');
  if (req.url === '/slow') return; // never answers
  if (req.url === '/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024);
    const pump = () => {
      while (res.write(chunk)) if (res.writableLength > 8 * 1024 * 1024) return;
      res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    return pump();
  }
  // A little server think time, so TTFB is measurable.
  setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ENT'), 50);
}

const CERT_DAYS = 30;
let plain: http.Server;
let secure: https.Server;
let base = '';
let secureBase = '';
let caFile = '';

beforeAll(async () => {
  const dir = tempDir('probe-http');
  caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    requireBinary('openssl'),
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      caFile,
      '-days',
      String(CERT_DAYS),
      '-subj',
      '/CN=ent.vigie.test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  plain = http.createServer(handler).listen(0, '127.0.0.1');
  secure = https
    .createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, handler)
    .listen(0, '127.0.0.1');
  await Promise.all([once(plain, 'listening'), once(secure, 'listening')]);
  base = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  secureBase = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
});

afterAll(() => {
  plain?.closeAllConnections();
  plain?.close();
  secure?.closeAllConnections();
  secure?.close();
});

describe('http probe', () => {
  it('reports status, TTFB and total time, and names failures', async () => {
    const closedPort = await freePort();
    const cfg = resolveProbesConfig({
      http: {
        requestTimeoutS: 1,
        targets: [
          { url: `${base}/`, name: 'ent' },
          { url: `${base}/down`, name: 'down' },
          { url: `${base}/down`, name: 'down-expected', okStatus: [503] },
          { url: `${base}/slow`, name: 'hung' },
          { url: `http://127.0.0.1:${closedPort}/`, name: 'refused' },
          { url: `${base}/big`, name: 'big' },
        ],
      },
    });
    const [ok, down, expected, hung, refused, big] = await new HttpProbe(cfg.http).run(ctx());
    expect(ok).toMatchObject({ probe: 'http', target: 'ent', ok: true, status: 200 });
    expect(ok!.ttfbMs).toBeGreaterThanOrEqual(45);
    expect(ok!.totalMs).toBeGreaterThanOrEqual(ok!.ttfbMs!);
    expect(ok!.certDaysLeft).toBeUndefined();
    expect(ok!.error).toBeUndefined();
    expect(down).toMatchObject({ ok: false, status: 503, error: 'HTTP_503' });
    expect(expected).toMatchObject({ ok: true, status: 503 });
    expect(hung).toMatchObject({ ok: false, status: 0, error: 'ETIMEDOUT' });
    expect(refused).toMatchObject({ ok: false, status: 0, error: 'ECONNREFUSED' });
    // The body is read up to maxBodyBytes and the rest dropped: the round still ends.
    expect(big).toMatchObject({ ok: true, status: 200 });
    expect(rejected(ok, down, expected, hung, refused, big)).toBeUndefined();
  }, 30_000);

  it('reads the certificate: days left, trusted through ca or reported untrusted', async () => {
    const cfg = resolveProbesConfig({
      http: {
        targets: [
          { url: `${secureBase}/`, name: 'trusted', ca: caFile },
          { url: `${secureBase}/`, name: 'untrusted' },
        ],
      },
    });
    const [trusted, untrusted] = await new HttpProbe(cfg.http).run(ctx());
    expect(trusted).toMatchObject({ ok: true, status: 200 });
    expect(trusted!.certDaysLeft).toBeGreaterThan(CERT_DAYS - 1);
    expect(trusted!.certDaysLeft).toBeLessThanOrEqual(CERT_DAYS);
    expect(untrusted).toMatchObject({ ok: false, status: 200, error: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(untrusted!.certDaysLeft).toBeCloseTo(trusted!.certDaysLeft!, 1);
    expect(rejected(trusted, untrusted)).toBeUndefined();
  }, 30_000);
});
