// `vigie enroll`: reads the school registry and the previous run's state in OUT, writes the broker's
// password file and ACL, the collector's credential and one agent config per school.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import Type from 'typebox';
import { VigieConfig } from '../cli/config-file.ts';
import { parseConfigText } from '../shared/config.ts';
import { loadRegistry, type School } from '../shared/registry.ts';
import { agentConfigFile, renderEnrollment, STATE_FILE } from './enroll-files.ts';
import {
  type Credential,
  type EnrollmentChanges,
  EnrollmentError,
  type EnrollmentState,
  planEnrollment,
  STATE_VERSION,
} from './enrollment.ts';
import { hashPassword, verifyPassword } from './mosquitto-passwd.ts';

const CredentialSchema = Type.Object({
  username: Type.String({ minLength: 1 }),
  password: Type.String({ minLength: 16 }),
  hash: Type.String({ pattern: '^\\$7\\$' }),
  issuedAt: Type.String(),
});
const StateSchema = Type.Object({
  version: Type.Literal(STATE_VERSION),
  broker: Type.String({ minLength: 1 }),
  ca: Type.String({ minLength: 1 }),
  collector: CredentialSchema,
  schools: Type.Record(Type.String(), CredentialSchema),
});
const validateState = new Ajv({ strict: false }).compile(StateSchema);

export interface EnrollOptions {
  schools: string;
  out: string;
  broker?: string;
  ca?: string;
  rotate?: string[];
  now?: Date;
}

export interface EnrollResult {
  changes: EnrollmentChanges;
  written: string[];
}

/** 256 random bits, URL-safe base64: no character that needs quoting in YAML, env files or shells. */
export function issueCredential(username: string, now: Date): Credential {
  const password = randomBytes(32).toString('base64url');
  return { username, password, hash: hashPassword(password), issuedAt: now.toISOString() };
}

function readState(out: string): EnrollmentState | undefined {
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
  if (!validateState(data)) {
    const e = validateState.errors?.[0];
    throw new EnrollmentError(
      `${file}: ${e?.instancePath || '(top level)'} ${e?.message}; fix or restore it, it holds every issued credential`,
    );
  }
  const state = data as EnrollmentState;
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

/** Every generated agent config must load with the real config schema, as `vigie config check` would. */
function checkAgentConfig(path: string, text: string): void {
  parseConfigText(path, text, VigieConfig, {});
}

export function enroll(opts: EnrollOptions): EnrollResult {
  const registry = loadRegistry(opts.schools);
  if (registry.size === 0) throw new EnrollmentError(`${opts.schools}: no school in the registry`);
  const previous = readState(opts.out);
  const { state, changes } = planEnrollment(
    previous,
    [...registry.keys()],
    { broker: opts.broker, ca: opts.ca, rotate: opts.rotate ?? [] },
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
  return { changes, written: files.map((f) => f.path) };
}
