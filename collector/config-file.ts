// What `vigie collector` (and its helper commands) read of the config file: the `collector:` section,
// validated here; any other section belongs to another process and is passed through unread.
import Type from 'typebox';
import { mqttCleartextCheck } from '../shared/cleartext.ts';
import { loadConfigFile } from '../shared/config.ts';
import { CollectorConfig } from './config.ts';

export const CollectorFile = Type.Object(
  { collector: Type.Optional(CollectorConfig) },
  { additionalProperties: true },
);
export type CollectorFile = Type.Static<typeof CollectorFile>;

/** Rules across the collector's keys: no broker password over plaintext MQTT to another host. */
export const checkCollectorFile = (file: { collector?: CollectorConfig }) =>
  mqttCleartextCheck('collector.mqtt', file.collector?.mqtt);

/** Loads and checks the collector's section of a config file; throws ConfigError (shared/config.ts). */
export const loadCollectorConfig = (file: string, env: NodeJS.ProcessEnv = process.env) =>
  loadConfigFile(file, CollectorFile, env, checkCollectorFile);
