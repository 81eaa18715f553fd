// Wi-Fi access points: is each one up, has it rebooted, are its radios on, how many clients.
//
// What "up" means (tested in test/integration/probe-wifi.test.ts and test/unit/probe-wifi.test.ts):
//   an access point is UP when it is reachable (it answers SNMP, or, failing that, ICMP echo) AND,
//   where its radio interfaces can be seen over SNMP, at least one of them is ifOperStatus up(1).
//   - answers SNMP, radios seen, none up      → down (the box is alive but serves no Wi-Fi)
//   - answers SNMP, no interface looks a radio → up on reachability alone (radiosTotal 0)
//   - SNMP silent, answers ping               → up on reachability alone, error SNMP_TIMEOUT
//   - answers neither                         → down, unreachable
//   REBOOTED is set when sysUpTime went back (beyond a 32-bit TimeTicks wrap) since the last round.
import ping from 'ping';
import type { WifiSample } from '../../shared/schemas.ts';
import { boxWifiSamples, readBoxWifi } from './box-wifi.ts';
import type { AccessPoint, WifiConfig } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { uptimeRebooted } from './counters.ts';
import { OID, rowIndex, SnmpClient, snmpErrorCode } from './snmp.ts';
import { mapLimit } from './util.ts';

export interface ApView {
  reachable: boolean;
  /** Present when SNMP answered. */
  snmp?: { uptimeTicks?: number; radiosUp: number; radiosTotal: number; clients?: number };
  error?: string;
}

/** The definition of "up" above, as a pure function. */
export function apUp(view: ApView): boolean {
  if (!view.reachable) return false;
  if (view.snmp && view.snmp.radiosTotal > 0) return view.snmp.radiosUp > 0;
  return true;
}

/** Radio interfaces: ifIndex → up?, from the ifDescr/ifName and ifOperStatus columns. */
export function radios(
  names: Map<string, unknown>,
  operStatus: Map<string, unknown>,
  pattern: RegExp,
): { up: number; total: number } {
  const radioIndexes = new Set<number>();
  for (const [oid, name] of names) if (pattern.test(String(name))) radioIndexes.add(rowIndex(oid));
  let up = 0;
  for (const [oid, status] of operStatus) if (radioIndexes.has(rowIndex(oid)) && Number(status) === 1) up++;
  return { up, total: radioIndexes.size };
}

export class WifiProbe implements Probe<WifiConfig> {
  readonly kind = 'wifi' as const;
  private readonly lastUptime = new Map<string, { ticks: number; t: number }>();
  private lastBoxRead: number | undefined;

  constructor(readonly config: WifiConfig) {}

  async run(ctx: ProbeContext): Promise<WifiSample[]> {
    const [aps, box] = await Promise.all([
      mapLimit(this.config.accessPoints, 8, (ap) => this.check(ap, ctx)),
      this.box(ctx),
    ]);
    return [...aps, ...box];
  }

  private async box(ctx: ProbeContext): Promise<WifiSample[]> {
    const now = ctx.now();
    if (!this.config.box) return [];
    if (this.lastBoxRead !== undefined && now - this.lastBoxRead < this.config.boxEveryS * 1000) return [];
    this.lastBoxRead = now;
    try {
      return boxWifiSamples(await readBoxWifi(this.config.timeoutS * 1000, ctx.signal), now);
    } catch (err) {
      ctx.log.warn({ err }, 'wifi: could not read the box wireless interfaces');
      return [];
    }
  }

  private async check(ap: AccessPoint, ctx: ProbeContext): Promise<WifiSample> {
    const t = ctx.now();
    const view = ap.snmp ? await this.viaSnmp(ap, ctx.signal) : { reachable: false };
    if (!view.snmp) view.reachable = await this.pingable(ap.host);
    const key = `${ap.host}:${ap.port}`;
    let rebooted: boolean | undefined;
    const ticks = view.snmp?.uptimeTicks;
    if (ticks !== undefined) {
      const prev = this.lastUptime.get(key);
      if (prev) rebooted = uptimeRebooted(prev.ticks, ticks, t - prev.t);
      this.lastUptime.set(key, { ticks, t });
    }
    const s = view.snmp;
    return {
      probe: 'wifi',
      t,
      ap: ap.name,
      up: apUp(view),
      reachable: view.reachable,
      ...(ticks !== undefined ? { uptimeS: ticks / 100 } : {}),
      ...(rebooted !== undefined ? { rebooted } : {}),
      ...(s ? { radiosUp: s.radiosUp, radiosTotal: s.radiosTotal } : {}),
      ...(s?.clients !== undefined ? { clients: s.clients } : {}),
      ...(view.error ? { error: view.error } : view.reachable ? {} : { error: 'UNREACHABLE' }),
    };
  }

  private async viaSnmp(ap: AccessPoint, signal: AbortSignal): Promise<ApView> {
    const client = new SnmpClient(ap, this.config.snmpTimeoutS * 1000, signal);
    try {
      const scalars = await client.get([OID.sysUpTime]);
      const uptime = scalars.get(OID.sysUpTime);
      const pattern = new RegExp(ap.radioPattern, 'i');
      const [descr, names, oper] = await Promise.all([
        client.walk(OID.ifDescr, 512),
        client.walk(OID.ifName, 512),
        client.walk(OID.ifOperStatus, 512),
      ]);
      const r = radios(new Map([...descr, ...names]), oper, pattern);
      let clients: number | undefined;
      if (ap.clientsOid) clients = await this.countClients(client, ap.clientsOid);
      return {
        reachable: true,
        snmp: {
          ...(typeof uptime === 'number' ? { uptimeTicks: uptime } : {}),
          radiosUp: r.up,
          radiosTotal: r.total,
          ...(clients !== undefined ? { clients } : {}),
        },
      };
    } catch (err) {
      return { reachable: false, error: signal.aborted ? 'ABORTED' : snmpErrorCode(err) };
    } finally {
      client.close();
    }
  }

  /** A scalar OID is read as the count; a column is walked and its rows counted. */
  private async countClients(client: SnmpClient, oid: string): Promise<number | undefined> {
    // SNMPv1 answers a get on a column with an error, v2c with noSuchObject: both mean "walk it".
    const scalar = await client.get([oid]).then(
      (v) => v.get(oid),
      () => undefined,
    );
    if (typeof scalar === 'number' && Number.isFinite(scalar) && scalar >= 0) return Math.trunc(scalar);
    const rows = await client.walk(oid, 4096);
    return rows.size;
  }

  private async pingable(host: string): Promise<boolean> {
    try {
      const res = await ping.promise.probe(host, {
        min_reply: 1,
        deadline: 3,
        timeout: 1,
        extra: ['-n', '-i', '0.5'],
      });
      return res.alive;
    } catch {
      return false;
    }
  }
}
