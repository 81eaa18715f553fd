// Applies the series bounds (collector/cardinality.ts) to what intake() accepted, before the
// write-ahead log. An agent past its school's bound is refused whole (too_many_agents). Within a batch,
// only the samples that would open a series past the bound are dropped (one too_many_series dead letter
// per batch): a refused batch would be acked and lost with every known series in it, and the batch
// point keeps its seq, so loss accounting sees no gap. The team hears once per school and bound.
import type { Logger } from '../shared/log.ts';
import type { School } from '../shared/registry.ts';
import type { Uai } from '../shared/uai.ts';
import {
  CardinalityTracker,
  type CardinalityTrackerStats,
  describeSeries,
  type ForgottenSchool,
  formatWindow,
} from './cardinality.ts';
import type { CardinalityConfig } from './config.ts';
import { type DeadLetters, shouldLog } from './dead-letters.ts';
import type { IntakeRejectReason, IntakeResult } from './intake.ts';
import { batchToLines } from './mapping.ts';

const AGENTS_KEY = 'collector.ingest.cardinality.maxAgentsPerSchool';
const SERIES_KEY = 'collector.ingest.cardinality.maxSeriesPerProbe';
const SCHOOLS_KEY = 'collector.ingest.cardinality.maxSchools';

/** intake()'s result, or an agent refused by its school's bound. */
export type BoundedIntake =
  | Exclude<IntakeResult, { kind: 'rejected' }>
  | { kind: 'rejected'; reason: IntakeRejectReason | 'too_many_agents'; error: string; uai?: Uai };

export interface CardinalityStats extends CardinalityTrackerStats {
  /** Samples dropped because each would have opened a series past the bound. */
  samplesDropped: number;
}

/** At most 8 names, then how many more: an error line stays readable whatever the bound. */
const listed = (names: string[]) =>
  names.length > 8 ? `${names.slice(0, 8).join(', ')} and ${names.length - 8} more` : names.join(', ');

export class CardinalityGuard {
  private readonly tracker: CardinalityTracker;
  private readonly window: string;
  private samplesDropped = 0;
  private lastForgetLog: number | undefined;
  private forgottenSinceLog = 0;

  constructor(
    private readonly limits: CardinalityConfig,
    private readonly deps: {
      schools: ReadonlyMap<string, School> | null;
      deadLetters: DeadLetters;
      log: Logger;
    },
  ) {
    this.tracker = new CardinalityTracker(limits);
    this.window = formatWindow(limits.forgetAfterMs);
  }

  stats(): CardinalityStats {
    return { ...this.tracker.stats(), samplesDropped: this.samplesDropped };
  }

  /**
   * The intake result within the school's bounds: unchanged, a metrics result whose batch, lines and
   * point count leave out the dropped samples, or a too_many_agents refusal. `at`: collector clock, ms.
   */
  admit(result: IntakeResult, packet: { topic: string; retain: boolean }, at: number): BoundedIntake {
    if (result.kind === 'rejected') return result;
    if (result.kind === 'status' || result.kind === 'event') {
      const { uai, agent } = result.msg;
      const claim = !(result.kind === 'status' && packet.retain);
      const decision = this.tracker.agent(uai, agent, at, claim);
      this.forgot(decision.forgotten, at);
      return decision.ok
        ? result
        : this.refuseAgent(uai, agent, decision.known, decision.notice !== undefined);
    }
    const { batch } = result;
    const decision = this.tracker.batch(batch.uai, batch.agent, batch.samples, at);
    this.forgot(decision.forgotten, at);
    if (!decision.ok)
      return this.refuseAgent(batch.uai, batch.agent, decision.known, decision.notice !== undefined);
    const { kept, dropped } = decision;
    if (dropped.length === 0) return result;

    this.samplesDropped += dropped.length;
    const byProbe: Record<string, number> = {};
    for (const s of dropped) byProbe[s.probe] = (byProbe[s.probe] ?? 0) + 1;
    const first = describeSeries(dropped[0]!);
    const where = `school ${batch.uai}, agent ${batch.agent}`;
    this.deps.deadLetters.add({
      at,
      reason: 'too_many_series',
      error:
        `${where}: ${dropped.length} of ${batch.samples.length} samples dropped (${Object.entries(byProbe)
          .map(([p, n]) => `${p} ${n}`)
          .join(
            ', ',
          )}): each would open a new series past the ${this.limits.maxSeriesPerProbe} per probe kind ` +
        `an agent may hold within ${this.window} (${SERIES_KEY}); first: ${first}`,
      topic: packet.topic,
      uai: batch.uai,
      payload: JSON.stringify(dropped[0]),
    });
    if (decision.notice)
      this.deps.log.warn(
        { uai: batch.uai, agent: batch.agent, bound: 'series', limit: this.limits.maxSeriesPerProbe, first },
        `${where}: more than ${this.limits.maxSeriesPerProbe} distinct ${dropped[0]!.probe} series within ${this.window} ` +
          `(first refused: ${first}); samples of new series are dropped until old ones go unseen for ${this.window}. ` +
          `Check the agent's config; if the school really needs more, raise ${SERIES_KEY}.`,
      );
    const trimmed = { ...batch, samples: kept };
    return {
      ...result,
      batch: trimmed,
      lines: batchToLines(trimmed, this.deps.schools?.get(batch.uai), at),
      points: kept.length + 1,
    };
  }

  private refuseAgent(uai: string, agent: string, known: string[], notice: boolean): BoundedIntake {
    const max = this.limits.maxAgentsPerSchool;
    if (notice)
      this.deps.log.warn(
        { uai, agent, bound: 'agents', limit: max, known },
        `school ${uai}: more than ${max} agents within ${this.window}; agent "${agent}" and any further new one ` +
          `are refused until one goes unseen for ${this.window}. Check for invented or changing agent ids; ` +
          `if the school really has more boxes, raise ${AGENTS_KEY}.`,
      );
    return {
      kind: 'rejected',
      reason: 'too_many_agents',
      error: `school ${uai} already has ${max} agents seen within ${this.window} (${listed(known)}): agent "${agent}" refused (${AGENTS_KEY})`,
      uai: uai as Uai, // intake() checked it against the topic's
    };
  }

  private forgot(forgotten: ForgottenSchool | undefined, at: number): void {
    if (!forgotten) return;
    this.forgottenSinceLog++;
    if (!shouldLog(this.lastForgetLog, at)) return;
    this.deps.log.warn(
      {
        uai: forgotten.uai,
        lastSeen: new Date(forgotten.lastSeen).toISOString(),
        forgotten: this.forgottenSinceLog,
        total: this.tracker.stats().schoolsForgotten,
      },
      `series bounds track ${this.limits.maxSchools} schools at most: forgot the least recently seen (${forgotten.uai}); ` +
        `its agents and series count afresh. Raise ${SCHOOLS_KEY} if the fleet is that large.`,
    );
    this.lastForgetLog = at;
    this.forgottenSinceLog = 0;
  }
}
