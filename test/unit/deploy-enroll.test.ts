import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { VigieConfig } from '../../cli/config-file.ts';
import { buildAcl, buildHealthAcl, HEALTH_PASSWORD, HEALTH_USER } from '../../deploy/acl.ts';
import {
  agentConfig,
  healthPasswordFile,
  passwordFile,
  renderEnrollment,
} from '../../deploy/enroll-files.ts';
import {
  COLLECTOR_USER,
  DEFAULT_AGENT_CA,
  EnrollmentError,
  planEnrollment,
} from '../../deploy/enrollment.ts';
import { hashPassword, passwordFileLine, verifyPassword } from '../../deploy/mosquitto-passwd.ts';
import { parseConfigText } from '../../shared/config.ts';
import type { School } from '../../shared/registry.ts';
import type { Uai } from '../../shared/uai.ts';
import { fakeIssuer } from '../harness/enroll-fakes.ts';

// Written by Debian's mosquitto_passwd 2.0.11 for the password "secret".
const MOSQUITTO_PASSWD_SECRET =
  '$7$101$4KGHP7UYs3Myw4Ni$aD9lJCBveFwblZg+STwQOG/5jLg+Gf829VFayf2QZWxYz8VnyOOdPtXV5f95bHZLmgJ9kIv59Wm/HrFo8CIeTw==';

const A = '0690001B' as Uai;
const B = '0380042P' as Uai;
const NOW = new Date('2026-09-01T08:00:00Z');
const issue = fakeIssuer();
const school = (uai: Uai, name = 'École du Centre'): School => ({
  uai,
  name,
  commune: 'Vienne',
  lat: 45.5,
  lon: 4.8,
  isp: 'Orange',
  contractedDownMbps: 100,
  contractedUpMbps: 20,
  hours: 'school',
});

describe('mosquitto password hashes', () => {
  it('reproduces mosquitto_passwd byte for byte given its salt', () => {
    const salt = Buffer.from('4KGHP7UYs3Myw4Ni', 'base64');
    expect(hashPassword('secret', 101, salt)).toBe(MOSQUITTO_PASSWD_SECRET);
  });

  it('writes $7$, 101 rounds, a 12-byte salt and a 64-byte SHA-512 hash, salted afresh each time', () => {
    const h = hashPassword('p');
    const [, seven, rounds, salt, hash] = h.split('$');
    expect([seven, rounds]).toEqual(['7', '101']);
    expect(Buffer.from(salt!, 'base64')).toHaveLength(12);
    expect(Buffer.from(hash!, 'base64')).toHaveLength(64);
    expect(hashPassword('p')).not.toBe(h);
  });

  it('verifies the right password only, and nothing from another format', () => {
    expect(verifyPassword('secret', MOSQUITTO_PASSWD_SECRET)).toBe(true);
    expect(verifyPassword('Secret', MOSQUITTO_PASSWD_SECRET)).toBe(false);
    expect(verifyPassword('secret', '$6$101$abc$def')).toBe(false);
    expect(verifyPassword('secret', 'plain')).toBe(false);
  });

  it('refuses a username the password file cannot hold', () => {
    expect(() => passwordFileLine('a:b', 'h')).toThrow(/cannot go in a password file/);
    expect(() => passwordFileLine('a b', 'h')).toThrow();
    expect(passwordFileLine(A, 'h')).toBe(`${A}:h`);
  });
});

describe('enrollment plan', () => {
  const first = () => planEnrollment(undefined, [B, A], { broker: 'mqtts://m:8883', rotate: [] }, issue, NOW);

  it('issues one credential per school, named by its UAI, and one for the collector', () => {
    const { state, changes } = first();
    expect(changes).toEqual({ added: [B, A, COLLECTOR_USER].sort(), kept: [], rotated: [], revoked: [] });
    expect(state.schools[A]!.username).toBe(A);
    expect(state.collector.username).toBe(COLLECTOR_USER);
    expect(state.ca).toBe(DEFAULT_AGENT_CA);
  });

  it('keeps every credential on a re-run, and the broker URL and CA path given the first time', () => {
    const { state } = first();
    const again = planEnrollment(state, [A, B], { rotate: [] }, issue, NOW);
    expect(again.state).toEqual(state);
    expect(again.changes).toEqual({ added: [], kept: [B, A], rotated: [], revoked: [] });
  });

  it('rotates exactly the schools asked for, or the collector', () => {
    const { state } = first();
    const next = planEnrollment(state, [A, B], { rotate: [A, 'collector'] }, issue, NOW);
    expect(next.changes.rotated).toEqual([A, COLLECTOR_USER]);
    expect(next.state.schools[A]!.password).not.toBe(state.schools[A]!.password);
    expect(next.state.schools[B]).toEqual(state.schools[B]);
    expect(next.state.collector.password).not.toBe(state.collector.password);
  });

  it('revokes schools gone from the registry and adds new ones', () => {
    const { state } = first();
    const next = planEnrollment(state, [A, '0010001W' as Uai], { rotate: [] }, issue, NOW);
    expect(next.changes).toMatchObject({ added: ['0010001W'], kept: [A], revoked: [B] });
    expect(Object.keys(next.state.schools)).toEqual(['0010001W', A]);
  });

  it('refuses to rotate a school outside the registry, and a first run without a broker URL', () => {
    const { state } = first();
    expect(() => planEnrollment(state, [A], { rotate: ['0010001X'] }, issue, NOW)).toThrow(
      /cannot rotate 0010001X: not in the school registry/,
    );
    expect(() => planEnrollment(undefined, [A], { rotate: [] }, issue, NOW)).toThrow(EnrollmentError);
    expect(() => planEnrollment(undefined, [A], { rotate: [] }, issue, NOW)).toThrow(/--broker is required/);
    expect(() => planEnrollment(undefined, [A], { broker: 'mqtt://m:1883', rotate: [] }, issue, NOW)).toThrow(
      /use mqtts:\/\/ .*must not travel in clear/,
    );
  });
});

describe('enrollment files', () => {
  const { state } = planEnrollment(
    undefined,
    [A, B],
    { broker: 'mqtts://mqtt.example.org:8883', rotate: [] },
    issue,
    NOW,
  );

  it('confines each school to its UAI with one %u pattern and lets the collector read everything', () => {
    const acl = buildAcl().split('\n');
    expect(acl).toContain('pattern write vigie/v1/%u/#');
    expect(acl.filter((l) => l.startsWith('pattern'))).toHaveLength(1);
    const user = acl.indexOf(`user ${COLLECTOR_USER}`);
    expect(acl.slice(user)).toContain('topic read vigie/v1/#');
    // Lines before the first `user` line would apply to anonymous clients: none, the listener refuses them.
    expect(acl.slice(0, user).filter((l) => l.startsWith('topic'))).toEqual([]);
  });

  it("gives the health listener's one account the uptime and nothing else, with a stable password file", () => {
    const acl = buildHealthAcl()
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(acl).toEqual([`user ${HEALTH_USER}`, 'topic read $SYS/broker/uptime']);
    const [user, hash] = healthPasswordFile().trim().split(':') as [string, string];
    expect(user).toBe(HEALTH_USER);
    expect(verifyPassword(HEALTH_PASSWORD, hash)).toBe(true);
    // Same bytes on every run: a re-run changes nothing the broker reads.
    expect(healthPasswordFile()).toBe(healthPasswordFile());
  });

  it('lists the collector and every school in the password file', () => {
    const lines = passwordFile(state).trim().split('\n');
    expect(lines.map((l) => l.split(':')[0]).sort()).toEqual([B, A, COLLECTOR_USER].sort());
  });

  it('writes an agent config the config schema accepts, UAI quoted, with its credential and CA', () => {
    const text = agentConfig(state, school(A, 'École "Les Tilleuls": maternelle'));
    expect(text).toContain(`uai: "${A}"`);
    const { config } = parseConfigText('a.yaml', text, VigieConfig, {});
    expect(config.agent).toMatchObject({
      uai: A,
      mqtt: {
        url: 'mqtts://mqtt.example.org:8883',
        username: A,
        password: state.schools[A]!.password,
        ca: DEFAULT_AGENT_CA,
      },
    });
    expect(parse(text).agent.uai).toBe(A);
  });

  it('keeps clear-text secrets owner-only and the broker files world-readable', () => {
    const modes = Object.fromEntries(
      renderEnrollment(state, [school(A), school(B)]).map((f) => [f.path, f.mode]),
    );
    expect(modes).toEqual({
      'credentials.json': 0o600,
      'collector.env': 0o600,
      [`agents/${A}.yaml`]: 0o600,
      [`agents/${B}.yaml`]: 0o600,
      'mosquitto/passwd': 0o644,
      'mosquitto/acl': 0o644,
      'mosquitto/health-passwd': 0o644,
      'mosquitto/health-acl': 0o644,
    });
  });
});
