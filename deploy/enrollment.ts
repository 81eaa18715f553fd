// Which MQTT credentials exist after an enrollment run: a pure function of the previous state, the
// registry and the requested rotations. Existing credentials are kept, so re-running is harmless.
import type { Uai } from '../shared/uai.ts';

export const COLLECTOR_USER = 'vigie-collector';
export const STATE_VERSION = 1;
/** Where install-agent.sh puts the CA certificate on the school's box. */
export const DEFAULT_AGENT_CA = '/etc/vigie/ca.crt';

export interface Credential {
  username: string;
  password: string;
  /** `$7$` hash kept with the password so the password file only changes when a credential does. */
  hash: string;
  issuedAt: string;
}

export interface EnrollmentState {
  version: typeof STATE_VERSION;
  broker: string;
  ca: string;
  collector: Credential;
  schools: Record<string, Credential>;
}

export interface EnrollmentRequest {
  broker?: string;
  ca?: string;
  /** UAIs, or `collector`, whose credential is replaced. */
  rotate: string[];
}

export interface EnrollmentChanges {
  added: string[];
  kept: string[];
  rotated: string[];
  revoked: string[];
}

export type CredentialMaker = (username: string, now: Date) => Credential;

export class EnrollmentError extends Error {
  override name = 'EnrollmentError';
}

export function planEnrollment(
  previous: EnrollmentState | undefined,
  uais: readonly Uai[],
  request: EnrollmentRequest,
  issue: CredentialMaker,
  now: Date,
): { state: EnrollmentState; changes: EnrollmentChanges } {
  const broker = request.broker ?? previous?.broker;
  if (!broker)
    throw new EnrollmentError('--broker is required on the first run (e.g. mqtts://mqtt.example.org:8883)');
  if (!/^(mqtts|wss):\/\//.test(broker)) {
    throw new EnrollmentError(
      `--broker ${broker}: use mqtts:// (or wss://), the passwords must not travel in clear`,
    );
  }
  const ca = request.ca ?? previous?.ca ?? DEFAULT_AGENT_CA;
  const known = new Set<string>(uais);
  const unknown = request.rotate.filter((r) => r !== COLLECTOR_USER && r !== 'collector' && !known.has(r));
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
  return { state: { version: STATE_VERSION, broker, ca, collector, schools }, changes };
}
