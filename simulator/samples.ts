// What a simulated school's agent measures in one round, built with the shared sample types so the
// collector sees exactly what a real box sends. Values follow the school's traits, the time of day
// and the state of its link (up, cut, degraded). Pure given (school, state, rng, t, link).
import {
  type DnsSample,
  type HttpSample,
  type PingSample,
  PROBE_KINDS,
  type ProbeKind,
  type Sample,
  type SampleOf,
  type SpeedtestSample,
  type WanSample,
  type WifiSample,
} from '../shared/schemas.ts';
import { baseWanLoad, ispPeakFactor, isSchoolOpen, localHour, queueingDelayMs } from './daily-profile.ts';
import type { SimulatedSchool } from './fleet.ts';
import type { Rng } from './random.ts';

/** The link as the round sees it. A WAN cut leaves the LAN and the box up; degraded adds loss and delay. */
export type LinkState =
  | { kind: 'up' }
  | { kind: 'wan-cut' }
  | { kind: 'degraded'; extraLossPct: number; latencyFactor: number };

export const LINK_UP: LinkState = { kind: 'up' };

/** What the agent remembers between rounds. */
export interface AgentState {
  /** When the agent process (re)started: self uptime and the birth's startedAt. */
  startedAt: number;
  /** When each access point last booted. */
  apBootedAt: number[];
  nextSpeedtestAt: number;
  /** The agent's spool, reported in its self sample. */
  spoolBytes: number;
  spoolBatches: number;
  spoolDropped: number;
}

export interface RoundOptions {
  timeZone: string;
  version: string;
  /** Mean time between two speed tests of one school, ms. */
  speedtestEveryMs: number;
}

export const DEFAULT_ROUND_OPTIONS: RoundOptions = {
  timeZone: 'Europe/Paris',
  version: '0.1.0-sim',
  speedtestEveryMs: 4 * 3_600_000,
};

const ECHOES = 10;
export const DNS_NAMES = ['www.laclasse.com', 'eduscol.education.fr'];
export const HTTP_TARGETS = [
  { name: 'laclasse', serverMs: 140, bytes: 180_000, certPeriodDays: 90 },
  { name: 'eduscol', serverMs: 90, bytes: 95_000, certPeriodDays: 365 },
];
export const ANCHORS = ['anchor-lyon', 'anchor-paris'];

const round2 = (x: number) => Math.round(x * 100) / 100;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function newAgentState(sim: SimulatedSchool, rng: Rng, t: number, opts: RoundOptions): AgentState {
  return {
    startedAt: t,
    // Access points have been up for hours to weeks when the agent starts.
    apBootedAt: sim.traits.accessPoints.map(() => t - Math.round(rng.range(3_600_000, 40 * 86_400_000))),
    nextSpeedtestAt: t + Math.round(rng.range(0, opts.speedtestEveryMs)),
    spoolBytes: 0,
    spoolBatches: 0,
    spoolDropped: 0,
  };
}

/**
 * One ping round of ECHOES echoes: each echo lost with `lossPct` or answered after a log-normal
 * delay around `medianMs`; the statistics are computed from the echoes as the agent would.
 */
export function pingRound(
  rng: Rng,
  t: number,
  target: string,
  role: NonNullable<PingSample['role']>,
  medianMs: number,
  lossPct: number,
  spread = 0.18,
): PingSample {
  const rtts: number[] = [];
  for (let i = 0; i < ECHOES; i++) {
    if (!rng.chance(lossPct / 100)) rtts.push(rng.logNormal(medianMs, spread));
  }
  const received = rtts.length;
  const sample: PingSample = {
    probe: 'ping',
    t,
    target,
    role,
    sent: ECHOES,
    received,
    lossPct: round2((100 * (ECHOES - received)) / ECHOES),
  };
  if (received === 0) {
    sample.error = 'ETIMEDOUT';
    return sample;
  }
  // Jitter as ping tools report it: mean absolute difference of consecutive round trips.
  let jitter = 0;
  for (let i = 1; i < received; i++) jitter += Math.abs(rtts[i]! - rtts[i - 1]!);
  const sorted = [...rtts].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(received - 1, Math.ceil(q * received) - 1)]!;
  sample.minMs = round2(sorted[0]!);
  sample.maxMs = round2(sorted[received - 1]!);
  sample.avgMs = round2(rtts.reduce((s, x) => s + x, 0) / received);
  sample.medianMs = round2(
    received % 2 ? sorted[(received - 1) / 2]! : (sorted[received / 2 - 1]! + sorted[received / 2]!) / 2,
  );
  sample.p95Ms = round2(at(0.95));
  sample.jitterMs = round2(received > 1 ? jitter / (received - 1) : 0);
  return sample;
}

/** Days left on a certificate renewed every `periodDays`, at a phase fixed per target. */
export function certDaysLeft(t: number, periodDays: number, phaseDays: number): number {
  const day = t / 86_400_000 + phaseDays;
  return Math.round((periodDays - (day % periodDays)) * 10) / 10;
}

/** What every probe's round shares: the school, the time and the state of its link. */
interface Round {
  sim: SimulatedSchool;
  state: AgentState;
  rng: Rng;
  t: number;
  opts: RoundOptions;
  open: boolean;
  cut: boolean;
  /** Shares of the contracted downlink and uplink in use, and the larger. */
  downShare: number;
  upShare: number;
  busiest: number;
  wanMs: number;
  wanLoss: number;
}

/** Everything one school's agent measures in a round at time `t`. */
export function measureRound(
  sim: SimulatedSchool,
  state: AgentState,
  rng: Rng,
  t: number,
  link: LinkState,
  opts: RoundOptions = DEFAULT_ROUND_OPTIONS,
): Sample[] {
  const { school, traits } = sim;
  const local = localHour(t, opts.timeZone);
  const open = isSchoolOpen(local, school.hours);
  const cut = link.kind === 'wan-cut';
  const degraded = link.kind === 'degraded' ? link : null;

  // Share of the contracted downlink in use; the uplink follows, heavier on asymmetric links.
  const downShare = cut
    ? 0
    : clamp(baseWanLoad(local, school.hours) * traits.appetite * rng.logNormal(1, 0.35), 0, 0.99);
  const asym = school.contractedDownMbps / school.contractedUpMbps;
  const upShare = cut ? 0 : clamp(downShare * rng.range(0.15, 0.35) * Math.sqrt(asym), 0, 0.99);
  const busiest = Math.max(downShare, upShare);

  const wanMs =
    (traits.wanMs * ispPeakFactor(local) + queueingDelayMs(busiest)) *
    (degraded ? degraded.latencyFactor : 1);
  const wanLoss = cut
    ? 100
    : clamp(traits.baseLossPct + (busiest > 0.9 ? 3 : 0) + (degraded?.extraLossPct ?? 0), 0, 100);

  const round: Round = { sim, state, rng, t, opts, open, cut, downShare, upShare, busiest, wanMs, wanLoss };
  // In the record's order, which fixes the order of the draws: a seed gives the same fleet.
  return PROBE_KINDS.flatMap((kind): Sample[] => MEASURE[kind](round));
}

// One generator per kind (shared/schemas.ts): a kind without its own fails to compile.
const MEASURE: { [K in ProbeKind]: (r: Round) => SampleOf<K>[] } = {
  ping: ({ sim: { traits }, rng, t, busiest, wanMs, wanLoss }) => [
    pingRound(rng, t, 'gateway', 'gateway', traits.gatewayMs + queueingDelayMs(busiest) * 0.5, 0, 0.3),
    pingRound(rng, t, traits.resolver, 'resolver', wanMs + rng.range(0.5, 2), wanLoss),
    ...ANCHORS.map((anchor, i) =>
      pingRound(rng, t, anchor, 'anchor', wanMs + i * 9 + rng.range(0, 1), wanLoss),
    ),
  ],

  dns: ({ sim: { traits }, rng, t, cut, wanMs, wanLoss }) =>
    DNS_NAMES.map((name) => {
      const dns: DnsSample = {
        probe: 'dns',
        t,
        resolver: traits.resolver,
        name,
        ok: false,
        rcode: 'TIMEOUT',
      };
      if (!cut && !rng.chance(wanLoss / 100)) {
        const servfail = rng.chance(0.002);
        dns.ok = !servfail;
        dns.rcode = servfail ? 'SERVFAIL' : 'NOERROR';
        // A cache miss at the resolver costs a trip to the authoritative servers.
        dns.timeMs = round2(wanMs + rng.logNormal(1.5, 0.5) + (rng.chance(0.1) ? rng.range(15, 60) : 0));
      }
      return dns;
    }),

  http: ({ sim: { school }, rng, t, cut, downShare, wanMs, wanLoss }) =>
    HTTP_TARGETS.map((target) => {
      const http: HttpSample = { probe: 'http', t, target: target.name, ok: false, status: 0 };
      if (cut || rng.chance(Math.min(1, (wanLoss / 100) * 3))) {
        http.error = cut ? 'ENETUNREACH' : 'ETIMEDOUT';
      } else {
        const phase = (target.name.charCodeAt(0) * 7) % target.certPeriodDays;
        const ttfb = 3 * wanMs + rng.logNormal(target.serverMs, 0.4);
        const freeBps = Math.max(0.02, 1 - downShare) * school.contractedDownMbps * 1e6;
        const unavailable = rng.chance(0.001);
        http.ok = !unavailable;
        http.status = unavailable ? 503 : 200;
        http.ttfbMs = round2(ttfb);
        http.totalMs = round2(ttfb + (target.bytes * 8 * 1000) / freeBps + 2 * wanMs);
        http.certDaysLeft = certDaysLeft(t, target.certPeriodDays, phase);
      }
      return http;
    }),

  wan: ({ sim: { school }, rng, t, cut, downShare, upShare }) => {
    const wan: WanSample = {
      probe: 'wan',
      t,
      source: 'box',
      iface: 'eth0',
      // A cut link still carries a trickle: ARP, DHCP, the box retrying.
      inBps: Math.round(cut ? rng.range(200, 2000) : downShare * school.contractedDownMbps * 1e6),
      outBps: Math.round(cut ? rng.range(200, 2000) : upShare * school.contractedUpMbps * 1e6),
    };
    wan.inPct = round2((100 * wan.inBps) / (school.contractedDownMbps * 1e6));
    wan.outPct = round2((100 * wan.outBps) / (school.contractedUpMbps * 1e6));
    return [wan];
  },

  wifi: ({ sim: { traits }, state, rng, t, open }) =>
    traits.accessPoints.map((ap, i): WifiSample => {
      // An access point reboots now and then (firmware, power strip kicked in a classroom).
      const rebooted = rng.chance(1 / 20_000);
      if (rebooted) state.apBootedAt[i] = t - Math.round(rng.range(20_000, 90_000));
      const occupancy = open ? rng.range(0.5, 1) : rng.chance(0.1) ? 0.05 : 0;
      const radiosDown = rng.chance(0.002) ? 1 : 0;
      return {
        probe: 'wifi',
        t,
        ap: ap.name,
        up: true,
        reachable: true,
        uptimeS: Math.max(0, Math.round((t - state.apBootedAt[i]!) / 1000)),
        rebooted,
        radiosUp: ap.radios - radiosDown,
        radiosTotal: ap.radios,
        clients: Math.round(ap.maxClients * occupancy),
      };
    }),

  speedtest: ({ sim, state, rng, t, opts, cut, downShare, upShare }) => {
    if (t < state.nextSpeedtestAt) return [];
    state.nextSpeedtestAt = t + Math.round(rng.exponential(opts.speedtestEveryMs));
    return [speedtest(rng, t, sim, cut, downShare, upShare)];
  },

  self: ({ state, rng, t, opts }) => [
    {
      probe: 'self',
      t,
      version: opts.version,
      uptimeS: Math.round((t - state.startedAt) / 1000),
      rssBytes: Math.round(rng.range(48, 62) * 1024 * 1024),
      cpuPct: round2(rng.logNormal(1.2, 0.4)),
      spoolBytes: state.spoolBytes,
      spoolBatches: state.spoolBatches,
      spoolDropped: state.spoolDropped,
    },
  ],
};

function speedtest(
  rng: Rng,
  t: number,
  sim: SimulatedSchool,
  cut: boolean,
  downShare: number,
  upShare: number,
): SpeedtestSample {
  const sample: SpeedtestSample = { probe: 'speedtest', t, target: 'speedtest-collecte', ok: !cut };
  if (cut) {
    sample.error = 'ENETUNREACH';
    return sample;
  }
  // The test shares the link with the school's traffic and loses a little to TCP and framing.
  const down = sim.school.contractedDownMbps * 1e6 * (1 - downShare) * rng.range(0.82, 0.95);
  const up = sim.school.contractedUpMbps * 1e6 * (1 - upShare) * rng.range(0.82, 0.95);
  const durationMs = Math.round(rng.range(9_000, 12_000));
  sample.downBps = Math.round(down);
  sample.upBps = Math.round(up);
  sample.downBytes = Math.round((down * durationMs) / 2 / 8000);
  sample.upBytes = Math.round((up * durationMs) / 2 / 8000);
  sample.durationMs = durationMs;
  return sample;
}
