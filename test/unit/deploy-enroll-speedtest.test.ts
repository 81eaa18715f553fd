// The speed-test part of enrollment: one secret kept across runs, rotated on request, added to a
// version 1 state; each agent config carries its school's token when the URL is known; the collector's
// config loader reads the secret from collector.env.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { VigieConfig } from '../../cli/config-file.ts';
import { speedtestToken, verifySpeedtestToken } from '../../collector/http/auth.ts';
import { agentConfig, collectorEnv } from '../../deploy/enroll-files.ts';
import {
  EnrollmentError,
  planEnrollment,
  randomSecret,
  STATE_VERSION,
  type StoredState,
  speedtestBaseUrl,
} from '../../deploy/enrollment.ts';
import { parseConfigText } from '../../shared/config.ts';
import type { School } from '../../shared/registry.ts';
import type { Uai } from '../../shared/uai.ts';
import { fakeIssuer } from '../harness/enroll-fakes.ts';

const A = '0690001B' as Uai;
const B = '0380042P' as Uai;
const NOW = new Date('2026-09-01T08:00:00Z');
const LATER = new Date('2026-10-01T08:00:00Z');
const issue = fakeIssuer();
const secrets = () => {
  let n = 0;
  return () => `secret-${++n}-${'x'.repeat(40)}`;
};
const school = (uai: Uai): School => ({
  uai,
  name: 'École du Centre',
  commune: 'Vienne',
  lat: 45.5,
  lon: 4.8,
  isp: 'Orange',
  contractedDownMbps: 100,
  contractedUpMbps: 20,
  hours: 'school',
});
const BROKER = 'mqtts://mqtt.example.org:8883';
const URL_ = 'https://vigie.example.org/speedtest';

/** The agent config as the agent loads it. */
const loadAgent = (text: string) => parseConfigText('agent.yaml', text, VigieConfig, {}).config.agent!;

describe('the speed-test secret in the enrollment plan', () => {
  it('is issued on the first run, then kept, with the URL, when nothing asks to rotate it', () => {
    const make = secrets();
    const first = planEnrollment(
      undefined,
      [A, B],
      { broker: BROKER, speedtestUrl: URL_, rotate: [] },
      issue,
      NOW,
      make,
    );
    expect(first.speedtest).toBe('issued');
    expect(first.state.speedtest).toEqual({
      secret: 'secret-1-' + 'x'.repeat(40),
      issuedAt: NOW.toISOString(),
    });
    expect(first.state.speedtestUrl).toBe(URL_);
    const again = planEnrollment(first.state, [A, B], { rotate: [] }, issue, LATER, make);
    expect(again.speedtest).toBe('kept');
    expect(again.state).toEqual(first.state);
  });

  it('is replaced by --rotate speedtest, and nothing else is', () => {
    const make = secrets();
    const first = planEnrollment(undefined, [A, B], { broker: BROKER, rotate: [] }, issue, NOW, make);
    const next = planEnrollment(first.state, [A, B], { rotate: ['speedtest'] }, issue, LATER, make);
    expect(next.speedtest).toBe('rotated');
    expect(next.state.speedtest).toEqual({
      secret: 'secret-2-' + 'x'.repeat(40),
      issuedAt: LATER.toISOString(),
    });
    expect(next.changes).toEqual({ added: [], kept: [B, A], rotated: [], revoked: [] });
    expect(next.state.schools).toEqual(first.state.schools);
    expect(next.state.collector).toEqual(first.state.collector);
  });

  it('is added to a version 1 state, whose credentials stay as they were', () => {
    const make = secrets();
    const { state } = planEnrollment(undefined, [A], { broker: BROKER, rotate: [] }, issue, NOW, make);
    const { speedtest: _, ...rest } = state;
    const v1: StoredState = { ...rest, version: 1 };
    const next = planEnrollment(v1, [A], { rotate: [] }, issue, LATER, make);
    expect(next.state.version).toBe(STATE_VERSION);
    expect(next.speedtest).toBe('issued');
    expect(next.state.speedtest.secret).toBe('secret-2-' + 'x'.repeat(40));
    expect(next.state.schools).toEqual(state.schools);
    expect(next.state.collector).toEqual(state.collector);
    expect(next.changes).toEqual({ added: [], kept: [A], rotated: [], revoked: [] });
  });

  it('remembers the URL, and replaces it when given again', () => {
    const first = planEnrollment(
      undefined,
      [A],
      { broker: BROKER, speedtestUrl: `${URL_}/`, rotate: [] },
      issue,
      NOW,
    );
    expect(first.state.speedtestUrl).toBe(URL_);
    const moved = planEnrollment(
      first.state,
      [A],
      { speedtestUrl: 'https://speed.example.org', rotate: [] },
      issue,
      NOW,
    );
    expect(moved.state.speedtestUrl).toBe('https://speed.example.org');
    expect(moved.speedtest).toBe('kept');
  });

  it('makes 256-bit secrets, different each time', () => {
    const s = randomSecret();
    expect(Buffer.from(s, 'base64url')).toHaveLength(32);
    expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomSecret()).not.toBe(s);
  });
});

describe('the speed-test URL', () => {
  it('takes an https base URL, without its trailing slash', () => {
    expect(speedtestBaseUrl('https://Vigie.Example.org/speedtest/')).toBe(
      'https://vigie.example.org/speedtest',
    );
    expect(speedtestBaseUrl('https://vigie.example.org:8443/vigie/speedtest')).toBe(
      'https://vigie.example.org:8443/vigie/speedtest',
    );
  });

  it('refuses plain http, a query, a fragment, credentials and what is not a URL, saying why', () => {
    expect(() => speedtestBaseUrl('http://vigie.example.org/speedtest')).toThrow(/use https:\/\/.*in clear/);
    expect(() => speedtestBaseUrl('https://vigie.example.org/speedtest?x=1')).toThrow(/no query/);
    expect(() => speedtestBaseUrl('https://vigie.example.org/speedtest#x')).toThrow(EnrollmentError);
    expect(() => speedtestBaseUrl('https://me:pw@vigie.example.org/speedtest')).toThrow(EnrollmentError);
    expect(() => speedtestBaseUrl('vigie.example.org/speedtest')).toThrow(/not a URL/);
    expect(() =>
      planEnrollment(
        undefined,
        [A],
        { broker: BROKER, speedtestUrl: 'http://x/speedtest', rotate: [] },
        issue,
        NOW,
      ),
    ).toThrow(/--speedtest-url http:\/\/x\/speedtest: use https/);
  });
});

describe('the files with the speed test', () => {
  const withUrl = planEnrollment(
    undefined,
    [A, B],
    { broker: BROKER, speedtestUrl: URL_, rotate: [] },
    issue,
    NOW,
  ).state;
  const withoutUrl = planEnrollment(undefined, [A, B], { broker: BROKER, rotate: [] }, issue, NOW).state;

  it("gives each agent its school's token, which the collector's check accepts for that school only", () => {
    const a = loadAgent(agentConfig(withUrl, school(A)));
    const b = loadAgent(agentConfig(withUrl, school(B)));
    expect(a.probes.speedtest.url).toBe(URL_);
    expect(a.probes.speedtest.token).toBe(speedtestToken(withUrl.speedtest.secret, A));
    expect(b.probes.speedtest.token).not.toBe(a.probes.speedtest.token);
    const check = (token: string | undefined) =>
      verifySpeedtestToken(withUrl.speedtest.secret, [], `Bearer ${token}`);
    expect(check(a.probes.speedtest.token)).toEqual({ ok: true, uai: A });
    expect(check(b.probes.speedtest.token)).toEqual({ ok: true, uai: B });
    expect(
      verifySpeedtestToken(withoutUrl.speedtest.secret, [], `Bearer ${a.probes.speedtest.token}`).ok,
    ).toBe(false);
    // The rest of the speed-test section keeps the probe's defaults.
    expect(parse(agentConfig(withUrl, school(A))).agent.probes).toEqual({
      speedtest: { url: URL_, token: speedtestToken(withUrl.speedtest.secret, A) },
    });
  });

  it('writes no speed test into agent configs while the URL is unknown', () => {
    const doc = parse(agentConfig(withoutUrl, school(A)));
    expect(doc.agent.probes).toBeUndefined();
    expect(loadAgent(agentConfig(withoutUrl, school(A))).probes.speedtest.url).toBeUndefined();
  });

  it("puts the secret in collector.env under the name the collector's config loader maps to http.speedtest.secret", () => {
    const env = Object.fromEntries(
      collectorEnv(withoutUrl)
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const { config, overrides } = parseConfigText(
      'collector.yaml',
      'collector:\n  schools: /etc/vigie/schools.csv\n  mqtt: { url: "mqtts://mosquitto:8883" }\n  influx: { url: "http://influxdb:8086", database: vigie }\n',
      VigieConfig,
      env,
    );
    expect(config.collector?.http.speedtest.secret).toBe(withoutUrl.speedtest.secret);
    expect(overrides).toContain('VIGIE_COLLECTOR__HTTP__SPEEDTEST__SECRET → collector.http.speedtest.secret');
  });
});
