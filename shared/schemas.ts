// The agent↔collector messages, written once: the agent builds with these types, the collector
// validates with these schemas (shared/validate.ts), fastify routes reuse them.
import Type from 'typebox';
import { AGENT_ID_PATTERN } from './topics.ts';
import { UAI_PATTERN } from './uai.ts';

export const PROTOCOL_VERSION = 1;

/** Largest metrics payload the collector accepts; the agent splits batches under it. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** A school's UAI; the format checks the letter (shared/validate.ts registers it). */
export const UaiSchema = Type.String({
  pattern: UAI_PATTERN,
  format: 'uai',
  description: 'a school UAI: 7 digits and their check letter',
});
const Uai = UaiSchema;
const AgentId = Type.String({ pattern: AGENT_ID_PATTERN, description: 'agent id, unique within a school' });
/** Agent clock, milliseconds since the Unix epoch. */
const Time = Type.Integer({ minimum: 0, description: 'ms since epoch, agent clock' });
const Label = Type.String({ minLength: 1, maxLength: 128 });
const Ms = Type.Number({ minimum: 0, maximum: 3_600_000 });
const Count = Type.Integer({ minimum: 0 });
const Pct = Type.Number({ minimum: 0, maximum: 100 });
const Bps = Type.Number({ minimum: 0 });
/** Short machine-readable reason a probe failed: ETIMEDOUT, ENOTFOUND, NXDOMAIN, TLS, ... */
const ErrorCode = Type.String({ minLength: 1, maxLength: 64 });

export const PingSample = Type.Object(
  {
    probe: Type.Literal('ping'),
    t: Time,
    target: Label,
    /** gateway | resolver | anchor | ent | other: lets presence tell a WAN cut from a dead box. */
    role: Type.Optional(
      Type.Union([
        Type.Literal('gateway'),
        Type.Literal('resolver'),
        Type.Literal('anchor'),
        Type.Literal('ent'),
        Type.Literal('other'),
      ]),
    ),
    sent: Count,
    received: Count,
    lossPct: Pct,
    minMs: Type.Optional(Ms),
    avgMs: Type.Optional(Ms),
    maxMs: Type.Optional(Ms),
    medianMs: Type.Optional(Ms),
    p95Ms: Type.Optional(Ms),
    jitterMs: Type.Optional(Ms),
    /** Replies beyond the first to one echo (by ICMP sequence number): not in the RTT figures. */
    duplicates: Type.Optional(Count),
    /** Echoes whose first reply came after the echo timeout: counted lost, not in the RTT figures. */
    late: Type.Optional(Count),
    error: Type.Optional(ErrorCode),
  },
  { additionalProperties: false },
);

export const DnsSample = Type.Object(
  {
    probe: Type.Literal('dns'),
    t: Time,
    resolver: Label,
    name: Label,
    ok: Type.Boolean(),
    /** NOERROR, NXDOMAIN, SERVFAIL, TIMEOUT, REFUSED... */
    rcode: ErrorCode,
    timeMs: Type.Optional(Ms),
  },
  { additionalProperties: false },
);

export const HttpSample = Type.Object(
  {
    probe: Type.Literal('http'),
    t: Time,
    target: Label,
    ok: Type.Boolean(),
    status: Type.Integer({ minimum: 0, maximum: 999 }),
    ttfbMs: Type.Optional(Ms),
    totalMs: Type.Optional(Ms),
    certDaysLeft: Type.Optional(Type.Number({ minimum: -36500, maximum: 36500 })),
    error: Type.Optional(ErrorCode),
  },
  { additionalProperties: false },
);

export const WanSample = Type.Object(
  {
    probe: Type.Literal('wan'),
    t: Time,
    /** 'box' = this machine's interface counters; 'snmp' = the router's IF-MIB counters. */
    source: Type.Union([Type.Literal('box'), Type.Literal('snmp')]),
    iface: Label,
    inBps: Bps,
    outBps: Bps,
    inPct: Type.Optional(Type.Number({ minimum: 0 })),
    outPct: Type.Optional(Type.Number({ minimum: 0 })),
    /** The counters went backwards (router reboot or counter reset): no rate this round. */
    counterReset: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const WifiSample = Type.Object(
  {
    probe: Type.Literal('wifi'),
    t: Time,
    ap: Label,
    up: Type.Boolean(),
    reachable: Type.Boolean(),
    uptimeS: Type.Optional(Type.Number({ minimum: 0 })),
    rebooted: Type.Optional(Type.Boolean()),
    radiosUp: Type.Optional(Count),
    radiosTotal: Type.Optional(Count),
    clients: Type.Optional(Count),
    error: Type.Optional(ErrorCode),
  },
  { additionalProperties: false },
);

export const SpeedtestSample = Type.Object(
  {
    probe: Type.Literal('speedtest'),
    t: Time,
    target: Label,
    ok: Type.Boolean(),
    downBps: Type.Optional(Bps),
    upBps: Type.Optional(Bps),
    downBytes: Type.Optional(Count),
    upBytes: Type.Optional(Count),
    durationMs: Type.Optional(Type.Number({ minimum: 0 })),
    error: Type.Optional(ErrorCode),
  },
  { additionalProperties: false },
);

export const SelfSample = Type.Object(
  {
    probe: Type.Literal('self'),
    t: Time,
    version: Type.String({ minLength: 1, maxLength: 64 }),
    uptimeS: Type.Number({ minimum: 0 }),
    rssBytes: Count,
    cpuPct: Type.Number({ minimum: 0 }),
    spoolBytes: Count,
    spoolBatches: Count,
    spoolDropped: Count,
  },
  { additionalProperties: false },
);

/**
 * Every probe kind and the schema of its samples: the one list of kinds. The agent's probes, its
 * config, the collector's measurements, `--once` and the simulator are keyed by it, so a kind added
 * here fails to compile until each has its entry (agent/probes/README.md, "Adding a probe").
 */
export const SAMPLE_SCHEMAS = byKind({
  ping: PingSample,
  dns: DnsSample,
  http: HttpSample,
  wan: WanSample,
  wifi: WifiSample,
  speedtest: SpeedtestSample,
  self: SelfSample,
});

/** Checks that each key is its schema's `probe` literal. */
function byKind<R extends { [K in keyof R]: { properties: { probe: { const: K } } } }>(record: R): R {
  return record;
}

export type ProbeKind = keyof typeof SAMPLE_SCHEMAS;
export const PROBE_KINDS = Object.keys(SAMPLE_SCHEMAS) as readonly ProbeKind[];
/** The sample a probe of kind K writes. */
export type SampleOf<K extends ProbeKind> = Type.Static<(typeof SAMPLE_SCHEMAS)[K]>;
export type Sample = { [K in ProbeKind]: SampleOf<K> }[ProbeKind];
export const Sample = Type.Unsafe<Sample>(Type.Union(Object.values(SAMPLE_SCHEMAS)));

export const MetricsBatch = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    uai: Uai,
    agent: AgentId,
    /**
     * Per-agent sequence number, +1 per batch, kept across restarts: gaps = loss, repeats = duplicates.
     * At most 2^53 − 1, where a JSON number is still an exact integer (and InfluxDB's int64 holds it):
     * a seq of 1e20 passed a plain integer check, then InfluxDB refused the batch point and its seq was lost.
     */
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    /** When the batch was first built (agent clock). */
    t: Time,
    /**
     * When this copy was published (agent clock), stamped by the publisher on every send: the collector
     * measures the agent's clock offset from it (collector/clock-offset.ts). Optional: older agents omit it.
     */
    sentAt: Type.Optional(Time),
    /**
     * Seconds since the agent's clock was last synchronised (NTP), when it can tell; as RIPE Atlas's `lts`.
     * Optional: absent when unknown.
     */
    lts: Type.Optional(Type.Integer({ minimum: 0 })),
    samples: Type.Array(Sample, { minItems: 1, maxItems: 2000 }),
  },
  { additionalProperties: false },
);

/** An agent process's instance id: 8 to 32 lower-case hex digits (agent/publisher.ts draws 16). */
export const INSTANCE_ID_PATTERN = '^[0-9a-f]{8,32}$';

export const StatusMessage = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    uai: Uai,
    agent: AgentId,
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    t: Time,
    version: Type.Optional(Type.String({ maxLength: 64 })),
    /** Set on the birth message: when the agent process started (agent clock). */
    startedAt: Type.Optional(Time),
    /**
     * Random per agent process (a fresh one at every start), on the birth and on the will: two of them
     * alternating under one UAI and agent id mean two boxes share that identity (collector/presence/identity.ts).
     */
    instance: Type.Optional(Type.String({ pattern: INSTANCE_ID_PATTERN })),
    /** 'graceful' on a clean stop, 'will' when the broker published it for us. */
    reason: Type.Optional(
      Type.Union([Type.Literal('birth'), Type.Literal('graceful'), Type.Literal('will')]),
    ),
  },
  { additionalProperties: false },
);

export const EventMessage = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    uai: Uai,
    agent: AgentId,
    t: Time,
    kind: Type.Union([
      Type.Literal('started'),
      Type.Literal('stopping'),
      Type.Literal('spool_drop'),
      Type.Literal('probe_error'),
      Type.Literal('config'),
    ]),
    message: Type.String({ maxLength: 1024 }),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    ),
  },
  { additionalProperties: false },
);

export type PingSample = Type.Static<typeof PingSample>;
export type DnsSample = Type.Static<typeof DnsSample>;
export type HttpSample = Type.Static<typeof HttpSample>;
export type WanSample = Type.Static<typeof WanSample>;
export type WifiSample = Type.Static<typeof WifiSample>;
export type SpeedtestSample = Type.Static<typeof SpeedtestSample>;
export type SelfSample = Type.Static<typeof SelfSample>;
export type MetricsBatch = Type.Static<typeof MetricsBatch>;
export type StatusMessage = Type.Static<typeof StatusMessage>;
export type EventMessage = Type.Static<typeof EventMessage>;
