// Metric thresholds, in one place: the alert policy's defaults and the dashboards' colours read these.
// A deployment may override them in the collector config (collector.alerts.thresholds); the dashboards
// are built from the same config when one is given.
export interface Thresholds {
  /** Packet loss, % of a ping round. */
  lossPct: { warn: number; crit: number };
  /** Median round-trip time to internet anchors, ms. */
  latencyMs: { warn: number; crit: number };
  /** Jitter, ms. */
  jitterMs: { warn: number; crit: number };
  /** WAN use as % of the contracted bandwidth. */
  wanSaturationPct: { warn: number; crit: number };
  /** HTTP total time to a teachers' service, ms. */
  httpMs: { warn: number; crit: number };
  /** TLS certificate days left. */
  certDaysLeft: { warn: number; crit: number };
  /** Agent clock offset from the collector's, ms. */
  clockDriftMs: { warn: number; crit: number };
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  lossPct: { warn: 2, crit: 10 },
  latencyMs: { warn: 80, crit: 200 },
  jitterMs: { warn: 20, crit: 50 },
  wanSaturationPct: { warn: 80, crit: 95 },
  httpMs: { warn: 1500, crit: 5000 },
  certDaysLeft: { warn: 21, crit: 7 },
  clockDriftMs: { warn: 2000, crit: 30000 },
};

/**
 * Config overrides over the defaults, level by level (an override may set only `warn`): the one merge that
 * alerts (collector config) and dashboards (their thresholds) both use.
 */
export function mergeThresholdLevels(
  base: Thresholds,
  over: Partial<Record<keyof Thresholds, Partial<{ warn: number; crit: number }>>> | undefined,
): Thresholds {
  const merged = { ...base };
  for (const key of Object.keys(base) as (keyof Thresholds)[]) {
    merged[key] = { ...base[key], ...(over?.[key] ?? {}) };
  }
  return merged;
}
