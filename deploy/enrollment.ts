// Which MQTT credentials and which speed-test secret exist after an enrollment run: a pure function of
// the previous state, the registry and the requested rotations. Existing secrets are kept, so
// re-running is harmless.
import { randomBytes } from 'node:crypto';
import { redactUrl, urlHasCredentials } from '../shared/secrets.ts';
import type { Uai } from '../shared/uai.ts';

export const COLLECTOR_USER = 'vigie-collector';
/** 2: the speed-test secret and URL. A version 1 state still loads and gains a secret. */
export const STATE_VERSION = 2;
/** Where install-agent.sh puts the CA certificate on the school's box. */
export const DEFAULT_AGENT_CA = '/etc/vigie/ca.crt';
/** `--rotate speedtest` replaces the secret every school's speed-test token derives from. */
export const SPEEDTEST_ROTATION = 'speedtest';
/** Where the collector serves the speed test (collector/http/speedtest-mount.ts). */
export const SPEEDTEST_MOUNT = '/speedtest';

export interface Credential {
  username: string;
  password: string;
  /** `$7$` hash kept with the password so the password file only changes when a credential does. */
  hash: string;
  issuedAt: string;
}

/** The collector's `http.speedtest.secret`: each school's token is an HMAC of its UAI under it. */
export interface SpeedtestSecret {
  secret: string;
  issuedAt: string;
}

export interface EnrollmentState {
  version: typeof STATE_VERSION;
  broker: string;
  ca: string;
  /** The collector's speed-test base URL as agents reach it; absent: agent configs carry no speed test. */
  speedtestUrl?: string;
  collector: Credential;
  speedtest: SpeedtestSecret;
  schools: Record<string, Credential>;
}

/** A state as read from disk: one written by version 1 has no speed-test secret yet. */
export type StoredState = Omit<EnrollmentState, 'version' | 'speedtest'> & {
  version: 1 | typeof STATE_VERSION;
  speedtest?: SpeedtestSecret;
};

export interface EnrollmentRequest {
  broker?: string;
  ca?: string;
  speedtestUrl?: string;
  /** UAIs, `collector` or `speedtest`, whose credential or secret is replaced. */
  rotate: string[];
}

export interface EnrollmentChanges {
  added: string[];
  kept: string[];
  rotated: string[];
  revoked: string[];
}

export type SecretChange = 'issued' | 'kept' | 'rotated';

export type CredentialMaker = (username: string, now: Date) => Credential;

/** 256 random bits, URL-safe base64, like the MQTT passwords. */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

export class EnrollmentError extends Error {
  override name = 'EnrollmentError';
}

/**
 * Agents fetch `{url}/download` and `{url}/upload` with their token in a header: https only, and
 * nothing after the path that appending would break. Returned without a trailing slash.
 */
export function speedtestBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EnrollmentError(
      `--speedtest-url ${raw}: not a URL (e.g. https://vigie.example.org${SPEEDTEST_MOUNT})`,
    );
  }
  if (url.protocol !== 'https:')
    throw new EnrollmentError(
      `--speedtest-url ${raw}: use https:// (the collector behind its TLS proxy), each school's token must not travel in clear`,
    );
  if (url.search || url.hash || url.username || url.password)
    throw new EnrollmentError(
      `--speedtest-url ${raw}: no query, fragment or user name; agents append /download and /upload to it`,
    );
  return url.href.replace(/\/+$/, '');
}

export function planEnrollment(
  previous: StoredState | undefined,
  uais: readonly Uai[],
  request: EnrollmentRequest,
  issue: CredentialMaker,
  now: Date,
  newSecret: () => string = randomSecret,
): { state: EnrollmentState; changes: EnrollmentChanges; speedtest: SecretChange } {
  const broker = request.broker ?? previous?.broker;
  if (!broker)
    throw new EnrollmentError('--broker is required on the first run (e.g. mqtts://mqtt.example.org:8883)');
  // Each agent gets its own account: a user:password in the URL would be copied into every school's config.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(broker) || urlHasCredentials(broker))
    throw new EnrollmentError(
      `--broker ${redactUrl(broker)}: no user name or password in the URL; each school gets its own credential (written to agents/<UAI>.yaml)`,
    );
  if (!/^(mqtts|wss):\/\//.test(broker)) {
    throw new EnrollmentError(
      `--broker ${broker}: use mqtts:// (or wss://), the passwords must not travel in clear`,
    );
  }
  const ca = request.ca ?? previous?.ca ?? DEFAULT_AGENT_CA;
  const speedtestUrl =
    request.speedtestUrl === undefined ? previous?.speedtestUrl : speedtestBaseUrl(request.speedtestUrl);
  const known = new Set<string>(uais);
  const special = new Set(['collector', COLLECTOR_USER, SPEEDTEST_ROTATION]);
  const unknown = request.rotate.filter((r) => !special.has(r) && !known.has(r));
  if (unknown.length)
    throw new EnrollmentError(`cannot rotate ${unknown.join(', ')}: not in the school registry`);
  const rotate = new Set(request.rotate.map((r) => (r === 'collector' ? COLLECTOR_USER : r)));

  const changes: EnrollmentChanges = { added: [], kept: [], rotated: [], revoked: [] };
  const schools: Record<string, Credential> = {};
  for (const uai of [...uais].sort()) {
    const old = previous?.schools[uai];
    if (!old) changes.added.push(uai);
    else if (rotate.has(uai)) changes.rotated.push(uai);
    else changes.kept.push(uai);
    schools[uai] = old && !rotate.has(uai) ? old : issue(uai, now);
  }
  for (const uai of Object.keys(previous?.schools ?? {})) if (!known.has(uai)) changes.revoked.push(uai);

  let collector = previous?.collector;
  if (!collector || rotate.has(COLLECTOR_USER)) {
    if (collector) changes.rotated.push(COLLECTOR_USER);
    else changes.added.push(COLLECTOR_USER);
    collector = issue(COLLECTOR_USER, now);
  }

  const oldSecret = previous?.speedtest;
  const speedtestChange: SecretChange = !oldSecret
    ? 'issued'
    : rotate.has(SPEEDTEST_ROTATION)
      ? 'rotated'
      : 'kept';
  const speedtest =
    oldSecret && speedtestChange === 'kept'
      ? oldSecret
      : { secret: newSecret(), issuedAt: now.toISOString() };

  const state: EnrollmentState = {
    version: STATE_VERSION,
    broker,
    ca,
    ...(speedtestUrl ? { speedtestUrl } : {}),
    collector,
    speedtest,
    schools,
  };
  return { state, changes, speedtest: speedtestChange };
}
