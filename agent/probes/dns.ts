// Resolution time and result code against a named resolver (node:dns Resolver, i.e. c-ares: real DNS
// queries, never /etc/hosts, so the figure is the resolver's and not the box's cache).
import { Resolver } from 'node:dns/promises';
import type { DnsSample } from '../../shared/schemas.ts';
import type { DnsConfig, DnsQuery } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { checkWithinRound, errorCode } from './util.ts';

/** Queries in flight at most (one c-ares channel and UDP socket each). */
export const DNS_PARALLEL_MAX = 32;

/**
 * c-ares error codes to DNS result codes. NODATA (the name exists, no record of that type) is
 * NOERROR on the wire; we keep NODATA so an empty answer is not mistaken for a good one.
 */
const RCODES: Record<string, string> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'NODATA',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  EFORMERR: 'FORMERR',
  ENOTIMP: 'NOTIMP',
  ETIMEOUT: 'TIMEOUT',
  ECONNREFUSED: 'CONNREFUSED',
  EBADRESP: 'BADRESP',
  ECANCELLED: 'CANCELLED',
};

export function rcodeOf(err: unknown): string {
  const code = errorCode(err);
  return RCODES[code] ?? code;
}

/** `1.2.3.4`, `1.2.3.4:5353`, `[::1]:53` → the server string Resolver.setServers takes. */
export function resolverServer(resolver: string): string | undefined {
  return resolver === 'system' ? undefined : resolver;
}

export class DnsProbe implements Probe<DnsConfig> {
  readonly kind = 'dns' as const;
  constructor(readonly config: DnsConfig) {}

  /**
   * One sample per query, in config order: 4 at once, more when silent resolvers (each query waiting
   * its queryTimeoutS) would otherwise outlast the round (util.ts parallelToFit). Cut by `ctx.signal`,
   * the queries in flight end CANCELLED, those not started give no sample and a warning names them.
   */
  async run(ctx: ProbeContext): Promise<DnsSample[]> {
    return checkWithinRound(
      this.config.queries,
      ctx,
      {
        floor: 4,
        cap: DNS_PARALLEL_MAX,
        itemWorstS: this.config.queryTimeoutS,
        timeoutS: this.config.timeoutS,
      },
      (q) => this.query(q, ctx),
      {
        probe: 'dns',
        key: 'queries',
        name: (q) => `${q.name} @${q.resolver}`,
        en: 'queries not sent have no sample',
        fr: 'tour DNS coupé à son délai, les requêtes non envoyées n’ont pas de mesure',
      },
    );
  }

  private async query(q: DnsQuery, ctx: ProbeContext): Promise<DnsSample> {
    const resolver = new Resolver({ timeout: Math.round(this.config.queryTimeoutS * 1000), tries: 1 });
    const server = resolverServer(q.resolver);
    const t = ctx.now();
    const base = { probe: 'dns' as const, t, resolver: q.resolver, name: q.name };
    try {
      if (server) resolver.setServers([server]);
    } catch (err) {
      ctx.log.warn({ err, resolver: q.resolver }, 'bad resolver address');
      return { ...base, ok: false, rcode: 'BADSERVER' };
    }
    const onAbort = () => resolver.cancel();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const start = performance.now();
    try {
      await resolver.resolve(q.name, q.type);
      return { ...base, ok: true, rcode: 'NOERROR', timeMs: ms(performance.now() - start) };
    } catch (err) {
      const rcode = rcodeOf(err);
      // A negative answer still measures the resolver; a timeout measures nothing.
      const answered = !['TIMEOUT', 'CANCELLED', 'CONNREFUSED'].includes(rcode);
      return { ...base, ok: false, rcode, ...(answered ? { timeMs: ms(performance.now() - start) } : {}) };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }
}

const ms = (v: number) => Math.round(v * 1000) / 1000;
