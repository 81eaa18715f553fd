// `vigie enroll`: reads the school registry and the previous run's state in OUT, writes the broker's
// password file and ACL, the collector's credential and speed-test secret and one agent config per school.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import Type from 'typebox';
import { AgentFile } from '../agent/config.ts';
import { loadCollectorConfig } from '../collector/config-file.ts';
import { parseConfigText } from '../shared/config.ts';
import { checkHoursProfiles, loadRegistry, type School } from '../shared/registry.ts';
import { DEFAULT_HOURS_PROFILES } from '../shared/school-hours.ts';
import { agentConfigFile, renderEnrollment, STATE_FILE } from './enroll-files.ts';
import {
  type Credential,
  type EnrollmentChanges,
  EnrollmentError,
  planEnrollment,
  randomSecret,
  type SecretChange,
  STATE_VERSION,
  type StoredState,
} from './enrollment.ts';
import { hashPassword, verifyPassword } from './mosquitto-passwd.ts';

const CredentialSchema = Type.Object({
  username: Type.String({ minLength: 1 }),
  password: Type.String({ minLength: 16 }),
  hash: Type.String({ pattern: '^\\$7\\$' }),
  issuedAt: Type.String(),
});
const V1 = {
  broker: Type.String({ minLength: 1 }),
  ca: Type.String({ minLength: 1 }),
  collector: CredentialSchema,
  schools: Type.Record(Type.String(), CredentialSchema),
};
const ajv = new Ajv({ strict: false });
/** Every version this one reads; older ones gain what they lack in planEnrollment. */
const stateValidators: Record<number, ValidateFunction> = {
  1: ajv.compile(Type.Object({ version: Type.Literal(1), ...V1 })),
  [STATE_VERSION]: ajv.compile(
    Type.Object({
      version: Type.Literal(STATE_VERSION),
      ...V1,
      speedtestUrl: Type.Optional(Type.String({ pattern: '^https://' })),
      speedtest: Type.Object({ secret: Type.String({ minLength: 32 }), issuedAt: Type.String() }),
    }),
  ),
};

export interface EnrollOptions {
  schools: string;
  out: string;
  broker?: string;
  ca?: string;
  speedtestUrl?: string;
  /** The collector's config file: its collector.alerts.hours profiles are known beside the default set. */
  config?: string;
  rotate?: string[];
  now?: Date;
}

export interface EnrollResult {
  changes: EnrollmentChanges;
  speedtest: SecretChange;
  /** Remembered from an earlier run when not given this time. */
  speedtestUrl?: string;
  /** The agent configs' speed-test URL differs from the previous run's. */
  speedtestUrlChanged: boolean;
  /** The state file was written by an older version and upgraded. */
  migratedFrom?: number;
  written: string[];
}

/** URL-safe base64: no character that needs quoting in YAML, env files or shells. */
export function issueCredential(username: string, now: Date): Credential {
  const password = randomSecret();
  return { username, password, hash: hashPassword(password), issuedAt: now.toISOString() };
}

function readState(out: string): StoredState | undefined {
  const file = join(out, STATE_FILE);
  if (!existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EnrollmentError(
      `${file}: not valid JSON (${(err as Error).message}); fix or restore it, it holds every issued credential`,
    );
  }
  const version = (data as { version?: unknown } | null)?.version;
  const validate = typeof version === 'number' ? stateValidators[version] : undefined;
  if (!validate) {
    throw new EnrollmentError(
      `${file}: version ${JSON.stringify(version)}, this vigie reads versions ${Object.keys(stateValidators).join(' and ')}; use the vigie that wrote it, or restore it`,
    );
  }
  if (!validate(data)) {
    const e = validate.errors?.[0];
    throw new EnrollmentError(
      `${file}: ${e?.instancePath || '(top level)'} ${e?.message}; fix or restore it, it holds every issued credential`,
    );
  }
  const state = data as StoredState;
  for (const cred of [state.collector, ...Object.values(state.schools)]) {
    if (!verifyPassword(cred.password, cred.hash)) cred.hash = hashPassword(cred.password);
  }
  return state;
}

function writeAtomically(file: string, content: string, mode: number): void {
  // A folder of readable files stays traversable (the broker reads mosquitto/ as its own user).
  mkdirSync(dirname(file), { recursive: true, mode: mode === 0o644 ? 0o755 : 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** Every generated agent config must load with the agent's own schema, as `vigie agent` will. */
function checkAgentConfig(path: string, text: string): void {
  parseConfigText(path, text, AgentFile, {});
}

export function enroll(opts: EnrollOptions): EnrollResult {
  const registry = loadRegistry(opts.schools);
  if (registry.size === 0) throw new EnrollmentError(`${opts.schools}: no school in the registry`);
  const ownProfiles = opts.config
    ? Object.keys(loadCollectorConfig(opts.config).config.collector?.alerts?.hours ?? {})
    : [];
  checkHoursProfiles(opts.schools, registry, [...Object.keys(DEFAULT_HOURS_PROFILES), ...ownProfiles]);
  const previous = readState(opts.out);
  const { state, changes, speedtest } = planEnrollment(
    previous,
    [...registry.keys()],
    { broker: opts.broker, ca: opts.ca, speedtestUrl: opts.speedtestUrl, rotate: opts.rotate ?? [] },
    issueCredential,
    opts.now ?? new Date(),
  );
  const schools: School[] = [...registry.values()].sort((a, b) => a.uai.localeCompare(b.uai));
  const files = renderEnrollment(state, schools);
  for (const f of files)
    if (f.path.startsWith('agents/')) checkAgentConfig(join(opts.out, f.path), f.content);
  // Traversable: the broker reads mosquitto/ as its own user; every secret file is 0600 itself.
  mkdirSync(opts.out, { recursive: true, mode: 0o755 });
  // The state goes first: if a later write fails, a re-run renders the same credentials again.
  for (const f of files) writeAtomically(join(opts.out, f.path), f.content, f.mode);
  for (const uai of changes.revoked) rmSync(join(opts.out, agentConfigFile(uai)), { force: true });
  return {
    changes,
    speedtest,
    ...(state.speedtestUrl ? { speedtestUrl: state.speedtestUrl } : {}),
    speedtestUrlChanged: state.speedtestUrl !== previous?.speedtestUrl,
    ...(previous && previous.version !== STATE_VERSION ? { migratedFrom: previous.version } : {}),
    written: files.map((f) => f.path),
  };
}
