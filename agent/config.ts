// The agent's section of the config file (`agent:`).
import Type from 'typebox';
import { UaiSchema } from '../shared/schemas.ts';
import { AGENT_ID_PATTERN } from '../shared/topics.ts';
import { ProbesConfig } from './probes/index.ts';

export const MqttClientConfig = Type.Object(
  {
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://', description: 'broker URL, mqtts:// for TLS' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    /** A password over plaintext mqtt:// to another host is refused unless this says the network is trusted. */
    allowPlaintextPassword: Type.Optional(Type.Boolean()),
    /** PEM file of the CA that signed the broker's certificate. */
    ca: Type.Optional(Type.String()),
    /** Defaults to vigie-{uai}-{id}: a fixed id lets the broker replace a half-open session at once. */
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /**
     * MQTT 5 lets the broker say when it refuses a publish (ACL): 3.1.1 acknowledges and drops it.
     * A broker that speaks 3.1.1 only (the collector's embedded one) is detected and answered in 3.1.1.
     */
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 5 }),
    keepaliveS: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
    connectTimeoutS: Type.Integer({ minimum: 1, maximum: 300, default: 15 }),
    /** Reconnect backoff: doubles from min to max after each failed attempt, with jitter. */
    reconnectMinS: Type.Number({ minimum: 0.1, maximum: 3600, default: 1 }),
    reconnectMaxS: Type.Number({ minimum: 0.1, maximum: 3600, default: 60 }),
    /**
     * Another box connecting with this identity takes the connection over (agent/takeover.ts): reconnects
     * then wait minutes, doubling from min to max with ±50 % jitter, so the two boxes stop fighting.
     */
    takeoverBackoffMinS: Type.Number({ minimum: 1, maximum: 86_400, default: 60 }),
    takeoverBackoffMaxS: Type.Number({ minimum: 1, maximum: 86_400, default: 900 }),
    /** Batches published and not yet acknowledged, at most. */
    inflight: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    /** Publish rate cap, batches per second: a backlog replays at this pace after an outage. */
    maxBatchesPerS: Type.Number({ minimum: 0.1, maximum: 1000, default: 20 }),
  },
  { additionalProperties: false },
);
export type MqttClientConfig = Type.Static<typeof MqttClientConfig>;

export const SpoolConfig = Type.Object(
  {
    dir: Type.String({ default: '/var/lib/vigie/spool' }),
    /** Disk budget of unacknowledged batches; past it the oldest are dropped (and counted). */
    maxBytes: Type.Integer({ minimum: 65536, default: 64 * 1024 * 1024 }),
  },
  { additionalProperties: false, default: {} },
);
export type SpoolConfig = Type.Static<typeof SpoolConfig>;

export const AgentConfig = Type.Object(
  {
    uai: UaiSchema,
    id: Type.String({ pattern: AGENT_ID_PATTERN, default: 'box' }),
    /** Absent: the agent measures and spools, publishing nothing (until a broker is configured). */
    mqtt: Type.Optional(MqttClientConfig),
    spool: SpoolConfig,
    /** Samples gathered over this period go out as one batch (fewer messages, fewer disk syncs). */
    batchIntervalS: Type.Number({ minimum: 0.1, maximum: 3600, default: 10 }),
    /** The school's contracted access bandwidth: wan samples then carry % of contract. */
    contractedMbps: Type.Optional(
      Type.Object(
        { down: Type.Number({ exclusiveMinimum: 0 }), up: Type.Number({ exclusiveMinimum: 0 }) },
        { additionalProperties: false },
      ),
    ),
    probes: ProbesConfig,
  },
  { additionalProperties: false },
);
export type AgentConfig = Type.Static<typeof AgentConfig>;

/** What the agent reads of a config file: its own section; the others (collector...) are not its business. */
export const AgentFile = Type.Object({ agent: AgentConfig }, { additionalProperties: true });
