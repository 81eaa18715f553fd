// What `vigie agent` reads of the config file: the `agent:` section, validated here; any other section
// belongs to another process and is passed through unread.
import { mqttCleartextCheck } from '../shared/cleartext.ts';
import { type ConfigProblem, loadConfigFile } from '../shared/config.ts';
import type { StartFile } from '../shared/start-files.ts';
import { type AgentConfig, AgentFile } from './config.ts';
import { probeLabelProblems } from './config-labels.ts';
import { worstRoundS } from './probes/ping.ts';
import { speedtestHours } from './probes/speedtest-schedule.ts';

/**
 * Rules across the agent's keys: no broker password over plaintext MQTT to another host; every name
 * that becomes a tag is a label InfluxDB can store (agent/config-labels.ts).
 */
export function checkAgentFile(file: { agent?: AgentConfig }) {
  const mqtt = mqttCleartextCheck('agent.mqtt', file.agent?.mqtt);
  return {
    problems: [
      ...mqtt.problems,
      ...probeLabelProblems(file.agent?.probes),
      ...speedtestHoursProblems(file.agent),
    ],
    warnings: [...mqtt.warnings, ...pingRoundWarnings(file.agent)],
  };
}

/** A ping round whose silent targets cannot all be pinged before its timeout (agent/probes/ping.ts). */
export function pingRoundWarnings(agent: AgentConfig | undefined): string[] {
  const ping = agent?.probes?.ping;
  if (!ping?.enabled) return [];
  const worstS = worstRoundS(ping.targets.length, ping);
  if (worstS <= ping.timeoutS) return [];
  return [
    `agent.probes.ping: with its ${ping.targets.length} targets silent, a round would last ${worstS} s, past timeoutS ${ping.timeoutS}: the targets cut give no sample (fewer targets, a smaller count or echoTimeoutS, or a longer timeoutS) / ` +
      `avec ses ${ping.targets.length} cibles muettes, un tour durerait ${worstS} s, au-delà de timeoutS ${ping.timeoutS} : les cibles coupées n’ont pas de mesure`,
  ];
}

/** The speed test's zone and hours, read as the agent will (an unknown zone named at its key). */
function speedtestHoursProblems(agent: AgentConfig | undefined): ConfigProblem[] {
  const speedtest = agent?.probes?.speedtest;
  if (!speedtest) return [];
  try {
    speedtestHours(speedtest);
    return [];
  } catch (err) {
    const zone = err instanceof RangeError;
    return [
      {
        path: zone ? 'agent.probes.speedtest.timezone' : 'agent.probes.speedtest.hours',
        expected: zone ? 'an IANA time zone, e.g. Europe/Paris' : 'valid opening hours',
        found: zone ? JSON.stringify(speedtest.timezone) : (err as Error).message,
      },
    ];
  }
}

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
