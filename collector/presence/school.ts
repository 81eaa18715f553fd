// A school's presence is its best agent's; going offline opens an outage, coming back closes it.
import { type AgentPresence, type PresenceState, STATE_RANK, type Transition } from './state.ts';

export interface SchoolPresence {
  uai: string;
  state: PresenceState;
  since: number;
  reason: string;
  /** Open outage: its start is the last sign of life, not the moment we noticed. */
  outageStart: number | null;
}

export type SchoolEffect =
  | { kind: 'transition'; transition: Transition }
  | { kind: 'outage_started'; uai: string; start: number; at: number }
  | { kind: 'outage_ended'; uai: string; start: number; end: number };

export const newSchool = (uai: string, now: number): SchoolPresence => ({
  uai,
  state: 'unknown',
  since: now,
  reason: 'new',
  outageStart: null,
});

function best(agents: readonly AgentPresence[]): AgentPresence | null {
  let top: AgentPresence | null = null;
  for (const a of agents) if (!top || STATE_RANK[a.state] > STATE_RANK[top.state]) top = a;
  return top;
}

/** Recompute a school from its agents after any of them changed. */
export function stepSchool(
  s: SchoolPresence,
  agents: readonly AgentPresence[],
  now: number,
): { school: SchoolPresence; effects: SchoolEffect[] } {
  const top = best(agents);
  const to: PresenceState = top?.state ?? 'unknown';
  if (to === s.state) return { school: s, effects: [] };
  const reason = top?.reason ?? 'no_agent';
  const effects: SchoolEffect[] = [
    {
      kind: 'transition',
      transition: { scope: 'school', uai: s.uai, agent: '', from: s.state, to, at: now, reason },
    },
  ];
  let outageStart = s.outageStart;
  if (to === 'offline' && outageStart === null) {
    const lastSeen = Math.max(0, ...agents.map((a) => a.lastSeenAt));
    outageStart = lastSeen > 0 ? Math.min(lastSeen, now) : now;
    effects.push({ kind: 'outage_started', uai: s.uai, start: outageStart, at: now });
  } else if ((to === 'online' || to === 'degraded') && outageStart !== null) {
    effects.push({ kind: 'outage_ended', uai: s.uai, start: outageStart, end: now });
    outageStart = null;
  }
  return { school: { ...s, state: to, since: now, reason, outageStart }, effects };
}

/** After a restart: take the remembered state without announcing a transition. */
export function rebuildSchool(s: SchoolPresence, state: PresenceState, since: number): SchoolPresence {
  if (s.state !== 'unknown') return s;
  return { ...s, state, since, reason: 'rebuilt', outageStart: state === 'offline' ? since : null };
}
