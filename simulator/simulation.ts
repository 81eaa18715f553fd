// A whole simulated fleet in one process: builds the schools, starts their agents through the
// connect gate, and reads the gauges for the console.
import type { School } from '../shared/registry.ts';
import { type AgentSettings, SimulatedAgent } from './agent.ts';
import { buildFleet } from './fleet.ts';
import { ConnectGate } from './pacing.ts';
import { type FleetSnapshot, newCounters } from './stats.ts';

export interface SimulationOptions extends AgentSettings {
  agents: number;
  schools: School[];
  /** New connections a second, and how many may wait for their CONNACK at once. */
  connectRate: number;
  maxPendingConnects: number;
}

export class Simulation {
  readonly agents: SimulatedAgent[];
  readonly counters = newCounters();
  private readonly gate: ConnectGate;
  private readonly startedAt: number;

  constructor(private readonly options: SimulationOptions) {
    this.gate = new ConnectGate(options.connectRate, options.maxPendingConnects);
    const fleet = buildFleet(options.agents, options.schools, options.seed);
    this.agents = fleet.map((sim) => new SimulatedAgent(sim, options, this.gate, this.counters));
    this.startedAt = Date.now();
  }

  start(): void {
    for (const agent of this.agents) agent.start();
  }

  /** Stops every agent cleanly (graceful offline + DISCONNECT), a few hundred at a time. */
  async stop(): Promise<void> {
    this.gate.close();
    const chunk = 500;
    for (let i = 0; i < this.agents.length; i += chunk) {
      await Promise.all(this.agents.slice(i, i + chunk).map((a) => a.stop()));
    }
  }

  snapshot(): FleetSnapshot {
    const snap: FleetSnapshot = {
      at: Date.now(),
      agents: this.agents.length,
      connected: 0,
      connecting: 0,
      inOutage: { 'wan-cut': 0, 'power-cut': 0, degraded: 0 },
      spooled: 0,
      counters: this.counters,
    };
    for (const agent of this.agents) {
      if (agent.isConnected) snap.connected++;
      else if (agent.isConnecting) snap.connecting++;
      const outage = agent.currentOutage;
      if (outage) snap.inOutage[outage.kind]++;
      snap.spooled += agent.spooled;
    }
    return snap;
  }

  get runningForMs(): number {
    return Date.now() - this.startedAt;
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }
}
