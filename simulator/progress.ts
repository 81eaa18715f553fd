// Console lines for a network technician: how many schools are online, what is failing, how much
// traffic reaches the broker. Pure: two snapshots in, one line out.
import type { FleetSnapshot } from './stats.ts';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

function rate(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

function bytesPerSecond(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} MB/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kB/s`;
  return `${Math.round(bps)} B/s`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function errors(cur: FleetSnapshot, prev: FleetSnapshot | null): string {
  const c = cur.counters;
  const p = prev?.counters;
  const d = (k: 'refused' | 'networkErrors' | 'timeouts' | 'connectionsLost') => c[k] - (p?.[k] ?? 0);
  const parts = [
    d('refused') && `${n(d('refused'))} refused by broker`,
    d('networkErrors') && `${n(d('networkErrors'))} network errors`,
    d('timeouts') && `${n(d('timeouts'))} CONNACK timeouts`,
    d('connectionsLost') && `${n(d('connectionsLost'))} connections lost`,
  ].filter(Boolean);
  if (!parts.length) return 'no errors';
  return `${parts.join(', ')} (last: ${c.lastError})`;
}

/** One progress line: the state now and the rates since the previous snapshot. */
export function formatProgress(cur: FleetSnapshot, prev: FleetSnapshot | null): string {
  const ms = prev ? cur.at - prev.at : 0;
  const acked = cur.counters.acked - (prev?.counters.acked ?? 0);
  const bytes = cur.counters.ackedBytes - (prev?.counters.ackedBytes ?? 0);
  const out = cur.inOutage;
  const outages =
    out['wan-cut'] + out['power-cut'] + out.degraded
      ? `outages now: ${out['wan-cut']} WAN cut, ${out['power-cut']} power cut, ${out.degraded} degraded`
      : 'no outage';
  const parts = [
    clock(cur.at),
    `${n(cur.connected)}/${n(cur.agents)} agents connected`,
    ...(cur.connecting ? [`${n(cur.connecting)} connecting`] : []),
    outages,
    `${rate(acked, ms).toFixed(0)} batches/s acked (${bytesPerSecond(rate(bytes, ms))})`,
    `${n(cur.spooled)} batches in spools`,
    ...(cur.counters.replayed ? [`${n(cur.counters.replayed)} replayed after cuts`] : []),
    ...(cur.counters.spoolDropped ? [`${n(cur.counters.spoolDropped)} dropped (spool full)`] : []),
    errors(cur, prev),
  ];
  return parts.join(' · ');
}

export interface RunSummary {
  agents: number;
  connectedAtEnd: number;
  peakConnected: number;
  secondsRun: number;
  batchesMeasured: number;
  batchesAcked: number;
  ackedPerSecond: number;
  /** From the first second every agent was online to the end: the steady rate. */
  steadyAckedPerSecond: number | null;
  secondsToConnectAll: number | null;
  megabytesAcked: number;
  replayed: number;
  spoolDropped: number;
  willsTriggered: number;
  outagesStarted: Record<string, number>;
  refused: number;
  networkErrors: number;
  timeouts: number;
  connectionsLost: number;
  rssMegabytes: number;
}

export function formatSummary(s: RunSummary): string {
  return [
    `simulated ${n(s.agents)} agents for ${s.secondsRun.toFixed(0)} s: peak ${n(s.peakConnected)} connected` +
      (s.secondsToConnectAll !== null ? ` (all connected after ${s.secondsToConnectAll.toFixed(1)} s)` : ''),
    `${n(s.batchesAcked)} of ${n(s.batchesMeasured)} batches acked, ${s.ackedPerSecond.toFixed(0)}/s on average` +
      (s.steadyAckedPerSecond !== null
        ? `, ${s.steadyAckedPerSecond.toFixed(0)}/s once all were online`
        : '') +
      `, ${s.megabytesAcked.toFixed(1)} MB`,
    `outages: ${Object.entries(s.outagesStarted)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )}; ${n(s.willsTriggered)} wills fired, ${n(s.replayed)} batches replayed, ${n(s.spoolDropped)} dropped`,
    `errors: ${n(s.refused)} refused, ${n(s.networkErrors)} network, ${n(s.timeouts)} CONNACK timeouts, ` +
      `${n(s.connectionsLost)} connections lost · simulator RSS ${s.rssMegabytes.toFixed(0)} MB`,
  ].join('\n');
}
