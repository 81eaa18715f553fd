// Where the embedded broker may listen with what it is given: a pure check, run when the collector
// config is resolved, before anything starts (collector/config.ts), and again by the broker itself.
import { BlockList, isIP } from 'node:net';
import type { ConfigProblem } from '../shared/config.ts';
import type { EmbeddedBrokerConfig } from './config.ts';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** `localhost`, 127.0.0.0/8, ::1 (and its IPv4-mapped form); a wildcard (0.0.0.0, ::) or any other name is not. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && loopback.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** What the configuration lacks to listen on `host`: nothing on loopback; beyond it, accounts and TLS. */
export function embeddedBrokerProblems(config: EmbeddedBrokerConfig): ConfigProblem[] {
  if (isLoopbackHost(config.host)) return [];
  const why = `as collector.broker.host "${config.host}" is beyond loopback`;
  const otherwise = '(or set host: 127.0.0.1, or use Mosquitto: collector.mqtt.url, docs/deploy.md)';
  const problems: ConfigProblem[] = [];
  if (!config.passwordFile)
    problems.push({
      path: 'collector.broker.passwordFile',
      expected: `the password file \`vigie enroll\` writes (site/enroll/mosquitto/passwd) ${why}: without accounts anyone reaching port ${config.port} reads every school and publishes as any ${otherwise}`,
      found: 'nothing',
    });
  if (!config.tls)
    problems.push({
      path: 'collector.broker.tls',
      expected: `cert and key files (server.crt and server.key from deploy/make-pki.sh) ${why}: passwords must not travel in clear ${otherwise}`,
      found: 'nothing',
    });
  return problems;
}
