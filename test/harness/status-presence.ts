// A stand-in PresenceSource for HTTP tests and benches: presence from status messages alone (birth
// online, will or clean stop offline; a metrics batch proves the agent is up), no silence timer, no
// degraded state. Not the collector's rule: `vigie collector` always runs collector/presence/.

import type {
  AgentPresenceView,
  PresenceSource,
  PresenceState,
  SchoolPresenceView,
} from '../../collector/http/deps.ts';
import type { CollectorObserver } from '../../collector/observer.ts';
import type { MetricsBatch, StatusMessage } from '../../shared/schemas.ts';

const RANK: Record<PresenceState, number> = { online: 3, degraded: 2, offline: 1, unknown: 0 };

export class StatusPresence implements PresenceSource, CollectorObserver {
  private readonly agents = new Map<string, Map<string, AgentPresenceView & { reason: string }>>();
  private readonly views = new Map<string, SchoolPresenceView>();
  private readonly listeners = new Set<(uai: string) => void>();

  constructor(private readonly maxAgents = 100_000) {}

  schools(): Iterable<SchoolPresenceView> {
    return this.views.values();
  }

  school(uai: string): SchoolPresenceView | undefined {
    return this.views.get(uai);
  }

  onChange(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(msg: StatusMessage, info: { retained: boolean; receivedAt: number }): void {
    const reason = msg.state === 'online' ? (msg.reason ?? 'birth') : (msg.reason ?? 'will');
    this.set(msg.uai, msg.agent, msg.state, reason, info.receivedAt, msg.state === 'online');
  }

  onMetrics(batch: MetricsBatch, info: { receivedAt: number }): void {
    const a = this.agents.get(batch.uai)?.get(batch.agent);
    const state = a && a.state !== 'offline' && a.state !== 'unknown' ? a.state : 'online';
    this.set(batch.uai, batch.agent, state, a?.state === state ? a.reason : 'metrics', info.receivedAt, true);
  }

  private set(
    uai: string,
    agent: string,
    state: PresenceState,
    reason: string,
    at: number,
    seen: boolean,
  ): void {
    let school = this.agents.get(uai);
    if (!school) {
      if (this.agents.size >= this.maxAgents) return;
      school = new Map();
      this.agents.set(uai, school);
    }
    const prev = school.get(agent);
    const changed = prev?.state !== state;
    school.set(agent, {
      agent,
      state,
      reason: changed ? reason : (prev?.reason ?? reason),
      since: changed ? at : prev!.since,
      lastSeenAt: seen ? at : (prev?.lastSeenAt ?? 0),
    });
    const agents = [...school.values()];
    const best = agents.reduce((a, b) => (RANK[b.state] > RANK[a.state] ? b : a));
    const before = this.views.get(uai);
    const moved = before?.state !== best.state;
    this.views.set(uai, {
      uai,
      state: best.state,
      since: moved ? at : before!.since,
      reason: moved ? best.reason : before!.reason,
      agents: agents.map(({ reason: _r, ...v }) => v),
    });
    for (const l of this.listeners) l(uai);
  }
}
