// The whole config file, for `vigie config check`: one section per process, any of them may be absent.
// Each section's schema and rules are its process's own (agent/config-file.ts, collector/config-file.ts).
import Type from 'typebox';
import { AgentConfig } from '../agent/config.ts';
import { checkAgentFile } from '../agent/config-file.ts';
import { CollectorConfig } from '../collector/config.ts';
import { checkCollectorFile } from '../collector/config-file.ts';
import { loadConfigFile } from '../shared/config.ts';

export const VigieConfig = Type.Object(
  {
    agent: Type.Optional(AgentConfig),
    collector: Type.Optional(CollectorConfig),
  },
  { additionalProperties: false },
);
export type VigieConfig = Type.Static<typeof VigieConfig>;

/** Every section's rules across keys (no broker password over plaintext MQTT to another host). */
export function checkVigieConfig(config: VigieConfig) {
  const agent = checkAgentFile(config);
  const collector = checkCollectorFile(config);
  return {
    problems: [...agent.problems, ...collector.problems],
    warnings: [...agent.warnings, ...collector.warnings],
  };
}

/** Loads and checks a Vigie config file; throws ConfigError (see shared/config.ts loadConfigFile). */
export const loadVigieConfig = (file: string, env: NodeJS.ProcessEnv = process.env) =>
  loadConfigFile(file, VigieConfig, env, checkVigieConfig);
