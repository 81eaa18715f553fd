// Uplink throughput from byte counters: the box's own interfaces (systeminformation) and the
// router's IF-MIB ifHCInOctets/ifHCOutOctets over SNMP; rates as bits/s and % of the contract.
import { access } from 'node:fs/promises';
import { machine } from 'node:os';
import si from 'systeminformation';
import type { WanSample } from '../../shared/schemas.ts';
import type { WanConfig, WanRouter } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { type CounterReading, counterRate, kernelCounterWidth } from './counters.ts';
import { readDefaultRoute } from './route.ts';
import { decodeCounter64, OID, rowIndex, SnmpClient, snmpErrorCode } from './snmp.ts';

/** systeminformation serves cached counters to calls under 500 ms apart. */
const BOX_PRIME_MS = 1100;

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface ContractedMbps {
  down: number;
  up: number;
}

/** The latest uplink load, shared with the speedtest probe so it can skip when the link is busy. */
export class LinkLoad {
  private latest: { t: number; inPct?: number; outPct?: number; inBps: number; outBps: number } | undefined;

  record(s: WanSample): void {
    if (s.counterReset) return;
    this.latest = {
      t: s.t,
      inBps: s.inBps,
      outBps: s.outBps,
      ...(s.inPct === undefined ? {} : { inPct: s.inPct }),
      ...(s.outPct === undefined ? {} : { outPct: s.outPct }),
    };
  }

  /** Highest % of contract either way, if a rate younger than maxAgeMs is known and a contract is set. */
  busiestPct(now: number, maxAgeMs: number): number | undefined {
    const l = this.latest;
    if (!l || now - l.t > maxAgeMs || (l.inPct === undefined && l.outPct === undefined)) return undefined;
    return Math.max(l.inPct ?? 0, l.outPct ?? 0);
  }
}

export function withContract(
  base: Omit<WanSample, 'inPct' | 'outPct'>,
  contract: ContractedMbps | undefined,
): WanSample {
  if (!contract || base.counterReset) return base;
  const pct = (bps: number, mbps: number) => Math.round((bps / (mbps * 1e6)) * 100_000) / 1000;
  return {
    ...base,
    ...(contract.down > 0 ? { inPct: pct(base.inBps, contract.down) } : {}),
    ...(contract.up > 0 ? { outPct: pct(base.outBps, contract.up) } : {}),
  };
}

export interface WanDeps {
  contractedMbps?: ContractedMbps | undefined;
  linkLoad?: LinkLoad;
}

export class WanProbe implements Probe<WanConfig> {
  readonly kind = 'wan' as const;
  private readonly previous = new Map<string, CounterReading>();
  private readonly ifIndexes = new Map<string, Map<string | number, number>>();
  private readonly boxWidth = kernelCounterWidth(machine());

  constructor(
    readonly config: WanConfig,
    private readonly deps: WanDeps = {},
  ) {}

  async run(ctx: ProbeContext): Promise<WanSample[]> {
    const [box, routers] = await Promise.all([
      this.readBox(ctx),
      Promise.all(this.config.routers.map((r) => this.readRouter(r, ctx))),
    ]);
    const samples = [...box, ...routers.flat()];
    for (const s of samples) this.deps.linkLoad?.record(s);
    return samples;
  }

  /** One sample per counter pair; nothing on a router's first reading (a rate needs two). */
  private rate(key: string, source: 'box' | 'snmp', iface: string, next: CounterReading, width: 32 | 64) {
    const prev = this.previous.get(key);
    this.previous.set(key, next);
    const r = counterRate(prev, next, { width, maxBps: this.config.maxMbps * 1e6 });
    if (!r) return [];
    return [
      withContract(
        {
          probe: 'wan',
          t: next.t,
          source,
          iface,
          inBps: r.inBps,
          outBps: r.outBps,
          ...(r.counterReset ? { counterReset: true } : {}),
        },
        this.deps.contractedMbps,
      ),
    ];
  }

  private async readBox(ctx: ProbeContext): Promise<WanSample[]> {
    const out: WanSample[] = [];
    for (const name of this.config.interfaces) {
      const iface = name === 'default' ? (await readDefaultRoute())?.iface : name;
      if (!iface) {
        ctx.log.debug('wan: no default route, no box interface to count');
        continue;
      }
      const key = `box:${iface}`;
      let reading = await this.boxCounters(iface, ctx);
      if (!reading) continue;
      if (!this.previous.has(key)) {
        // Prime with a second reading shortly after, so the first round (and `--once`) has a rate.
        this.previous.set(key, reading);
        await abortableSleep(BOX_PRIME_MS, ctx.signal);
        reading = await this.boxCounters(iface, ctx);
        if (!reading) continue;
      }
      out.push(...this.rate(key, 'box', iface, reading, this.boxWidth));
    }
    return out;
  }

  private async boxCounters(iface: string, ctx: ProbeContext): Promise<CounterReading | undefined> {
    try {
      await access(`/sys/class/net/${iface}`);
    } catch {
      ctx.log.warn({ iface }, 'wan: no such interface on this box');
      return undefined;
    }
    // Named interfaces only: '*' makes systeminformation list every interface synchronously.
    const [stats] = await si.networkStats(iface);
    if (!stats || stats.iface !== iface) return undefined;
    return { t: ctx.now(), inOctets: BigInt(stats.rx_bytes), outOctets: BigInt(stats.tx_bytes) };
  }

  private async resolveIfIndex(client: SnmpClient, router: WanRouter, wanted: string | number) {
    if (typeof wanted === 'number') return wanted;
    let names = this.ifIndexes.get(router.host);
    if (!names?.has(wanted)) {
      names = new Map();
      for (const col of [OID.ifDescr, OID.ifName]) {
        for (const [oid, value] of await client.walk(col, 1024)) names.set(String(value), rowIndex(oid));
      }
      this.ifIndexes.set(router.host, names);
    }
    return names.get(wanted);
  }

  private async readRouter(router: WanRouter, ctx: ProbeContext): Promise<WanSample[]> {
    // A walk and a GET per interface, each with one retry, must fit in the probe's timeout.
    const client = new SnmpClient(router, Math.min(5000, (this.config.timeoutS * 1000) / 8), ctx.signal);
    const label = router.name ?? router.host;
    const out: WanSample[] = [];
    try {
      for (const wanted of router.interfaces) {
        const index = await this.resolveIfIndex(client, router, wanted);
        if (index === undefined) {
          ctx.log.warn({ router: label, iface: wanted }, 'wan: router has no such interface');
          continue;
        }
        const inOid = `${OID.ifHCInOctets}.${index}`;
        const outOid = `${OID.ifHCOutOctets}.${index}`;
        const values = await client.get([OID.sysUpTime, inOid, outOid]);
        const t = ctx.now();
        if (!values.has(inOid) || !values.has(outOid)) {
          ctx.log.warn(
            { router: label, iface: wanted },
            'wan: router gives no ifHC counters (IF-MIB ifXTable)',
          );
          continue;
        }
        const reading: CounterReading = {
          t,
          inOctets: decodeCounter64(values.get(inOid)),
          outOctets: decodeCounter64(values.get(outOid)),
          ...(typeof values.get(OID.sysUpTime) === 'number'
            ? { uptimeTicks: values.get(OID.sysUpTime) as number }
            : {}),
        };
        const iface = `${label}:${wanted}`;
        out.push(...this.rate(`snmp:${router.host}:${router.port}:${index}`, 'snmp', iface, reading, 64));
      }
    } catch (err) {
      ctx.log.warn({ router: label, code: snmpErrorCode(err) }, 'wan: router did not answer');
    } finally {
      client.close();
    }
    return out;
  }
}
