// Issue 14: a wrong agent clock is told to the team once per episode (clock_drift), with its recovery.
import { describe, expect, it } from 'vitest';
import { render } from '../../collector/alerts/messages.ts';
import { AlertPolicy, type Notification, type SchoolInfo } from '../../collector/alerts/policy.ts';
import { clockRound } from '../../collector/alerts/rounds.ts';
import { policyContext } from '../../collector/alerts/schedule.ts';
import { DEFAULT_THRESHOLDS } from '../../collector/thresholds.ts';
import type { MetricsBatch } from '../../shared/schemas.ts';

const UAI = '0690001B';
const S = 1000;
const T0 = Date.parse('2025-11-18T09:00:00Z');
const school: SchoolInfo = {
  uai: UAI,
  name: 'École Jean Macé',
  commune: 'Villeurbanne',
  isp: 'Orange',
  hours: 'always',
};
const always = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['00:00-24:00']]),
);
const batch = (t: number): MetricsBatch => ({
  v: 1,
  uai: UAI,
  agent: 'box',
  seq: 1,
  t,
  samples: [{ probe: 'ping', t, target: 'a', sent: 1, received: 1, lossPct: 0 }],
});

describe('clock_drift', () => {
  it('fires once while the clock stays wrong, resolves once when it is right again', () => {
    const ctx = policyContext(
      { timezone: 'Europe/Paris', hours: { always }, calendars: {}, maintenance: [], silences: [] },
      (u) => (u === UAI ? school : undefined),
    );
    const p = new AlertPolicy(
      {
        graceMs: 0,
        rounds: 3,
        reminderMs: 0,
        mass: { windowMs: 60 * S, minSchools: 5 },
        brokerSettleMs: 0,
        maxTrackedSeries: 100,
      },
      ctx,
    );
    p.broker(true, T0 - 60 * S);
    const sent: Notification[] = [];
    let now = T0;
    const feed = (correctMs: number, n: number) => {
      for (let i = 0; i < n; i++, now += 60 * S) {
        sent.push(...p.handle(clockRound(batch(now), correctMs, DEFAULT_THRESHOLDS), now));
        sent.push(...p.tick(now).notifications);
      }
    };
    feed(1500, 5); // under the 2 s the collector corrects: nothing
    feed(3600 * S, 20);
    feed(0, 5);
    expect(sent.map((n) => `${n.type}:${n.alert.kind}:${n.alert.subject}`)).toEqual([
      'firing:clock_drift:box',
      'resolved:clock_drift:box',
    ]);
    const firing = sent[0]!;
    expect(firing.alert).toMatchObject({ severity: 'critical', value: 3600 });
    const opts = { timezone: 'Europe/Paris', schoolUrl: 'https://g/{uai}', fleetUrl: 'https://g' };
    const fr = render(firing, () => school, { ...opts, language: 'fr' });
    expect(fr.title).toBe(
      '[ALERTE] École Jean Macé (Villeurbanne, UAI 0690001B) : horloge du boîtier décalée : box',
    );
    expect(fr.text).toMatch(/l’horloge de l’agent box avance de 3\u202f?\s?600 s sur celle du collecteur/);
    const en = render(firing, () => school, { ...opts, language: 'en' });
    expect(en.text).toMatch(/the clock of agent box runs 3,600 s ahead of the collector's/);
    expect(en.text).toMatch(/past the critical threshold of 30 s/);
  });
});
