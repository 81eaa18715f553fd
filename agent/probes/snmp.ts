// A thin promise layer over net-snmp for the wan and wifi probes.
import snmp from 'net-snmp';

export const OID = {
  sysUpTime: '1.3.6.1.2.1.1.3.0',
  ifDescr: '1.3.6.1.2.1.2.2.1.2',
  /** Gauge32, bit/s; 0 = unknown, 2^32-1 = faster (see ifHighSpeed). */
  ifSpeed: '1.3.6.1.2.1.2.2.1.5',
  ifOperStatus: '1.3.6.1.2.1.2.2.1.8',
  /** Counter32: what an SNMPv1 agent, or one without ifXTable, offers. */
  ifInOctets: '1.3.6.1.2.1.2.2.1.10',
  ifOutOctets: '1.3.6.1.2.1.2.2.1.16',
  ifName: '1.3.6.1.2.1.31.1.1.1.1',
  ifHCInOctets: '1.3.6.1.2.1.31.1.1.1.6',
  ifHCOutOctets: '1.3.6.1.2.1.31.1.1.1.10',
  /** Gauge32, Mbit/s. */
  ifHighSpeed: '1.3.6.1.2.1.31.1.1.1.15',
  /** TimeStamp: sysUpTime at the interface's last counter discontinuity (RFC 2863 §6). */
  ifCounterDiscontinuityTime: '1.3.6.1.2.1.31.1.1.1.19',
} as const;

export interface SnmpEndpoint {
  host: string;
  port: number;
  community: string;
  version: '1' | '2c';
}

/** Counter64 arrives as a big-endian Buffer of minimal length (1 to 9 bytes): read it unsigned. */
export function decodeCounter64(value: unknown): bigint {
  if (Buffer.isBuffer(value)) {
    let n = 0n;
    for (const byte of value) n = (n << 8n) | BigInt(byte);
    return n;
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return BigInt(Math.trunc(value));
  if (typeof value === 'bigint') return value;
  throw new TypeError(`not a counter value: ${typeof value}`);
}

/** Lexicographic order of OIDs as sub-identifier arrays: negative, 0 or positive. */
function compareOids(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Last sub-identifier of a table column's instance OID: the ifIndex. */
export const rowIndex = (oid: string) => Number(oid.slice(oid.lastIndexOf('.') + 1));

export class SnmpClient {
  private readonly session: snmp.Session;

  /** Closing on abort fails the requests in flight at once: a cut probe leaves no session behind. */
  constructor(ep: SnmpEndpoint, timeoutMs: number, signal?: AbortSignal) {
    this.session = snmp.createSession(ep.host, ep.community, {
      port: ep.port,
      version: ep.version === '1' ? snmp.Version1 : snmp.Version2c,
      timeout: timeoutMs,
      retries: 1,
    });
    // A late response after close, or an ICMP error, is reported here: never let it crash the agent.
    this.session.on('error', () => {});
    this.signal = signal;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = () => this.close();

  /** Values by OID; a noSuchObject/noSuchInstance varbind is left out. */
  get(oids: string[]): Promise<Map<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.session.get(oids, (err, varbinds) => {
        if (err) return reject(err);
        const out = new Map<string, unknown>();
        for (const vb of varbinds ?? []) if (!snmp.isVarbindError(vb)) out.set(vb.oid, vb.value);
        resolve(out);
      });
    });
  }

  /**
   * Every varbind under a column or subtree, bounded so a broken agent cannot grow it forever. A
   * GetBulk answer must move strictly forward (RFC 3416 §4.2.3): an agent that answers past its last
   * object with noSuchObject at the same OID (net-snmp's own agent does) would make the walk spin, so
   * an error varbind or an OID not past the previous one ends it.
   */
  walk(oid: string, maxRows = 4096): Promise<Map<string, unknown>> {
    return new Promise((resolve, reject) => {
      const out = new Map<string, unknown>();
      let last: number[] = [];
      this.session.subtree(
        oid,
        20,
        ((varbinds: snmp.Varbind[]) => {
          for (const vb of varbinds) {
            const arcs = vb.oid.split('.').map(Number);
            if (snmp.isVarbindError(vb) || compareOids(arcs, last) <= 0) return true; // true stops the walk
            last = arcs;
            out.set(vb.oid, vb.value);
          }
          return out.size >= maxRows;
        }) as snmp.FeedCallback,
        (err: Error | null) => (err ? reject(err) : resolve(out)),
      );
    });
  }

  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    try {
      this.session.close();
    } catch {
      // already closed
    }
  }
}

/** An error code for SNMP failures: RequestTimedOutError → ETIMEDOUT, else the error's name or code. */
export function snmpErrorCode(err: unknown): string {
  const e = err as { name?: string; code?: string };
  if (e?.name === 'RequestTimedOutError') return 'SNMP_TIMEOUT';
  if (typeof e?.code === 'string') return e.code;
  return (e?.name ?? 'SNMP_ERROR').slice(0, 64);
}
