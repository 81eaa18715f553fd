// Reachability of the web services teachers use: status, time to first byte, total time, and the
// TLS certificate's days left. node:http(s) rather than undici: it exposes the TLS socket, so an
// expired or untrusted certificate is still read and reported (ok=false) instead of only failing.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { HttpSample } from '../../shared/schemas.ts';
import { parseHttpDate } from '../../shared/time.ts';
import type { HttpConfig, HttpTarget } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { checkWithinRound, errorCode } from './util.ts';

/** Requests in flight at most: each may read up to maxBodyBytes over the school's own link. */
export const HTTP_PARALLEL_MAX = 16;

const DAY_MS = 86_400_000;

/** Days (2 decimals) from `now` to a certificate's `valid_to` (`Mar  1 12:00:00 2027 GMT`, UTC), or undefined. */
export function certDaysLeft(validTo: string, now: number): number | undefined {
  const end = parseHttpDate(validTo);
  return end === undefined ? undefined : Math.round(((end - now) / DAY_MS) * 100) / 100;
}

export function statusOk(status: number, okStatus?: readonly number[]): boolean {
  return okStatus?.length ? okStatus.includes(status) : status >= 200 && status < 400;
}

export class HttpProbe implements Probe<HttpConfig> {
  readonly kind = 'http' as const;
  private readonly cas = new Map<string, Buffer>();
  constructor(readonly config: HttpConfig) {}

  /**
   * One sample per target, in config order: 4 at once, more when silent hosts (each request waiting
   * its requestTimeoutS) would otherwise outlast the round (util.ts parallelToFit). Cut by `ctx.signal`,
   * the requests in flight end ABORTED, those not started give no sample and a warning names them.
   */
  async run(ctx: ProbeContext): Promise<HttpSample[]> {
    return checkWithinRound(
      this.config.targets,
      ctx,
      {
        floor: 4,
        cap: HTTP_PARALLEL_MAX,
        itemWorstS: this.config.requestTimeoutS,
        timeoutS: this.config.timeoutS,
      },
      (target) => this.fetch(target, ctx),
      {
        probe: 'http',
        key: 'targets',
        name: (x) => x.name ?? x.url,
        en: 'targets not requested have no sample',
        fr: 'tour HTTP coupé à son délai, les cibles non interrogées n’ont pas de mesure',
      },
    );
  }

  private ca(file: string): Buffer {
    let pem = this.cas.get(file);
    if (!pem) {
      pem = readFileSync(file);
      this.cas.set(file, pem);
    }
    return pem;
  }

  private fetch(target: HttpTarget, ctx: ProbeContext): Promise<HttpSample> {
    const t = ctx.now();
    const label = target.name ?? target.url;
    const start = performance.now();
    const elapsed = () => Math.round((performance.now() - start) * 1000) / 1000;
    return new Promise<HttpSample>((resolve) => {
      let certDays: number | undefined;
      let tlsError: string | undefined;
      let ttfbMs: number | undefined;
      let settled = false;
      const finish = (s: Omit<HttpSample, 'probe' | 't' | 'target'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({
          probe: 'http',
          t,
          target: label,
          ...s,
          ...(certDays === undefined ? {} : { certDaysLeft: certDays }),
        });
      };
      let url: URL;
      let ca: Buffer | undefined;
      try {
        url = new URL(target.url);
        ca = target.ca ? this.ca(target.ca) : undefined;
      } catch (err) {
        finish({ ok: false, status: 0, error: errorCode(err, 'EINVAL') });
        return;
      }
      const isHttps = url.protocol === 'https:';
      const req = (isHttps ? https : http).request(url, {
        method: target.method,
        headers: { 'user-agent': 'vigie-agent', accept: '*/*' },
        // We judge the certificate ourselves below, to report days left even when it is bad.
        ...(isHttps ? { rejectUnauthorized: false, ...(ca ? { ca } : {}), agent: false } : { agent: false }),
      });
      const fail = (code: string) => finish({ ok: false, status: 0, error: code, totalMs: elapsed() });
      const timer = setTimeout(() => {
        fail('ETIMEDOUT');
        req.destroy();
      }, this.config.requestTimeoutS * 1000);
      const onAbort = () => {
        fail('ABORTED');
        req.destroy();
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      req.on('socket', (socket) => {
        if (!isHttps) return;
        socket.once('secureConnect', () => {
          const tls = socket as TLSSocket;
          const cert = tls.getPeerCertificate();
          if (cert?.valid_to) certDays = certDaysLeft(cert.valid_to, ctx.now());
          if (!tls.authorized) tlsError = String(tls.authorizationError ?? 'TLS').slice(0, 64);
        });
      });
      req.on('error', (err) => fail(errorCode(err)));
      req.on('response', (res) => {
        ttfbMs = elapsed();
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > this.config.maxBodyBytes) res.destroy();
        });
        const done = () => {
          const status = res.statusCode ?? 0;
          const ok = statusOk(status, target.okStatus) && !tlsError;
          finish({
            ok,
            status,
            ttfbMs,
            totalMs: elapsed(),
            ...(tlsError ? { error: tlsError } : ok ? {} : { error: `HTTP_${status}` }),
          });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => done());
      });
      req.end();
    });
  }
}
