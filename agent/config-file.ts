// What `vigie agent` reads of the config file: the `agent:` section, validated here; any other section
// belongs to another process and is passed through unread.
import { mqttCleartextCheck } from '../shared/cleartext.ts';
import { loadConfigFile } from '../shared/config.ts';
import type { StartFile } from '../shared/start-files.ts';
import { type AgentConfig, AgentFile } from './config.ts';

/** Rules across the agent's keys: no broker password over plaintext MQTT to another host. */
export const checkAgentFile = (file: { agent?: AgentConfig }) =>
  mqttCleartextCheck('agent.mqtt', file.agent?.mqtt);

/** Loads and checks the agent's section of a config file; throws ConfigError (shared/config.ts). */
export const loadAgentConfig = (file: string, env: NodeJS.ProcessEnv = process.env) =>
  loadConfigFile(file, AgentFile, env, checkAgentFile);

/** What `vigie agent` opens at start: the broker's CA, the spool folder (written, created when missing). */
export function agentStartFiles(agent: AgentConfig): StartFile[] {
  return [
    ...(agent.mqtt?.ca ? [{ key: 'agent.mqtt.ca', path: agent.mqtt.ca, need: 'read' as const }] : []),
    { key: 'agent.spool.dir', path: agent.spool.dir, need: 'dir' },
  ];
}
