// The agent's section of the config file (`agent:`).
import Type from 'typebox';
import { AGENT_ID_PATTERN } from '../shared/topics.ts';
import { UAI_PATTERN } from '../shared/uai.ts';

export const MqttClientConfig = Type.Object(
  {
    url: Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://', description: 'broker URL, mqtts:// for TLS' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    /** PEM file of the CA that signed the broker's certificate. */
    ca: Type.Optional(Type.String()),
    keepaliveS: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
  },
  { additionalProperties: false },
);

export const AgentConfig = Type.Object(
  {
    uai: Type.String({ pattern: UAI_PATTERN }),
    id: Type.String({ pattern: AGENT_ID_PATTERN, default: 'box' }),
    mqtt: Type.Optional(MqttClientConfig),
    spool: Type.Object(
      {
        dir: Type.String({ default: '/var/lib/vigie/spool' }),
        maxBytes: Type.Integer({ minimum: 65536, default: 64 * 1024 * 1024 }),
      },
      { additionalProperties: false, default: {} },
    ),
    probes: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  },
  { additionalProperties: false },
);
export type AgentConfig = Type.Static<typeof AgentConfig>;
