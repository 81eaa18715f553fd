// The agent's speed-test window is the school's alert hours (and the simulator's open hours): all
// read the shared hours model with the same default profiles. Checked every 15 minutes over weeks that cross a DST change, under two
// process time zones (the process's must never matter), plus the config forms that name the hours.
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { SpeedtestProbe } from '../../agent/probes/speedtest.ts';
import { inSchoolHours, speedtestDecision, speedtestHours } from '../../agent/probes/speedtest-schedule.ts';
import { VigieConfig } from '../../cli/config-file.ts';
import { AlertsConfig } from '../../collector/alerts/config.ts';
import type { SchoolInfo } from '../../collector/alerts/policy.ts';
import { policyContext } from '../../collector/alerts/schedule.ts';
import { agentConfig } from '../../deploy/enroll-files.ts';
import { planEnrollment } from '../../deploy/enrollment.ts';
import { parseConfigText } from '../../shared/config.ts';
import type { School } from '../../shared/registry.ts';
import type { Uai } from '../../shared/uai.ts';
import { isSchoolOpen, localHour } from '../../simulator/daily-profile.ts';
import { fakeIssuer } from '../harness/enroll-fakes.ts';

const MIN = 60_000;
const URL_ = 'https://vigie.example.org/speedtest';
const UAI = '0690001B' as Uai;
const processZone = process.env['TZ'];
afterEach(() => {
  if (processZone === undefined) delete process.env['TZ'];
  else process.env['TZ'] = processZone;
});

/** The collector's alert hours for a school of `profile`, from the alerts section's defaults. */
function alertHours(profile: string): (t: number) => boolean {
  const alerts = structuredClone({}) as AlertsConfig;
  new Ajv({ useDefaults: true, strict: false }).validate(AlertsConfig, alerts);
  const school: SchoolInfo = { uai: UAI, name: 'École', commune: 'Bron', isp: 'Orange', hours: profile };
  const ctx = policyContext(alerts, (u) => (u === UAI ? school : undefined));
  return (t) => ctx.isOpen(UAI, t);
}

// Thursday to Thursday, local midnights, each week crossing a change of Paris time.
const WEEKS = [
  { from: '2026-03-26T00:00:00+01:00', to: '2026-04-02T00:00:00+02:00' },
  { from: '2026-10-22T00:00:00+02:00', to: '2026-10-29T00:00:00+01:00' },
];

describe("the agent's speed-test window", () => {
  it.each([
    // Thu, Fri, Mon, Tue 08:00-17:00 = 4 × 36 quarter-hours; plus Wednesday 08:00-12:00.
    { profile: 'school', agent: {}, open: 144 },
    { profile: 'school-wednesday', agent: { hours: 'school-wednesday' }, open: 160 },
  ])(
    'equals the alert hours of $profile, every 15 min across DST, whatever the process zone',
    ({ profile, agent, open }) => {
      for (const zone of ['UTC', 'Pacific/Chatham']) {
        process.env['TZ'] = zone;
        expect(new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset()).toBe(zone === 'UTC' ? 0 : -825);
        const alerts = alertHours(profile);
        const speedtest = resolveProbesConfig({ speedtest: { url: URL_, ...agent } }).speedtest;
        for (const week of WEEKS) {
          let counted = 0;
          for (let t = Date.parse(week.from); t < Date.parse(week.to); t += 15 * MIN) {
            const expected = alerts(t);
            expect(inSchoolHours(t, speedtest), `${zone} ${new Date(t).toISOString()}`).toBe(expected);
            expect(isSchoolOpen(localHour(t, 'Europe/Paris'), profile), 'simulator').toBe(expected);
            const decision = speedtestDecision(speedtest, [], t, 0);
            expect(decision.run ? true : decision.reason !== 'outside_hours').toBe(expected);
            if (expected) counted++;
          }
          expect(counted).toBe(open);
        }
      }
    },
  );
});

describe('the hours a speed-test config names', () => {
  const legacy = { days: [1, 2, 4, 5], start: '08:30', end: '16:30', timeZone: 'Europe/Paris' };
  const CLASS = ['08:30-16:30'];

  it('honours the old `schoolHours` form as a profile of its own', () => {
    const old = resolveProbesConfig({ speedtest: { url: URL_, schoolHours: legacy } }).speedtest;
    const same = resolveProbesConfig({
      speedtest: {
        url: URL_,
        hours: 'c',
        profiles: { c: { mon: CLASS, tue: CLASS, thu: CLASS, fri: CLASS } },
      },
    }).speedtest;
    for (let t = Date.parse(WEEKS[0]!.from); t < Date.parse(WEEKS[0]!.to); t += 15 * MIN)
      expect(inSchoolHours(t, old)).toBe(inSchoolHours(t, same));
    // Its sub-keys keep their old defaults; Sunday is ISO day 7.
    const sunday = resolveProbesConfig({ speedtest: { schoolHours: { days: [7] } } }).speedtest;
    expect(speedtestHours(sunday).calendar.profiles['schoolHours']?.days).toEqual({ sun: CLASS });
  });

  it('refuses an unknown profile, or both forms at once, when the probe is made', () => {
    const unknown = resolveProbesConfig({ speedtest: { url: URL_, hours: 'half-days' } }).speedtest;
    expect(() => new SpeedtestProbe(unknown)).toThrow(
      /no hours profile "half-days" \(known: school, school-wednesday\); define it under probes.speedtest.profiles/,
    );
    const both = resolveProbesConfig({ speedtest: { hours: 'school', schoolHours: legacy } }).speedtest;
    expect(() => new SpeedtestProbe(both)).toThrow(/`schoolHours` is the old form of `hours`/);
  });

  it('closes on the holidays of the calendars its profile names', () => {
    const c = resolveProbesConfig({
      speedtest: {
        url: URL_,
        hours: 'zone-a-school',
        profiles: { 'zone-a-school': { thu: ['08:00-17:00'], holidays: ['zone-a'] } },
        calendars: { 'zone-a': [{ name: 'Hiver', from: '2026-02-07', to: '2026-02-22' }] },
      },
    }).speedtest;
    expect(inSchoolHours(Date.parse('2026-02-12T10:00:00+01:00'), c)).toBe(false);
    expect(inSchoolHours(Date.parse('2026-02-26T10:00:00+01:00'), c)).toBe(true);
  });
});

describe("enroll writes the school's profile", () => {
  const state = planEnrollment(
    undefined,
    [UAI],
    { broker: 'mqtts://mqtt.example.org:8883', speedtestUrl: URL_, rotate: [] },
    fakeIssuer(),
    new Date('2026-09-01T08:00:00Z'),
  ).state;
  const school = (hours: string): School => ({
    uai: UAI,
    name: 'École du Centre',
    commune: 'Vienne',
    lat: 45.5,
    lon: 4.8,
    isp: 'Orange',
    contractedDownMbps: 100,
    contractedUpMbps: 20,
    hours,
  });
  const load = (text: string) => parseConfigText('agent.yaml', text, VigieConfig, {}).config.agent!;

  it('names a default profile other than `school`, and says what to do for the collector’s own', () => {
    const wednesday = load(agentConfig(state, school('school-wednesday')));
    expect(wednesday.probes.speedtest.hours).toBe('school-wednesday');
    expect(speedtestHours(wednesday.probes.speedtest).profile).toBe('school-wednesday');
    expect(parse(agentConfig(state, school('school'))).agent.probes.speedtest.hours).toBeUndefined();
    const own = agentConfig(state, school('half-days'));
    expect(parse(own).agent.probes.speedtest.hours).toBeUndefined();
    expect(own).toContain(
      '# Hours profile "half-days" is the collector\'s own: copy it under probes.speedtest.profiles',
    );
    expect(speedtestHours(load(own).probes.speedtest).profile).toBe('school');
  });
});
