// Two agent ids on one broker account (issue 14 §3, kind "identity conflicts are detected, not lived
// through"): a copied config whose agent id was edited, or two agents given one school's credential. On
// the stack's Mosquitto (use_username_as_clientid) the account is the client id, so they take the
// connection from each other exactly like a cloned box, but under two identities, which the collector did
// not see: no alert, and every swap an agent going offline then online. Several agents of one school,
// each with its own client id, are normal and must stay silent. The status streams are fed to the real
// PresenceMonitor.
import { describe, expect, it } from 'vitest';
import type { StatusMessage } from '../../shared/schemas.ts';
import { presenceScene } from '../harness/presence-scene.ts';

const UAI = '0690001B';
const S = 1000;
const T0 = 1_750_000_000_000;
/** Agent id → its process's instance id. */
const INSTANCE: Record<string, string> = { box: 'aaaaaaaaaaaaaaaa', 'box-copie': 'bbbbbbbbbbbbbbbb' };

const birth = (agent: string, t: number): StatusMessage => ({
  v: 1,
  uai: UAI,
  agent,
  state: 'online',
  t,
  reason: 'birth',
  instance: INSTANCE[agent]!,
});
const will = (agent: string, t: number): StatusMessage => ({
  ...birth(agent, t),
  state: 'offline',
  reason: 'will',
});

/** silentAfterIntervals: high where the scene has no batches (agents publish some every 5 s in reality). */
function monitor(silentAfterIntervals = 1000) {
  const scene = presenceScene({ startAt: T0, silentAfterIntervals, brokerUp: true });
  const moves = (from = 0) =>
    scene.points
      .slice(from)
      .map((p) => `${p.tags['scope']}:${p.tags['agent'] ?? ''}:${String(p.fields['state'])}`);
  const dups = () => scene.effects.filter((e) => e.kind === 'duplicate_identity');
  const event = (agent: string, t: number) =>
    scene.event({ v: 1, uai: UAI, agent, t, kind: 'config', message: 'still here' }, t);
  return { ...scene, moves, dups, event };
}

/** Both agents alive, one account: each connect throws the other off (will, then birth 3 ms later). */
function fight(p: ReturnType<typeof monitor>, swaps: number, from: number, everyMs = 1100): number {
  let t = from;
  for (let swap = 0; swap < swaps; swap++) {
    const [old, next] = swap % 2 === 0 ? ['box', 'box-copie'] : ['box-copie', 'box'];
    p.status(will(old, T0), t);
    p.status(birth(next, t), t + 3);
    t += everyMs;
    p.at(t);
  }
  return t;
}

describe('two agent ids taking one broker account from each other', () => {
  it('are told once (duplicate_identity naming both), with no outage and no presence change after the first', () => {
    const p = monitor();
    p.status(birth('box', T0), T0);
    const before = p.points.length;
    const t = fight(p, 6, T0 + 10 * S);
    // Then the agents back off for minutes (agent/takeover.ts) and still swap now and then.
    fight(p, 2, t + 120 * S, 3 * 60 * S);
    expect(p.effects.filter((e) => e.kind.startsWith('outage'))).toEqual([]);
    // The newcomer appears once; nobody goes offline, the school never moves.
    expect(p.moves(before)).toEqual(['agent:box-copie:online']);
    expect(p.dups()).toHaveLength(1);
    expect(p.dups()[0]).toMatchObject({
      uai: UAI,
      agent: 'box+box-copie',
      agents: ['box', 'box-copie'],
      duplicated: true,
      since: T0 + 10 * S + 3,
    });
    // Over once no takeover was seen for quietMs, under the same name.
    p.at(t + 120 * S + 6 * 60 * S + 601 * S);
    expect(p.dups().map((e) => 'duplicated' in e && [e.agent, e.duplicated])).toEqual([
      ['box+box-copie', true],
      ['box+box-copie', false],
    ]);
    expect(p.m.identity.duplicates()).toEqual([]);
  });

  it('one agent thrown off for good is caught by silence, the other keeping the school online', () => {
    const p = monitor(3);
    p.status(birth('box', T0), T0);
    const t = fight(p, 5, T0 + 10 * S);
    const before = p.points.length;
    // 'box-copie' holds the connection and publishes; 'box' backs off and never comes back.
    for (let at = t; at <= t + 60 * S; at += 5 * S) {
      p.event('box-copie', at);
      p.at(at);
    }
    expect(p.moves(before)).toEqual(['agent:box:offline']);
    expect(p.m.fleet.schools.get(UAI)?.state).toBe('online');
  });
});

describe('several agents of one school, each with its own client id: normal, never told', () => {
  it('a power cut of one (its will, no birth) is its own loss; the school stays online through the other', () => {
    const p = monitor();
    p.status(birth('box', T0), T0);
    p.status(birth('box-copie', T0 + 2 * S), T0 + 2 * S);
    p.status(will('box', T0), T0 + 60 * S);
    p.at(T0 + 66 * S);
    expect(p.m.fleet.agents.get(`${UAI}/box`)?.state).toBe('offline');
    expect(p.m.fleet.schools.get(UAI)?.state).toBe('online');
    expect(p.dups()).toEqual([]);
  });

  it('a router rebooting again and again (both wills, then both births) raises no alert', () => {
    const p = monitor();
    p.status(birth('box', T0), T0);
    p.status(birth('box-copie', T0 + S), T0 + S);
    let t = T0 + 60 * S;
    for (let reboot = 0; reboot < 4; reboot++) {
      // The broker's keepalive drops both; they reconnect once the router is back, in either order.
      const [first, second] = reboot % 2 === 0 ? ['box', 'box-copie'] : ['box-copie', 'box'];
      p.status(will(first, T0), t);
      p.status(will(second, T0), t + 400);
      p.status(birth(second, t + 1500), t + 1500);
      p.status(birth(first, t + 2500), t + 2500);
      t += 90 * S;
      p.at(t);
    }
    expect(p.dups()).toEqual([]);
  });
});
