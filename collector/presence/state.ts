// Presence states and the records kept per agent and per school.
import type { PRESENCE_STATE_CODES } from '../schema.ts';

export type PresenceState = keyof typeof PRESENCE_STATE_CODES;

/** Higher is better: a school is as present as its best agent. */
export const STATE_RANK: Record<PresenceState, number> = { online: 3, degraded: 2, offline: 1, unknown: 0 };

export interface Transition {
  scope: 'agent' | 'school';
  uai: string;
  /** Empty for scope=school. */
  agent: string;
  from: PresenceState;
  to: PresenceState;
  at: number;
  reason: string;
}

export interface AgentPresence {
  uai: string;
  agent: string;
  state: PresenceState;
  since: number;
  reason: string;
  /** Collector clock: the last message of any kind from this agent. */
  lastSeenAt: number;
  /** Highest batch sequence number received. */
  lastSeq: number;
  /** Newest batch time received (agent clock). */
  lastBatchT: number;
  /** Smallest (received − batch time) seen since the last birth: transit plus what correction left of the clock offset. */
  lagMs: number | null;
  /** When the agent process started (agent clock, as its birth says), or null before any birth. */
  startedAt: number | null;
  /** How far ahead (ms) the agent's clock runs, as corrected in its last batch: 0 when it is right. */
  clockCorrectedMs: number;
  /** Consecutive live rounds with bad internet health, and good ones. */
  badRounds: number;
  goodRounds: number;
  /** Why the last bad round was bad, for the degraded reason. */
  badWhy: string;
}

export const newAgent = (uai: string, agent: string, now: number): AgentPresence => ({
  uai,
  agent,
  state: 'unknown',
  since: now,
  reason: 'new',
  lastSeenAt: 0,
  lastSeq: -1,
  lastBatchT: 0,
  lagMs: null,
  startedAt: null,
  clockCorrectedMs: 0,
  badRounds: 0,
  goodRounds: 0,
  badWhy: '',
});
