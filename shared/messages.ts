// The messages an agent publishes, built in one place for the agent and the simulator: each carries
// the protocol version and its sender (school and agent) first.
import {
  type EventMessage,
  type MetricsBatch,
  PROTOCOL_VERSION,
  type Sample,
  type StatusMessage,
} from './schemas.ts';

export interface Sender {
  uai: string;
  agent: string;
}

export function buildBatch(
  uai: string,
  agent: string,
  seq: number,
  t: number,
  samples: Sample[],
): MetricsBatch {
  return { v: PROTOCOL_VERSION, uai, agent, seq, t, samples };
}

/** `startedAt` goes out with `online` only; `instance` (the process's random id) with both states. */
export function statusMessage(
  from: Sender,
  s: Pick<StatusMessage, 'state' | 't' | 'version' | 'reason'> & { startedAt?: number; instance?: string },
): StatusMessage {
  return {
    v: PROTOCOL_VERSION,
    uai: from.uai,
    agent: from.agent,
    state: s.state,
    t: s.t,
    version: s.version,
    ...(s.state === 'online' && s.startedAt !== undefined ? { startedAt: s.startedAt } : {}),
    reason: s.reason,
    ...(s.instance !== undefined ? { instance: s.instance } : {}),
  };
}

export function eventMessage(
  from: Sender,
  e: Pick<EventMessage, 't' | 'kind' | 'message' | 'data'>,
): EventMessage {
  return {
    v: PROTOCOL_VERSION,
    uai: from.uai,
    agent: from.agent,
    t: e.t,
    kind: e.kind,
    message: e.message,
    ...(e.data ? { data: e.data } : {}),
  };
}
