// The presence engine (collector/presence/) seen as a PresenceSource. Its records are replaced, not
// mutated, on every change, so comparing them by identity on a short timer finds what changed
// without a hook inside the engine.
import type { PresenceFleet } from '../presence/fleet.ts';
import type { AgentPresence } from '../presence/state.ts';
import type { AgentPresenceView, PresenceSource, SchoolPresenceView } from './deps.ts';

type Fleet = Pick<PresenceFleet, 'schools' | 'agents'>;

const agentView = (a: AgentPresence): AgentPresenceView => ({
  agent: a.agent,
  state: a.state,
  since: a.since,
  lastSeenAt: a.lastSeenAt,
  clockOffsetS: a.clockCorrectedMs / 1000,
});

export class FleetPresence implements PresenceSource {
  private readonly seen = new Map<string, unknown>();
  private readonly listeners = new Set<(uai: string) => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly fleet: Fleet,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => this.diff(), everyMs);
    this.timer.unref();
  }

  schools(): Iterable<SchoolPresenceView> {
    const byUai = new Map<string, AgentPresence[]>();
    for (const a of this.fleet.agents.values()) {
      const list = byUai.get(a.uai);
      if (list) list.push(a);
      else byUai.set(a.uai, [a]);
    }
    return [...this.fleet.schools.keys()].map((uai) => this.view(uai, byUai.get(uai) ?? [])!);
  }

  school(uai: string): SchoolPresenceView | undefined {
    if (!this.fleet.schools.has(uai)) return undefined;
    return this.view(
      uai,
      [...this.fleet.agents.values()].filter((a) => a.uai === uai),
    );
  }

  onChange(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Find the schools whose record was replaced since the last look. */
  diff(): void {
    for (const [uai, record] of this.fleet.schools) {
      if (this.seen.get(uai) === record) continue;
      this.seen.set(uai, record);
      for (const l of this.listeners) l(uai);
    }
  }

  private view(uai: string, agents: AgentPresence[]): SchoolPresenceView | undefined {
    const s = this.fleet.schools.get(uai);
    if (!s) return undefined;
    return {
      uai,
      state: s.state,
      // Offline counts from the last sign of life, as the outage does, not from when it was noticed.
      since: s.state === 'offline' && s.outageStart !== null ? s.outageStart : s.since,
      reason: s.reason,
      agents: agents.map(agentView),
    };
  }
}
