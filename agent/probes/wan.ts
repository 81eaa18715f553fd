// Uplink throughput from byte counters: the box's own interfaces (systeminformation) and the
// router's IF-MIB ifHCInOctets/ifHCOutOctets (or 32-bit ifIn/OutOctets) over SNMP; rates as bits/s
// and % of the contract.
import { access, readFile } from 'node:fs/promises';
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

/** The first number in a small /proc or /sys file, or undefined (absent, EINVAL, not a number). */
async function readNumber(path: string): Promise<number | undefined> {
  try {
    const n = Number.parseFloat(await readFile(path, 'utf8'));
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the box knows of an interface besides its counters: its ifindex (changes when the interface
 * is re-created, counters from 0), its speed (only for a physical device: tun reports a fixed 10 Mbit/s,
 * Wi-Fi and down links none) and the uptime (/proc/uptime, CLOCK_BOOTTIME: no clock step moves it).
 */
async function boxInterfaceState(
  iface: string,
): Promise<Omit<CounterReading, 't' | 'inOctets' | 'outOctets'>> {
  const dir = `/sys/class/net/${iface}`;
  const [uptimeS, ifindex, physical] = await Promise.all([
    readNumber('/proc/uptime'),
    readNumber(`${dir}/ifindex`),
    access(`${dir}/device`).then(
      () => true,
      () => false,
    ),
  ]);
  const speedMbps = physical ? await readNumber(`${dir}/speed`) : undefined;
  return {
    ...(uptimeS === undefined ? {} : { uptimeTicks: Math.round(uptimeS * 100) }),
    ...(ifindex === undefined ? {} : { discontinuity: ifindex }),
    ...(speedMbps !== undefined && speedMbps > 0 ? { linkBps: speedMbps * 1e6 } : {}),
  };
}

/**
 * The objects read per router interface in one GET. An SNMPv1 GET fails whole on one missing object,
 * and v1 cannot carry Counter64 (RFC 3584: a v1 agent answers noSuchName for one): a v1 router is
 * asked its ifTable only.
 */
export function routerOids(index: number, version: '1' | '2c'): string[] {
  const ifTable = [OID.ifInOctets, OID.ifOutOctets, OID.ifSpeed].map((c) => `${c}.${index}`);
  if (version === '1') return [OID.sysUpTime, ...ifTable];
  const ifXTable = [OID.ifHCInOctets, OID.ifHCOutOctets, OID.ifHighSpeed, OID.ifCounterDiscontinuityTime];
  return [OID.sysUpTime, ...ifXTable.map((c) => `${c}.${index}`), ...ifTable];
}

/**
 * One interface's reading from a GET of routerOids: the 64-bit ifHC* pair when the router has it, else
 * the Counter32 ifIn/OutOctets pair; undefined when it has neither. Link speed from ifHighSpeed (Mbit/s)
 * or ifSpeed (bit/s; 0 is unknown, 2^32-1 only says "faster", RFC 2863 §6).
 */
export function routerReading(
  values: Map<string, unknown>,
  index: number,
  t: number,
): { reading: CounterReading; width: 32 | 64 } | undefined {
  const at = (column: string) => values.get(`${column}.${index}`);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const hc = [at(OID.ifHCInOctets), at(OID.ifHCOutOctets)];
  const c32 = [at(OID.ifInOctets), at(OID.ifOutOctets)];
  const [pair, width] = hc.every((v) => v !== undefined)
    ? ([hc, 64] as const)
    : c32.every((v) => v !== undefined)
      ? ([c32, 32] as const)
      : [undefined, undefined];
  if (!pair) return undefined;
  const highMbps = num(at(OID.ifHighSpeed)) ?? 0;
  const speed = num(at(OID.ifSpeed)) ?? 0;
  const linkBps = highMbps > 0 ? highMbps * 1e6 : speed > 0 && speed < 2 ** 32 - 1 ? speed : undefined;
  const uptime = num(values.get(OID.sysUpTime));
  const discontinuity = num(at(OID.ifCounterDiscontinuityTime));
  return {
    width,
    reading: {
      t,
      inOctets: decodeCounter64(pair[0]),
      outOctets: decodeCounter64(pair[1]),
      ...(uptime === undefined ? {} : { uptimeTicks: uptime }),
      ...(discontinuity === undefined ? {} : { discontinuity }),
      ...(linkBps === undefined ? {} : { linkBps }),
    },
  };
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
  private rate(
    key: string,
    source: 'box' | 'snmp',
    iface: string,
    next: CounterReading,
    width: 32 | 64,
    ctx: ProbeContext,
  ) {
    // A router that gains or loses its 64-bit counters starts a new series: widths never mix.
    const series = `${key}:${width}`;
    const prev = this.previous.get(series);
    this.previous.set(series, next);
    const contract = this.deps.contractedMbps;
    const r = counterRate(prev, next, {
      width,
      maxBps: this.config.maxMbps * 1e6,
      contractBps: contract && { in: contract.down * 1e6, out: contract.up * 1e6 },
    });
    if (!r) return [];
    if (r.counterReset)
      ctx.log.info({ iface, source, width, reason: r.reason }, 'wan: counters reset, no rate');
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
      if (!this.previous.has(`${key}:${this.boxWidth}`)) {
        // Prime with a second reading shortly after, so the first round (and `--once`) has a rate.
        this.previous.set(`${key}:${this.boxWidth}`, reading);
        await abortableSleep(BOX_PRIME_MS, ctx.signal);
        reading = await this.boxCounters(iface, ctx);
        if (!reading) continue;
      }
      out.push(...this.rate(key, 'box', iface, reading, this.boxWidth, ctx));
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
    return {
      t: ctx.now(),
      inOctets: BigInt(stats.rx_bytes),
      outOctets: BigInt(stats.tx_bytes),
      ...(await boxInterfaceState(iface)),
    };
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
        const values = await client.get(routerOids(index, router.version));
        const read = routerReading(values, index, ctx.now());
        if (!read) {
          ctx.log.warn({ router: label, iface: wanted }, 'wan: router gives no octet counters (IF-MIB)');
          continue;
        }
        const iface = `${label}:${wanted}`;
        const key = `snmp:${router.host}:${router.port}:${index}`;
        out.push(...this.rate(key, 'snmp', iface, read.reading, read.width, ctx));
      }
    } catch (err) {
      ctx.log.warn({ router: label, code: snmpErrorCode(err) }, 'wan: router did not answer');
    } finally {
      client.close();
    }
    return out;
  }
}
