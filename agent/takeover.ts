// Recognising that another client with this agent's identity keeps taking its connection over.
//
// A broker keeps one connection per client id: when a second box connects with the same UAI and agent
// id (a cloned SD card, a copied config), the broker closes the older connection, which reconnects and
// closes the newer one, and so on (67 takeovers in 75 s measured with two agents on Mosquitto 2.0.11).
// MQTT 5 names this: a DISCONNECT with reason code 0x8E "Session taken over" to the older client. But
// Mosquitto 2.0.11 (Debian 12) closes the socket without sending that packet, and a 3.1.1 broker never
// does; what is left is the broker closing a healthy connection cleanly (TCP FIN, no error, no keepalive
// timeout), again and again, each reconnect being accepted at once. A broker restart closes the same way
// once, and then refuses connections for a while; a takeover loop does it every time. So: 0x8E → a takeover
// for sure; TAKEOVER_CLOSES_IN_A_ROW clean closes by the broker with no failure in between → a takeover.
// Pure: the publisher passes what it saw; no timers, no I/O.
import { backoffDelayMs } from '../shared/backoff.ts';

/** MQTT 5 DISCONNECT reason code: another connection took this client id's session over. */
export const SESSION_TAKEN_OVER = 0x8e;
/** Clean closes by the broker in a row (each reconnect accepted) that read as a takeover loop. */
export const TAKEOVER_CLOSES_IN_A_ROW = 3;

export interface ConnectionEnd {
  /** The connection was up (CONNACK received) before it ended. */
  wasConnected: boolean;
  /** The broker closed it cleanly: TCP FIN seen, no socket error, no keepalive timeout. */
  closedByBroker: boolean;
  /** Reason code of a DISCONNECT the broker sent (MQTT 5), if any. */
  reasonCode?: number;
  /** How long the connection was up, ms. */
  upMs: number;
}

export interface TakeoverState {
  /** Clean closes by the broker since the last failure or long-lived connection. */
  closesInARow: number;
  /** Takeovers recognised in this episode: the takeover backoff doubles with each. */
  takeovers: number;
}

export interface TakeoverVerdict {
  state: TakeoverState;
  /** This end is (part of) a takeover: reconnect after the takeover backoff, and say so. */
  takeover: boolean;
  /** Recognised from the 0x8E reason code rather than from the pattern of closes. */
  certain: boolean;
}

export const initialTakeoverState = (): TakeoverState => ({ closesInARow: 0, takeovers: 0 });

/**
 * Judges how a connection ended. `stableMs`: a connection that lived this long ends the episode (a fresh
 * start for both counters); it must exceed the longest takeover backoff, since the other box holds the
 * connection for that long between two takeovers.
 */
export function judgeConnectionEnd(s: TakeoverState, end: ConnectionEnd, stableMs: number): TakeoverVerdict {
  const fresh = end.wasConnected && end.upMs >= stableMs ? initialTakeoverState() : s;
  if (end.wasConnected && end.reasonCode === SESSION_TAKEN_OVER) {
    const state = { closesInARow: fresh.closesInARow + 1, takeovers: fresh.takeovers + 1 };
    return { state, takeover: true, certain: true };
  }
  // A failed attempt or a connection lost on an error: the network, not a twin.
  if (!end.wasConnected || !end.closedByBroker)
    return { state: { closesInARow: 0, takeovers: fresh.takeovers }, takeover: false, certain: false };
  const closesInARow = fresh.closesInARow + 1;
  // Once recognised, every further clean close in the episode is one more takeover.
  const takeover = closesInARow >= TAKEOVER_CLOSES_IN_A_ROW || fresh.takeovers > 0;
  return {
    state: { closesInARow, takeovers: fresh.takeovers + (takeover ? 1 : 0) },
    takeover,
    certain: false,
  };
}

/**
 * Delay before reconnecting after takeover number `takeovers` (1 for the first): doubling from min to max
 * with ±50 % jitter, so two boxes sharing an identity do not come back in step; never above max.
 */
export function takeoverDelayMs(takeovers: number, minMs: number, maxMs: number, random: number): number {
  return backoffDelayMs(Math.max(0, takeovers - 1), { minMs, maxMs, jitter: 0.5, capJittered: true }, random);
}
