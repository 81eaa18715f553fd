// The `collector.presence` section: how silence and degradation are judged.
import Type from 'typebox';

export const PresenceConfig = Type.Object(
  {
    /** How often agents publish a metrics batch (their scheduler's round). */
    intervalSeconds: Type.Number({ exclusiveMinimum: 0, default: 60 }),
    /** No batch nor status for this many intervals → offline, even without a will (a half-open TCP link). */
    silentAfterIntervals: Type.Number({ minimum: 1, default: 3 }),
    /** Consecutive live rounds with anchors unreachable (or loss/latency past the critical threshold) → degraded. */
    degradedAfterRounds: Type.Integer({ minimum: 1, default: 3 }),
    /** Overrides of the critical thresholds (collector/thresholds.ts) used for degraded. */
    degradedLossPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    degradedLatencyMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** Wait this long for an agent's spool replay before classifying an outage with what arrived. */
    classifyWithinSeconds: Type.Number({ minimum: 0, default: 300 }),
    /** How often silence and timers are checked. */
    tickMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
    /** At start, read the last presence state and data of every agent back from InfluxDB. */
    rebuildFromInflux: Type.Boolean({ default: true }),
    /**
     * While InfluxDB cannot be read at start, school alerts wait this long (seconds) for the rebuild; past
     * it presence goes on from unknown, said once, and the rebuild keeps trying in the background.
     */
    rebuildHoldSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 120 }),
    maxAgents: Type.Integer({ minimum: 1, default: 100_000 }),
    /**
     * Two boxes under one identity (presence/identity.ts): a will waits this long (seconds) for the birth
     * of another instance that would make it a takeover, not an outage.
     */
    takeoverHoldSeconds: Type.Number({ minimum: 0, maximum: 60, default: 5 }),
    /** A duplicate identity is over after this long without a takeover: more than the agents' longest takeover backoff. */
    duplicateQuietSeconds: Type.Number({ minimum: 1, default: 1800 }),
  },
  { additionalProperties: false, default: {} },
);
export type PresenceConfig = Type.Static<typeof PresenceConfig>;
