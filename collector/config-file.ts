// What `vigie collector` (and its helper commands) read of the config file: the `collector:` section,
// validated here; any other section belongs to another process and is passed through unread.
import Type from 'typebox';
import { mqttCleartextCheck } from '../shared/cleartext.ts';
import { loadConfigFile } from '../shared/config.ts';
import type { StartFile } from '../shared/start-files.ts';
import { CollectorConfig } from './config.ts';

export const CollectorFile = Type.Object(
  { collector: Type.Optional(CollectorConfig) },
  { additionalProperties: true },
);
export type CollectorFile = Type.Static<typeof CollectorFile>;

/**
 * Rules across the collector's keys: no broker password over plaintext MQTT to another host; a
 * warning when alerts would link to a dashboard on loopback in a deployment (a real broker or an
 * alert channel: the demo has neither), since whoever reads the alert cannot open it.
 */
export const checkCollectorFile = (file: { collector?: CollectorConfig }) => {
  const cleartext = mqttCleartextCheck('collector.mqtt', file.collector?.mqtt);
  return {
    ...cleartext,
    warnings: [...(cleartext.warnings ?? []), ...dashboardLinkWarnings(file.collector)],
  };
};

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)$/i;

const EXAMPLE_HOST = /(^|\.)example\.(org|com|net)$/i;

function dashboardLinkWarnings(c: CollectorConfig | undefined): string[] {
  if (!c) return [];
  const ch = c.alerts?.channels;
  const deployed = Boolean(c.mqtt) || Boolean(ch?.webhooks?.length || ch?.email || ch?.alertmanager);
  if (!deployed) return [];
  return (['schoolUrl', 'fleetUrl'] as const).flatMap((key) => {
    const url = c.alerts?.dashboard?.[key];
    let host = '';
    try {
      host = url ? new URL(url.replace('{uai}', 'x')).hostname : '';
    } catch {
      return [
        `collector.alerts.dashboard.${key}: "${url}" is not a URL: alerts carry it as their dashboard link`,
      ];
    }
    if (LOOPBACK_HOST.test(host))
      return [
        `collector.alerts.dashboard.${key} is ${url}: every alert links there, which only this machine can open; set the Grafana address your team reaches (docs/deploy.md)`,
      ];
    if (EXAMPLE_HOST.test(host))
      return [
        `collector.alerts.dashboard.${key} is ${url}, still the example address: set the Grafana address your team reaches (docs/deploy.md)`,
      ];
    return [];
  });
}

/** Loads and checks the collector's section of a config file; throws ConfigError (shared/config.ts). */
export const loadCollectorConfig = (file: string, env: NodeJS.ProcessEnv = process.env) =>
  loadConfigFile(file, CollectorFile, env, checkCollectorFile);

/**
 * What `vigie collector` opens at start: the registry, the broker's CA (or the embedded broker's
 * password file and TLS pair), the WAL folder, the points file, the silences and maintenance file.
 * `config` as resolved (resolveCollectorConfig: windowsFile has its default).
 */
export function collectorStartFiles(config: CollectorConfig): StartFile[] {
  const read = (key: string, path: string | undefined): StartFile[] =>
    path ? [{ key: `collector.${key}`, path, need: 'read' }] : [];
  return [
    ...read('schools', config.schools),
    ...(config.mqtt
      ? read('mqtt.ca', config.mqtt.ca)
      : [
          ...read('broker.passwordFile', config.broker.passwordFile),
          ...read('broker.tls.cert', config.broker.tls?.cert),
          ...read('broker.tls.key', config.broker.tls?.key),
        ]),
    { key: 'collector.wal.dir', path: config.wal.dir, need: 'dir' },
    ...(config.pointsFile
      ? [{ key: 'collector.pointsFile', path: config.pointsFile, need: 'file' as const }]
      : []),
    ...(config.http.enabled && config.http.windowsFile
      ? [{ key: 'collector.http.windowsFile', path: config.http.windowsFile, need: 'file' as const }]
      : []),
  ];
}
