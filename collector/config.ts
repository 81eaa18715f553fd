// The collector's section of the config file (`collector:`).
import Type from 'typebox';

export const CollectorConfig = Type.Object(
  {
    /** School registry, CSV or YAML. */
    schools: Type.Optional(Type.String()),
    mqtt: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^(mqtts?|wss?|tcp|tls)://' }),
          username: Type.Optional(Type.String()),
          password: Type.Optional(Type.String()),
          ca: Type.Optional(Type.String()),
          clientId: Type.String({ default: 'vigie-collector' }),
          group: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+$' })),
        },
        { additionalProperties: false },
      ),
    ),
    influx: Type.Object(
      {
        url: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8086' }),
        database: Type.String({ minLength: 1, default: 'vigie' }),
        username: Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type CollectorConfig = Type.Static<typeof CollectorConfig>;
