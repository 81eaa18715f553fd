// Wi-Fi access points: is each one up, has it rebooted, are its radios on, how many clients.
//
// What "up" means (tested in test/integration/probe-snmp.test.ts, "wifi probe"):
//   an access point is UP when it is reachable (it answers SNMP, or, failing that, ICMP echo) AND,
//   where its radio interfaces can be seen over SNMP, at least one of them is ifOperStatus up(1).
//   - answers SNMP, radios seen, none up      → down (the box is alive but serves no Wi-Fi)
//   - answers SNMP, no interface looks a radio → up on reachability alone (radiosTotal 0)
//   - SNMP silent, answers ping               → up on reachability alone, error SNMP_TIMEOUT
//   - answers neither                         → down, unreachable
//   REBOOTED is set when sysUpTime went back (beyond a 32-bit TimeTicks wrap) since the last round.
//
// A round cut at its timeout keeps what it has (test/integration/probe-wifi-round.test.ts): the APs
// checked give their samples, an AP not checked in time gives none (it counts neither up nor down).
import { setMaxListeners } from 'node:events';
import type { WifiSample } from '../../shared/schemas.ts';
import { boxWifiSamples, readBoxWifi } from './box-wifi.ts';
import type { AccessPoint, WifiConfig } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';
import { uptimeRebooted } from './counters.ts';
import { AP_ECHO, echoReachable } from './echo.ts';
import { OID, rowIndex, SnmpClient, snmpErrorCode } from './snmp.ts';
import { checkOrder, createLimiter } from './util.ts';

export { checkOrder };

/**
 * SNMP checks in flight (one UDP socket each). A silent AP holds its slot 2 × snmpTimeoutS (one
 * retry): 64 lets the config's 128 silent APs through in two waves, 8 s at the default 2 s.
 */
export const SNMP_PARALLEL = 64;
/**
 * ping processes at once, for APs SNMP did not answer. Each silent one runs AP_ECHO's 2 s: 32 at once
 * falls back for 128 silent APs in 8 s, overlapping the SNMP waves: 12 s in all by this arithmetic,
 * 13 s measured (timeoutS 20 by default).
 */
export const ECHO_PARALLEL = 32;
/**
 * After the round's abort, an echo asked for may still prove an AP reachable for this long, then it is
 * killed: well inside the 500 ms the scheduler waits for a cut probe (ABORT_GRACE_MS, agent/scheduler.ts).
 */
export const LAST_LOOK_MS = 300;
/**
 * Echoes started after the cut, at most: spawning ping blocks the event loop (12–16 ms each measured on
 * a loaded 2-core box), so 32 of them would eat the grace by themselves.
 */
export const LAST_LOOK_ECHOES = 4;

/**
 * The round's own signals: `cut` follows `signal` (the round's timeout or the agent stopping), `lastLook`
 * aborts `lastLookMs` after it. Each carries one listener per check in flight (up to `listeners`), past
 * Node's default warning threshold of 10. dispose() detaches from `signal` and aborts both.
 */
function roundSignals(signal: AbortSignal, lastLookMs: number, listeners: number) {
  const cut = new AbortController();
  const late = new AbortController();
  setMaxListeners(listeners, cut.signal, late.signal);
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    cut.abort(signal.reason);
    timer = setTimeout(() => late.abort(), lastLookMs);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    cut: cut.signal,
    lastLook: late.signal,
    dispose() {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      cut.abort();
      late.abort();
    },
  };
}

interface RoundGates {
  snmp: ReturnType<typeof createLimiter>;
  echo: ReturnType<typeof createLimiter>;
  /** Aborted with the round: cuts the SNMP requests in flight, stops the checks not started. */
  cut: AbortSignal;
  /** Aborts LAST_LOOK_MS after the round's signal: kills the echoes still running. */
  lastLook: AbortSignal;
  /** Echoes started since the cut (LAST_LOOK_ECHOES at most). */
  lateEchoes: number;
}

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

const apKey = (ap: AccessPoint) => `${ap.host}:${ap.port}`;

export class WifiProbe implements Probe<WifiConfig> {
  readonly kind = 'wifi' as const;
  private readonly lastUptime = new Map<string, { ticks: number; t: number }>();
  /** By apKey: answered at once last round (see checkOrder); at most one entry per configured AP. */
  private readonly lastFast = new Map<string, boolean>();
  private lastBoxRead: number | undefined;

  constructor(readonly config: WifiConfig) {}

  /**
   * One sample per AP checked, in config order, then the box's. Cut by `ctx.signal`, it returns within
   * LAST_LOOK_MS with the APs it finished; the others give no sample and a warning names them.
   */
  async run(ctx: ProbeContext): Promise<WifiSample[]> {
    const aps = this.config.accessPoints;
    const signals = roundSignals(ctx.signal, LAST_LOOK_MS, SNMP_PARALLEL + ECHO_PARALLEL);
    const gates: RoundGates = {
      snmp: createLimiter(SNMP_PARALLEL),
      echo: createLimiter(ECHO_PARALLEL),
      cut: signals.cut,
      lastLook: signals.lastLook,
      lateEchoes: 0,
    };
    try {
      const checked: (WifiSample | undefined)[] = new Array(aps.length);
      const order = checkOrder(aps.length, (i) => this.lastFast.get(apKey(aps[i]!)));
      const [, box] = await Promise.all([
        Promise.all(order.map(async (i) => (checked[i] = await this.check(aps[i]!, ctx, gates)))),
        this.box(ctx),
      ]);
      const samples = checked.filter((s): s is WifiSample => s !== undefined);
      if (samples.length < aps.length) {
        const missed = aps.filter((_, i) => !checked[i]).map((ap) => ap.name);
        ctx.log.warn(
          { checked: samples.length, notChecked: missed.length, aps: missed.slice(0, 20) },
          'wifi: round cut at its timeout, access points not checked have no sample / ' +
            'tour Wi-Fi coupé à son délai, les bornes non vérifiées n’ont pas de mesure',
        );
      }
      return [...samples, ...box];
    } finally {
      signals.dispose();
    }
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

  /** The AP's sample, or undefined when the round was cut before it could say up or down. */
  private async check(
    ap: AccessPoint,
    ctx: ProbeContext,
    gates: RoundGates,
  ): Promise<WifiSample | undefined> {
    let t = ctx.now();
    let view: ApView = { reachable: false };
    if (ap.snmp) {
      const answered = await gates.snmp(async () => {
        if (gates.cut.aborted) return undefined; // its turn came too late
        t = ctx.now();
        return this.viaSnmp(ap, gates.cut);
      });
      if (!answered) return undefined;
      view = answered;
      // Silent until now, even if the round is cut before it can tell: checked after the others next time.
      if (!view.snmp) this.lastFast.set(apKey(ap), false);
    }
    if (!view.snmp) {
      const alive = await gates.echo(async () => {
        if (gates.cut.aborted && ++gates.lateEchoes > LAST_LOOK_ECHOES) return undefined;
        if (!ap.snmp) t = ctx.now();
        return echoReachable(ap.host, AP_ECHO, gates.lastLook);
      });
      // Killed, or SNMP cut and no echo within the last look: neither up nor down is known.
      if (alive === undefined || (!alive && view.error === 'ABORTED')) return undefined;
      view.reachable = alive;
    }
    const key = apKey(ap);
    this.lastFast.set(key, view.snmp !== undefined || (!ap.snmp && view.reachable));
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
}
