// What one metrics round says about a school's internet: read from its ping samples by role.
import type { MetricsBatch, Sample } from '../../shared/schemas.ts';

export interface RoundHealth {
  /** null when the round had no anchor ping. */
  anchorsReached: boolean | null;
  gatewayReached: boolean | null;
  /** Worst anchor loss, %. */
  lossPct: number | null;
  /** Median of the anchors' median round trips, ms. */
  latencyMs: number | null;
}

type Ping = Extract<Sample, { probe: 'ping' }>;
const isPing = (s: Sample): s is Ping => s.probe === 'ping';
const reached = (pings: Ping[]) => (pings.length ? pings.some((p) => p.received > 0) : null);

function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function healthOfSamples(samples: readonly Sample[]): RoundHealth {
  const pings = samples.filter(isPing);
  // Pings without a role are taken as anchors: the agent's default targets are on the internet.
  const anchors = pings.filter((p) => p.role === 'anchor' || p.role === undefined);
  const gateways = pings.filter((p) => p.role === 'gateway');
  return {
    anchorsReached: reached(anchors),
    gatewayReached: reached(gateways),
    lossPct: anchors.length ? Math.max(...anchors.map((p) => p.lossPct)) : null,
    latencyMs: median(anchors.flatMap((p) => (p.medianMs === undefined ? [] : [p.medianMs]))),
  };
}

export const healthOfBatch = (batch: MetricsBatch): RoundHealth => healthOfSamples(batch.samples);
