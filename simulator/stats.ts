// What the simulator counts, in the terms a network technician reads on the console.

export interface FleetCounters {
  /** Batches measured (built and put in an agent's spool). */
  batches: number;
  /** Batches the broker acknowledged (PUBACK). */
  acked: number;
  ackedBytes: number;
  /** Acked batches that had waited in a spool through a WAN cut: replayed with their original time. */
  replayed: number;
  /** Batches dropped because an agent's spool was full (oldest first). */
  spoolDropped: number;
  births: number;
  /** Connections dropped on purpose without DISCONNECT, so the broker published the will. */
  willsTriggered: number;
  /** Connections the broker or the network closed while the agent meant to stay online. */
  connectionsLost: number;
  reconnects: number;
  /** CONNACK with a refusal code (bad credentials, not authorised, server busy). */
  refused: number;
  /** Connection attempts that failed at the TCP level (refused, reset, unreachable). */
  networkErrors: number;
  /** CONNECT without an answer within the connect timeout. */
  timeouts: number;
  outagesStarted: Record<'wan-cut' | 'power-cut' | 'degraded', number>;
  /** The last error seen, to print beside the counts. */
  lastError: string;
}

export function newCounters(): FleetCounters {
  return {
    batches: 0,
    acked: 0,
    ackedBytes: 0,
    replayed: 0,
    spoolDropped: 0,
    births: 0,
    willsTriggered: 0,
    connectionsLost: 0,
    reconnects: 0,
    refused: 0,
    networkErrors: 0,
    timeouts: 0,
    outagesStarted: { 'wan-cut': 0, 'power-cut': 0, degraded: 0 },
    lastError: '',
  };
}

/** A point-in-time view of the fleet: counters plus the gauges read from every agent. */
export interface FleetSnapshot {
  at: number;
  agents: number;
  connected: number;
  connecting: number;
  /** Agents offline on purpose: WAN cut or power cut. */
  inOutage: { 'wan-cut': number; 'power-cut': number; degraded: number };
  /** Batches waiting in agents' spools. */
  spooled: number;
  counters: FleetCounters;
}

export function copySnapshot(s: FleetSnapshot): FleetSnapshot {
  return {
    ...s,
    inOutage: { ...s.inOutage },
    counters: { ...s.counters, outagesStarted: { ...s.counters.outagesStarted } },
  };
}
