// One live metrics batch → one round per (metric, subject) for the alert policy: bad or not, how bad.
import type { MetricsBatch } from '../../shared/schemas.ts';
import type { Thresholds } from '../thresholds.ts';
import type { PolicyEvent } from './policy.ts';

type Round = Extract<PolicyEvent, { kind: 'round' }>;

function level(value: number, t: { warn: number; crit: number }) {
  const severity = value >= t.crit ? ('critical' as const) : ('warning' as const);
  return {
    bad: value >= t.warn,
    severity,
    value,
    // The threshold the message names: the highest one crossed, else the one to watch.
    threshold: { value: severity === 'critical' ? t.crit : t.warn, level: severity },
  };
}

/**
 * The clock round of one live batch: bad when the agent's clock, as corrected by the collector
 * (collector/clock-offset.ts, which corrects only past 2 s), is off by clockDriftMs.warn or more.
 * value and threshold in seconds, positive when the agent runs ahead; subject = the agent id.
 */
export function clockRound(batch: MetricsBatch, correctMs: number, th: Thresholds): Round {
  const l = level(Math.abs(correctMs), th.clockDriftMs);
  return {
    kind: 'round',
    uai: batch.uai,
    metric: 'clock_drift',
    subject: batch.agent,
    t: batch.t,
    bad: l.bad,
    severity: l.severity,
    value: correctMs / 1000,
    threshold: { value: l.threshold.value / 1000, level: l.threshold.level },
  };
}

export function roundsOfBatch(batch: MetricsBatch, th: Thresholds): Round[] {
  const rounds: Round[] = [];
  const uai = batch.uai;
  for (const s of batch.samples) {
    switch (s.probe) {
      case 'ping':
        if (s.role !== 'anchor' && s.role !== undefined) break;
        rounds.push({
          kind: 'round',
          uai,
          metric: 'loss',
          subject: s.target,
          t: s.t,
          ...level(s.lossPct, th.lossPct),
        });
        // A round with no answer has no latency: it says nothing either way about it.
        if (s.medianMs !== undefined)
          rounds.push({
            kind: 'round',
            uai,
            metric: 'latency',
            subject: s.target,
            t: s.t,
            ...level(s.medianMs, th.latencyMs),
          });
        break;
      case 'wifi':
        rounds.push({
          kind: 'round',
          uai,
          metric: 'ap_down',
          subject: s.ap,
          t: s.t,
          bad: !s.up || !s.reachable,
          severity: 'critical',
        });
        break;
      case 'wan': {
        const pct = Math.max(s.inPct ?? -1, s.outPct ?? -1);
        if (pct >= 0 && !s.counterReset)
          rounds.push({
            kind: 'round',
            uai,
            metric: 'wan_saturation',
            subject: s.iface,
            t: s.t,
            ...level(pct, th.wanSaturationPct),
            rateBps: (s.inPct ?? -1) >= (s.outPct ?? -1) ? s.inBps : s.outBps,
          });
        break;
      }
      default:
        break;
    }
  }
  return rounds;
}
