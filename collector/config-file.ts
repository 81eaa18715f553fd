// What `vigie collector` (and its helper commands) read of the config file: the `collector:` section,
// validated here; any other section belongs to another process and is passed through unread.
import Type from 'typebox';
import { mqttCleartextCheck } from '../shared/cleartext.ts';
import { loadConfigFile } from '../shared/config.ts';
import { scheduleProblems } from './alerts/schedule.ts';
import { CollectorConfig } from './config.ts';

export const CollectorFile = Type.Object(
  { collector: Type.Optional(CollectorConfig) },
  { additionalProperties: true },
);
export type CollectorFile = Type.Static<typeof CollectorFile>;

/**
 * Rules across the collector's keys: no broker password over plaintext MQTT to another host; the
 * alerts' zone, hours, holidays and windows read in that zone (collector/alerts/schedule.ts).
 */
export function checkCollectorFile(file: { collector?: CollectorConfig }) {
  const mqtt = mqttCleartextCheck('collector.mqtt', file.collector?.mqtt);
  return {
    problems: [...mqtt.problems, ...scheduleProblems(file.collector?.alerts)],
    warnings: mqtt.warnings,
  };
}

/** Loads and checks the collector's section of a config file; throws ConfigError (shared/config.ts). */
export const loadCollectorConfig = (file: string, env: NodeJS.ProcessEnv = process.env) =>
  loadConfigFile(file, CollectorFile, env, checkCollectorFile);
