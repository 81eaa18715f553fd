// Presence times every collector of a group computes alike (docs/design-several-collectors.md). Each
// collector judges presence on the whole stream, but receives each message a few ms apart from the
// others: times of receipt would make two `presence` points and two `outage` points of one change.
// Here every presence change is stamped with a time read from the agents' messages (agent clock, ms):
//   - a change a message causes: that message's `t` (batch, birth, graceful stop, event);
//   - an agent lost, by silence or by its will (which comes first differs between collectors): 1 ms
//     after its last sign of life (not at it: that time may be the agent's own `online` point);
//   - a school going offline, and its outage: from 1 ms after the school's last sign of life (not at it:
//     that time may be the school's own `online` point) to the stamp of the change that ended it.
// Same messages in, same stamps out: InfluxDB keeps one point per (measurement, tags, time), so the
// points the collectors write of one change are one point. Pure bookkeeping: no clock, no I/O.
import type { PresenceEffect } from './fleet.ts';

/** What caused a batch of presence effects, for one agent. */
export type StampCause =
  | { kind: 'message'; t: number }
  /** Silence or will; `t`: the will's own time, used only for an agent never heard from otherwise. */
  | { kind: 'lost'; t?: number };

export class PresenceStamps {
  /** Per `uai/agent`: the newest agent-clock time of a sign of life (batch, birth, event). */
  private readonly lastSignT = new Map<string, number>();
  /** Per school: the stamped start of its open outage. */
  private readonly outages = new Map<string, { start: number }>();
  /**
   * Outages over and waiting for their cause, by `uai/start/end` as presence knows them: their stamps.
   * A flapping link ends a second outage of a school before the first is classified. Bounded like
   * presence's waiting outages (fleet.ts MAX_PENDING_PER_SCHOOL) per school.
   */
  private readonly ended = new Map<string, { start: number; end: number }>();

  constructor(private readonly maxAgents: number) {}

  /** A sign of life at agent time `t` (call after stamping what it caused). */
  signOfLife(uai: string, agent: string, t: number): void {
    const key = `${uai}/${agent}`;
    const last = this.lastSignT.get(key);
    if (last !== undefined && last >= t) return;
    if (last === undefined && this.lastSignT.size >= this.maxAgents) return;
    this.lastSignT.set(key, t);
  }

  lastSign(uai: string, agent: string): number | undefined {
    return this.lastSignT.get(`${uai}/${agent}`);
  }

  /** The stamp of what `cause` did to one agent; undefined for an agent lost before any sign of life. */
  stamp(uai: string, agent: string, cause: StampCause): number | undefined {
    const last = this.lastSignT.get(`${uai}/${agent}`);
    switch (cause.kind) {
      case 'message':
        return cause.t;
      case 'lost':
        return last === undefined ? cause.t : last + 1;
    }
  }

  /**
   * The effects with stamped times: agent transitions get their agent's stamp, a school transition the
   * stamp of the agent change just before it, outages their stamped start and end. `causeOf` says what
   * happened to each agent; `agentsOf` lists a school's agents (its last sign of life starts an outage).
   */
  stampEffects(
    effects: readonly PresenceEffect[],
    causeOf: (uai: string, agent: string) => StampCause,
    agentsOf: (uai: string) => readonly string[],
  ): PresenceEffect[] {
    let current: number | null = null;
    return effects.map((e): PresenceEffect => {
      switch (e.kind) {
        case 'transition': {
          const t = e.transition;
          if (t.scope === 'agent') current = this.stamp(t.uai, t.agent, causeOf(t.uai, t.agent)) ?? t.at;
          const open = t.scope === 'school' && t.to === 'offline' && !this.outages.has(t.uai);
          const at = open
            ? this.schoolOutageStart(t.uai, agentsOf(t.uai), current ?? t.at)
            : (current ?? t.at);
          return { kind: 'transition', transition: { ...t, at } };
        }
        case 'outage_started': {
          const start = this.schoolOutageStart(e.uai, agentsOf(e.uai), current ?? e.start);
          this.outages.set(e.uai, { start });
          return { ...e, start };
        }
        case 'outage_ended': {
          const o = this.outages.get(e.uai);
          const end = current ?? e.end;
          if (!o) return e;
          this.outages.delete(e.uai);
          this.remember(`${e.uai}/${e.start}/${e.end}`, { start: o.start, end });
          return { ...e, start: o.start, end };
        }
        case 'outage_finished': {
          const key = `${e.uai}/${e.start}/${e.end}`;
          const o = this.ended.get(key);
          if (!o) return e;
          this.ended.delete(key);
          return { ...e, start: o.start, end: o.end };
        }
      }
      return e;
    });
  }

  private remember(key: string, stamped: { start: number; end: number }): void {
    this.ended.set(key, stamped);
    // An outage presence never classifies (it should not happen) must not stay forever.
    if (this.ended.size > this.maxAgents) this.ended.delete(this.ended.keys().next().value!);
  }

  private schoolOutageStart(uai: string, agents: readonly string[], fallback: number): number {
    const signs = agents
      .map((a) => this.lastSignT.get(`${uai}/${a}`))
      .filter((x): x is number => x !== undefined);
    return signs.length ? Math.max(...signs) + 1 : fallback;
  }

  /** The stamped start of a school's open outage. */
  outageStart(uai: string): number | undefined {
    return this.outages.get(uai)?.start;
  }

  /** After a restart: each agent's last batch time as InfluxDB holds it, and the open outages' starts. */
  rebuilt(
    agents: readonly { uai: string; agent: string; lastSeenAt: number }[],
    open: readonly { uai: string; since: number }[],
  ): void {
    for (const a of agents) if (a.lastSeenAt > 0) this.signOfLife(a.uai, a.agent, a.lastSeenAt);
    for (const o of open) if (!this.outages.has(o.uai)) this.outages.set(o.uai, { start: o.since });
  }
}
