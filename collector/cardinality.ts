// Series bounds per school: how many agents a school may have, and how many distinct tag sets (series)
// each agent may open per probe kind, counted over a window of "seen recently". State and decisions
// only: the caller passes the collector's clock; collector/cardinality-guard.ts applies them to intake.
//
// Every tag whose value comes from the agent is covered: `agent` (topic) by the agent bound, and the
// sample tags of collector/schema.ts (target, role, resolver, name, source, iface, ap) by the series
// bound, whatever tags that table gains later. `uai` is bounded by the broker ACL and the registry,
// commune and isp by the registry.
//
// Maps are kept in least-recently-seen order (a touch moves an entry to the end), so what has not been
// seen for `forgetAfterMs` sits at the head and is pruned in O(1). Memory is bounded by
// maxSchools × maxAgentsPerSchool × probe kinds × maxSeriesPerProbe entries (about 200 B each);
// in practice it follows the series actually admitted, a few dozen per ordinary school.
// After a restart the tracker starts empty: each agent may again open up to its bound, and no more.
import type { ProbeKind, Sample } from '../shared/schemas.ts';
import { SAMPLE_MEASUREMENTS } from './schema.ts';

export interface CardinalityLimits {
  maxAgentsPerSchool: number;
  maxSeriesPerProbe: number;
  /** ms; an agent or series unseen this long no longer counts against a bound. */
  forgetAfterMs: number;
  maxSchools: number;
}

export type Bound = 'agents' | 'series';

/** The first refusal of a school for one bound since it last went `forgetAfterMs` without one. */
export interface BoundNotice {
  uai: string;
  bound: Bound;
  /** The agent refused (agents) or whose samples were dropped (series). */
  agent: string;
  limit: number;
}

/** A school forgotten while still active, to make room for another (maxSchools reached). */
export interface ForgottenSchool {
  uai: string;
  /** ms, collector clock. */
  lastSeen: number;
}

export type AgentDecision =
  | { ok: true; forgotten?: ForgottenSchool }
  | {
      ok: false;
      /** The agents holding the school's places, least recently seen first. */
      known: string[];
      notice?: BoundNotice;
      forgotten?: ForgottenSchool;
    };

export type BatchDecision =
  | Extract<AgentDecision, { ok: false }>
  | {
      ok: true;
      /** The samples to store: `samples` itself when none was dropped. */
      kept: Sample[];
      /** Samples that would each have opened a series past the bound. */
      dropped: Sample[];
      notice?: BoundNotice;
      forgotten?: ForgottenSchool;
    };

export interface CardinalityTrackerStats {
  schools: number;
  agents: number;
  series: number;
  /** Schools forgotten while still active because maxSchools was reached. */
  schoolsForgotten: number;
}

interface AgentState {
  lastSeen: number;
  /** Per probe kind: series key → last seen (ms). */
  series: Map<ProbeKind, Map<string, number>>;
}

interface SchoolState {
  lastSeen: number;
  agents: Map<string, AgentState>;
  /** When each bound last refused something (ms). */
  lastHit: Partial<Record<Bound, number>>;
}

const SERIES_TAGS = Object.fromEntries(
  Object.entries(SAMPLE_MEASUREMENTS).map(([probe, spec]) => [probe, Object.entries(spec.tags)]),
) as Record<ProbeKind, [tag: string, key: string][]>;

/**
 * The sample's series within its agent and probe kind: its tag values in schema order. An absent tag
 * and an empty one are the same series (InfluxDB stores neither).
 */
export function seriesKey(sample: Sample): string {
  const record = sample as unknown as Record<string, unknown>;
  let key = '';
  for (const [, k] of SERIES_TAGS[sample.probe]) {
    const v = record[k];
    key += `${typeof v === 'string' ? v : ''}\u0000`;
  }
  return key;
}

/** `ping target="a b" role="gateway"`: the series a sample belongs to, for people. */
export function describeSeries(sample: Sample): string {
  const record = sample as unknown as Record<string, unknown>;
  const tags = SERIES_TAGS[sample.probe]
    .filter(([, k]) => typeof record[k] === 'string' && record[k] !== '')
    .map(([tag, k]) => `${tag}=${JSON.stringify(record[k])}`);
  return [SAMPLE_MEASUREMENTS[sample.probe].measurement, ...tags].join(' ');
}

/** What is unseen for forgetAfterMs is forgotten, possibly up to forgetAfterMs / REFRESH_DIVISOR sooner. */
const REFRESH_DIVISOR = 64;

/** `7 d`, `36 h`, `90 min`: a window as people say it. */
export function formatWindow(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Moves a Map entry to the end (most recently seen). */
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

export class CardinalityTracker {
  private readonly schools = new Map<string, SchoolState>();
  private agentCount = 0;
  private seriesCount = 0;
  private forgottenCount = 0;

  /** Last-seen times are moved on at most this often: for known series the hot path stays a lookup. */
  private readonly refreshMs: number;

  constructor(private readonly limits: CardinalityLimits) {
    this.refreshMs = Math.floor(limits.forgetAfterMs / REFRESH_DIVISOR);
  }

  stats(): CardinalityTrackerStats {
    return {
      schools: this.schools.size,
      agents: this.agentCount,
      series: this.seriesCount,
      schoolsForgotten: this.forgottenCount,
    };
  }

  /**
   * May this agent speak for its school now? `claim` (metrics, events, live statuses) takes or refreshes
   * a place; without it (a retained status, replayed by the broker at subscribe) the agent only passes
   * if it holds a place or one is free, so dead boxes' retained statuses cannot lock out live ones.
   */
  agent(uai: string, agent: string, now: number, claim = true): AgentDecision {
    if (!claim) {
      const school = this.schools.get(uai);
      if (!school) return { ok: true };
      this.pruneAgents(school, now);
      if (school.agents.has(agent) || school.agents.size < this.limits.maxAgentsPerSchool)
        return { ok: true };
      return this.refuse(school, uai, agent, now);
    }
    const { school, forgotten } = this.school(uai, now);
    const opt = forgotten ? { forgotten } : {};
    this.pruneAgents(school, now);
    const known = school.agents.get(agent);
    if (known) {
      if (now - known.lastSeen >= this.refreshMs) {
        known.lastSeen = now;
        touch(school.agents, agent, known);
      }
      return { ok: true, ...opt };
    }
    if (school.agents.size >= this.limits.maxAgentsPerSchool)
      return { ...this.refuse(school, uai, agent, now), ...opt };
    school.agents.set(agent, { lastSeen: now, series: new Map() });
    this.agentCount++;
    return { ok: true, ...opt };
  }

  /**
   * The agent bound, then the series bound for each sample: a sample of a series seen within the window
   * is kept; one of a new series is kept while its agent and probe kind hold fewer than
   * maxSeriesPerProbe series, and dropped past that.
   */
  batch(uai: string, agent: string, samples: readonly Sample[], now: number): BatchDecision {
    const decision = this.agent(uai, agent, now, true);
    if (!decision.ok) return decision;
    const school = this.schools.get(uai)!;
    const state = school.agents.get(agent)!;
    const dropped: Sample[] = [];
    let kept: Sample[] | null = null;
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      if (this.admitSeries(state, sample, now)) {
        kept?.push(sample);
        continue;
      }
      kept ??= samples.slice(0, i);
      dropped.push(sample);
    }
    const result = {
      ok: true as const,
      kept: kept ?? (samples as Sample[]),
      dropped,
      ...(decision.forgotten ? { forgotten: decision.forgotten } : {}),
    };
    if (dropped.length === 0) return result;
    const notice = this.hit(school, 'series', now)
      ? { uai, bound: 'series' as const, agent, limit: this.limits.maxSeriesPerProbe }
      : undefined;
    return notice ? { ...result, notice } : result;
  }

  private admitSeries(state: AgentState, sample: Sample, now: number): boolean {
    let series = state.series.get(sample.probe);
    if (!series) {
      series = new Map();
      state.series.set(sample.probe, series);
    }
    const key = seriesKey(sample);
    const seen = series.get(key);
    if (seen !== undefined) {
      if (now - seen >= this.refreshMs) touch(series, key, now);
      return true;
    }
    for (const [k, at] of series) {
      if (now - at < this.limits.forgetAfterMs) break;
      series.delete(k);
      this.seriesCount--;
    }
    if (series.size >= this.limits.maxSeriesPerProbe) return false;
    series.set(key, now);
    this.seriesCount++;
    return true;
  }

  private refuse(
    school: SchoolState,
    uai: string,
    agent: string,
    now: number,
  ): Extract<AgentDecision, { ok: false }> {
    const known = [...school.agents.keys()];
    return this.hit(school, 'agents', now)
      ? { ok: false, known, notice: { uai, bound: 'agents', agent, limit: this.limits.maxAgentsPerSchool } }
      : { ok: false, known };
  }

  /** Records a refusal; true when it opens a new episode (the team hears of it once). */
  private hit(school: SchoolState, bound: Bound, now: number): boolean {
    const last = school.lastHit[bound];
    school.lastHit[bound] = now;
    return last === undefined || now - last >= this.limits.forgetAfterMs;
  }

  private pruneAgents(school: SchoolState, now: number): void {
    for (const [id, a] of school.agents) {
      if (now - a.lastSeen < this.limits.forgetAfterMs) break;
      this.dropAgent(school, id, a);
    }
  }

  private dropAgent(school: SchoolState, id: string, a: AgentState): void {
    for (const s of a.series.values()) this.seriesCount -= s.size;
    school.agents.delete(id);
    this.agentCount--;
  }

  /** The school's state, created when new; at maxSchools the least recently seen school makes room. */
  private school(uai: string, now: number): { school: SchoolState; forgotten?: ForgottenSchool } {
    const known = this.schools.get(uai);
    if (known) {
      if (now - known.lastSeen >= this.refreshMs) {
        known.lastSeen = now;
        touch(this.schools, uai, known);
      }
      return { school: known };
    }
    let forgotten: ForgottenSchool | undefined;
    if (this.schools.size >= this.limits.maxSchools) {
      const [oldUai, old] = this.schools.entries().next().value!;
      for (const [id, a] of old.agents) this.dropAgent(old, id, a);
      this.schools.delete(oldUai);
      if (now - old.lastSeen < this.limits.forgetAfterMs) {
        this.forgottenCount++;
        forgotten = { uai: oldUai, lastSeen: old.lastSeen };
      }
    }
    const school: SchoolState = { lastSeen: now, agents: new Map(), lastHit: {} };
    this.schools.set(uai, school);
    return forgotten ? { school, forgotten } : { school };
  }
}
