// A broker password must not cross the network in clear. An `mqtt://` (or ws://, tcp://) URL with a
// password, in the field or in the URL, is refused unless the host is this machine (loopback) or the
// config says `allowPlaintextPassword: true` (a network the team trusts); then it is said at every start.
import type { ConfigProblem } from './config.ts';
import { redactUrl } from './secrets.ts';

export interface MqttConnectionSettings {
  url: string;
  password?: string;
  allowPlaintextPassword?: boolean;
}

const PLAINTEXT = new Set(['mqtt:', 'ws:', 'tcp:']);

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The problem (refusal) or warning for the MQTT section at `path` (`agent.mqtt`): none for TLS, for
 * no password, for a loopback host; a problem naming `path`.url otherwise, or a warning when
 * `allowPlaintextPassword` is true. An unparsable URL is left to the schema's own error.
 */
export function mqttCleartextCheck(
  path: string,
  mqtt: MqttConnectionSettings | undefined,
): { problems: ConfigProblem[]; warnings: string[] } {
  const none = { problems: [], warnings: [] };
  if (!mqtt) return none;
  let url: URL;
  try {
    url = new URL(mqtt.url);
  } catch {
    return none;
  }
  const hasPassword = Boolean(mqtt.password) || url.password !== '';
  if (!PLAINTEXT.has(url.protocol) || !hasPassword || isLoopback(url.hostname)) return none;
  const shown = redactUrl(mqtt.url);
  if (mqtt.allowPlaintextPassword)
    return {
      problems: [],
      warnings: [
        `${path}: the broker password goes to ${url.host} in clear over ${url.protocol}// (allowPlaintextPassword: true); use mqtts:// unless this network is trusted`,
      ],
    };
  return {
    problems: [
      {
        path: `${path}.url`,
        expected: `a TLS URL (mqtts:// or wss://) since a password is set: over ${url.protocol}// it would cross the network in clear (on a network you trust, set ${path}.allowPlaintextPassword: true)`,
        found: `"${shown}" (plaintext)`,
      },
    ],
    warnings: [],
  };
}
