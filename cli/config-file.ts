// The whole config file: one section per process, any of them may be absent.
import Type from 'typebox';
import { AgentConfig } from '../agent/config.ts';
import { CollectorConfig } from '../collector/config.ts';
import { mqttCleartextCheck } from '../shared/cleartext.ts';
import { loadConfigFile } from '../shared/config.ts';

export const VigieConfig = Type.Object(
  {
    agent: Type.Optional(AgentConfig),
    collector: Type.Optional(CollectorConfig),
  },
  { additionalProperties: false },
);
export type VigieConfig = Type.Static<typeof VigieConfig>;

/** Rules across keys: no broker password over plaintext MQTT to another host, in either section. */
export function checkVigieConfig(config: VigieConfig) {
  const agent = mqttCleartextCheck('agent.mqtt', config.agent?.mqtt);
  const collector = mqttCleartextCheck('collector.mqtt', config.collector?.mqtt);
  return {
    problems: [...agent.problems, ...collector.problems],
    warnings: [...agent.warnings, ...collector.warnings],
  };
}

/** Loads and checks a Vigie config file; throws ConfigError (see shared/config.ts loadConfigFile). */
export const loadVigieConfig = (file: string, env: NodeJS.ProcessEnv = process.env) =>
  loadConfigFile(file, VigieConfig, env, checkVigieConfig);
