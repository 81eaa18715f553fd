// One identity on two boxes, as presence sees it: the status stream Mosquitto produces when two agents
// share a client id (the old connection's will, then the newcomer's birth, every swap), fed to the real
// PresenceMonitor. No outage, no transition, one duplicate — and real losses still counted.
import { describe, expect, it } from 'vitest';
import { render } from '../../collector/alerts/messages.ts';
import { AlertPolicy } from '../../collector/alerts/policy.ts';
import { IdentityGuard } from '../../collector/presence/identity.ts';
import type { StatusMessage } from '../../shared/schemas.ts';
import { presenceScene } from '../harness/presence-scene.ts';

const UAI = '0690001B';
const S = 1000;
const T0 = 1_750_000_000_000;
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

const birth = (instance: string | undefined, t: number): StatusMessage => ({
  v: 1,
  uai: UAI,
  agent: 'box',
  state: 'online',
  t,
  reason: 'birth',
  ...(instance ? { instance } : {}),
});
const will = (instance: string | undefined, t: number): StatusMessage => ({
  ...birth(instance, t),
  state: 'offline',
  reason: 'will',
});

function monitor() {
  const scene = presenceScene({ startAt: T0, silentAfterIntervals: 3, brokerUp: false });
  const measurements = () => scene.points.map((p) => p.measurement);
  return { ...scene, measurements };
}

describe('presence: two boxes under one identity', () => {
  it('the takeover loop of the issue (67 swaps in 75 s) records no outage, no transition and one duplicate', () => {
    const p = monitor();
    p.status(birth(A, T0), T0);
    const firstPoints = p.points.length;
    // Mosquitto: the old connection's will is published before the newcomer's CONNACK, then its birth.
    let t = T0 + 1100;
    for (let swap = 0; swap < 67; swap++) {
      const [old, next] = swap % 2 === 0 ? [A, B] : [B, A];
      p.status(will(old, T0), t);
      p.status(birth(next, t), t + 3);
      t += 1100;
      p.at(t);
    }
    p.at(t + 30 * S);
    expect(p.measurements().slice(firstPoints)).toEqual([]);
    expect(p.effects.filter((e) => e.kind.startsWith('outage'))).toEqual([]);
    const dups = p.effects.filter((e) => e.kind === 'duplicate_identity');
    expect(dups).toHaveLength(1);
    expect(dups[0]).toMatchObject({ uai: UAI, agent: 'box', duplicated: true, since: T0 + 1103 });
    expect(p.m.fleet.agents.get(`${UAI}/box`)?.state).toBe('online');
  });

  it('says the duplicate is over once no takeover was seen for quietMs', () => {
    const p = monitor();
    p.status(birth(A, T0), T0);
    p.status(will(A, T0), T0 + S);
    p.status(birth(B, T0 + S), T0 + S);
    p.status(will(B, T0), T0 + 2 * S);
    p.status(birth(A, T0 + 2 * S), T0 + 2 * S);
    p.at(T0 + 601 * S);
    expect(
      p.effects.filter((e) => e.kind === 'duplicate_identity').map((e) => 'duplicated' in e && e.duplicated),
    ).toEqual([true]);
    p.at(T0 + 602 * S);
    const dups = p.effects.filter((e) => e.kind === 'duplicate_identity');
    expect(dups.map((e) => 'duplicated' in e && e.duplicated)).toEqual([true, false]);
  });

  it('a real loss (a will no birth follows) is still an outage, the agent offline from the will on', () => {
    const p = monitor();
    p.status(birth(A, T0), T0);
    p.status(will(A, T0), T0 + 10 * S);
    p.at(T0 + 12 * S);
    expect(p.m.fleet.agents.get(`${UAI}/box`)?.state).toBe('online');
    p.at(T0 + 15 * S);
    const agent = p.m.fleet.agents.get(`${UAI}/box`)!;
    expect(agent.state).toBe('offline');
    expect(agent.since).toBe(T0 + 10 * S);
    // The outage itself starts at the last sign of life, as for any will.
    expect(p.effects.find((e) => e.kind === 'outage_started')).toMatchObject({ start: T0 });
  });

  it('a box rebooted faster than the broker noticed takes its own session over once: no duplicate', () => {
    const p = monitor();
    p.status(birth(A, T0), T0);
    // The new process connects under the same client id while the old session still dangles.
    p.status(will(A, T0), T0 + 40 * S);
    p.status(birth(B, T0 + 40 * S), T0 + 40 * S);
    p.at(T0 + 100 * S);
    expect(p.effects.filter((e) => e.kind === 'duplicate_identity')).toEqual([]);
  });

  it('the same process reconnecting after its will is a short outage, as before', () => {
    const p = monitor();
    p.status(birth(A, T0), T0);
    p.status(will(A, T0), T0 + 10 * S);
    p.status(birth(A, T0 + 12 * S), T0 + 12 * S);
    const agentMoves = p.effects
      .filter((e) => e.kind === 'transition' && e.transition.scope === 'agent')
      .map((e) => e.kind === 'transition' && [e.transition.to, e.transition.at]);
    expect(agentMoves).toEqual([
      ['online', T0],
      ['offline', T0 + 10 * S],
      ['online', T0 + 12 * S],
    ]);
  });

  it('an offline status from an instance that is not the current one says nothing about the current one', () => {
    const p = monitor();
    p.status(birth(A, T0), T0);
    p.status(birth(B, T0 + S), T0 + S);
    p.status({ ...will(A, T0), reason: 'graceful' }, T0 + 2 * S);
    p.status(will(A, T0), T0 + 3 * S);
    p.at(T0 + 20 * S);
    expect(p.m.fleet.agents.get(`${UAI}/box`)?.state).toBe('online');
  });

  it('statuses without an instance id (older agents, the simulator) pass at once, as before', () => {
    const p = monitor();
    p.status(birth(undefined, T0), T0);
    p.status(will(undefined, T0), T0 + S);
    expect(p.m.fleet.agents.get(`${UAI}/box`)?.state).toBe('offline');
  });
});

describe('IdentityGuard bounds', () => {
  it('tracks at most maxAgents identities; the others pass untouched and are counted', () => {
    const g = new IdentityGuard({ holdMs: 5 * S, quietMs: 60 * S, maxAgents: 1 });
    g.status(birth(A, T0), false, T0);
    const other = { ...will(B, T0), agent: 'other' };
    expect(g.status(other, false, T0).apply).toEqual([{ msg: other, retained: false, at: T0 }]);
    expect(g.untracked).toBe(1);
  });

  it('an identity alerted on before a restart is closed after quietMs without a takeover', () => {
    const g = new IdentityGuard({ holdMs: 5 * S, quietMs: 60 * S, maxAgents: 10 });
    g.assumeDuplicate(UAI, 'box', T0 - 3600 * S, T0);
    expect(g.tick(T0 + 59 * S).effects).toEqual([]);
    expect(g.tick(T0 + 60 * S).effects).toMatchObject([{ duplicated: false, since: T0 - 3600 * S }]);
  });
});

describe('alert policy: duplicate_identity', () => {
  it('fires once at the next tick, without grace, and resolves when over', () => {
    const policy = new AlertPolicy(
      {
        graceMs: 120 * S,
        rounds: 3,
        reminderMs: 0,
        mass: { windowMs: 60 * S, minSchools: 5 },
        brokerSettleMs: 0,
        maxTrackedSeries: 100,
      },
      { school: () => undefined, isOpen: () => true, muted: () => null },
    );
    const ev = { kind: 'identity', uai: UAI, agent: 'box', duplicated: true, since: T0 } as const;
    expect(policy.handle(ev, T0 + S)).toEqual([]);
    const fired = policy.tick(T0 + 2 * S).notifications;
    expect(fired.map((n) => [n.type, n.alert.kind, n.alert.key])).toEqual([
      ['firing', 'duplicate_identity', `duplicate_identity/${UAI}/box`],
    ]);
    policy.handle(ev, T0 + 3 * S);
    // The school going offline meanwhile must not forget it (it is no metric alert).
    policy.handle(
      { kind: 'school', uai: UAI, state: 'offline', reason: 'will', since: T0 + 4 * S },
      T0 + 4 * S,
    );
    expect(
      policy.tick(T0 + 5 * S).notifications.filter((n) => n.alert.kind === 'duplicate_identity'),
    ).toEqual([]);
    const over = policy.handle({ ...ev, duplicated: false }, T0 + 9 * S);
    expect(over.map((n) => [n.type, n.alert.kind])).toEqual([['resolved', 'duplicate_identity']]);
  });
});

describe('duplicate_identity texts', () => {
  it('name the school, the UAI and the agent, the likely cause and what to do, in French and English', () => {
    const alert = {
      key: `duplicate_identity/${UAI}/box`,
      kind: 'duplicate_identity',
      severity: 'warning',
      uai: UAI,
      subject: 'box',
      since: T0,
      notifiedAt: T0,
      lastSentAt: T0,
    } as const;
    const school = () => ({
      uai: UAI,
      name: 'École du Clone',
      commune: 'Lyon',
      isp: 'Orange',
      hours: 'school',
    });
    const opts = { timezone: 'Europe/Paris', schoolUrl: 'https://g/{uai}', fleetUrl: 'https://g/' };
    const fr = render({ type: 'firing', alert, at: T0 }, school, { ...opts, language: 'fr' });
    expect(fr.title).toBe(
      `[ALERTE] École du Clone (Lyon, UAI ${UAI}) : identité en double (deux boîtiers) : agent box`,
    );
    expect(fr.text).toContain(`même identité (UAI ${UAI}, agent box)`);
    expect(fr.text).toContain('carte SD clonée');
    const en = render({ type: 'resolved', alert, at: T0 + 60 * S }, school, { ...opts, language: 'en' });
    expect(en.title).toBe(
      `[RESOLVED] École du Clone (Lyon, UAI ${UAI}): duplicated identity (two boxes): agent box`,
    );
    expect(en.text).toContain('no longer take the connection from each other');
  });
});
