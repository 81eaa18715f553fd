// The series bounds applied to intake()'s results: what reaches the write-ahead log, what is
// dead-lettered, what the team is told.
import { describe, expect, it } from 'vitest';
import { formatWindow } from '../../collector/cardinality.ts';
import { CardinalityGuard } from '../../collector/cardinality-guard.ts';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { DeadLetters } from '../../collector/dead-letters.ts';
import { type IntakeResult, intake } from '../../collector/intake.ts';
import { createLogger } from '../../shared/log.ts';
import { parseRegistry } from '../../shared/registry.ts';
import type { Sample } from '../../shared/schemas.ts';
import { makeBatch } from '../harness/collector.ts';

const NOW = 1_800_000_000_000;
const UAI = '0381234K';
const schools = parseRegistry(
  'schools.csv',
  `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps\n${UAI},École,Vienne,45.5,4.8,Orange,100,20\n`,
);
const config = resolveCollectorConfig({}).ingest;

function setup(over: Partial<typeof config.cardinality> = {}) {
  const lines: string[] = [];
  const log = createLogger('test', 'warn', { write: (s: string) => lines.push(s) });
  const deadLetters = new DeadLetters(100, createLogger('test', 'silent'));
  const guard = new CardinalityGuard({ ...config.cardinality, ...over }, { schools, deadLetters, log });
  const warnings = () => lines.map((l) => JSON.parse(l) as { msg: string; bound?: string });
  return { guard, deadLetters, warnings };
}

const ping = (target: string): Sample => ({
  probe: 'ping',
  t: NOW - 1000,
  target,
  sent: 10,
  received: 10,
  lossPct: 0,
});
const topic = (agent: string, kind = 'metrics') => `vigie/v1/${UAI}/${agent}/${kind}`;
const metrics = (agent: string, seq: number, samples: Sample[]): IntakeResult =>
  intake(topic(agent), Buffer.from(JSON.stringify(makeBatch(UAI, agent, seq, NOW - 1000, samples))), {
    schools,
    config,
    now: NOW,
  });
const live = (agent: string) => ({ topic: topic(agent), retain: false });

describe('CardinalityGuard', () => {
  it('writes the kept samples and the batch point, dead-letters the rest once per batch, warns once', () => {
    const { guard, deadLetters, warnings } = setup({ maxSeriesPerProbe: 3 });
    const first = guard.admit(
      metrics('box', 1, [ping('a'), ping('b'), ping('c'), ping('d'), ping('e')]),
      live('box'),
      NOW,
    );
    expect(first.kind).toBe('metrics');
    if (first.kind !== 'metrics') return;
    expect(first.batch.samples.map((s) => (s as { target: string }).target)).toEqual(['a', 'b', 'c']);
    expect(first.points).toBe(4);
    expect(first.lines).not.toContain('target=d');
    expect(first.lines).toContain(
      `batch,agent=box,commune=Vienne,isp=Orange,uai=${UAI} seq=1i,samples=3i,clock_offset_ms=1000 ${NOW - 1000}\n`,
    );
    guard.admit(metrics('box', 2, [ping('a'), ping('f')]), live('box'), NOW + 1);

    const letters = deadLetters.recent();
    expect(letters.map((l) => l.reason)).toEqual(['too_many_series', 'too_many_series']);
    expect(letters[0]!.error).toBe(
      `school ${UAI}, agent box: 2 of 5 samples dropped (ping 2): each would open a new series past the 3 per probe kind an agent may hold within 7 d (collector.ingest.cardinality.maxSeriesPerProbe); first: ping target="d"`,
    );
    expect(JSON.parse(letters[0]!.excerpt)).toMatchObject({ probe: 'ping', target: 'd' });
    expect(letters[0]!.topic).toBe(topic('box'));
    expect(guard.stats()).toMatchObject({ samplesDropped: 3, series: 3 });
    expect(warnings().filter((w) => w.bound === 'series')).toHaveLength(1);
    expect(warnings()[0]!.msg).toMatch(
      /^school 0381234K, agent box: more than 3 distinct ping series within 7 d \(first refused: ping target="d"\)/,
    );
  });

  it('passes a batch untouched when every series fits', () => {
    const { guard, deadLetters } = setup();
    const result = metrics('box', 1, [ping('a')]);
    expect(guard.admit(result, live('box'), NOW)).toBe(result);
    expect(deadLetters.recent()).toEqual([]);
  });

  it('refuses an agent past the school bound, naming the holders and the key to raise; warns once', () => {
    const { guard, warnings } = setup({ maxAgentsPerSchool: 2 });
    for (const agent of ['box-1', 'box-2'])
      expect(guard.admit(metrics(agent, 1, [ping('a')]), live(agent), NOW).kind).toBe('metrics');
    const refused = guard.admit(metrics('box-3', 1, [ping('a')]), live('box-3'), NOW);
    expect(refused).toEqual({
      kind: 'rejected',
      reason: 'too_many_agents',
      error: `school ${UAI} already has 2 agents seen within 7 d (box-1, box-2): agent "box-3" refused (collector.ingest.cardinality.maxAgentsPerSchool)`,
      uai: UAI,
    });
    // Its status and events too: presence never hears of it.
    const status = intake(
      topic('box-4', 'status'),
      Buffer.from(JSON.stringify({ v: 1, uai: UAI, agent: 'box-4', state: 'online', t: NOW })),
      { schools, config, now: NOW },
    );
    expect(guard.admit(status, { topic: topic('box-4', 'status'), retain: false }, NOW).kind).toBe(
      'rejected',
    );
    expect(warnings().filter((w) => w.bound === 'agents')).toHaveLength(1);
  });

  it('passes intake refusals through as they are', () => {
    const { guard } = setup();
    const bad = intake(topic('box'), Buffer.from('{'), { schools, config, now: NOW });
    expect(guard.admit(bad, live('box'), NOW)).toBe(bad);
  });

  it('says when its own bound on schools is reached, at most once a minute', () => {
    const { guard, warnings } = setup({ maxSchools: 1 });
    const other = (uai: string, at: number) =>
      guard.admit(
        intake(
          `vigie/v1/${uai}/box/metrics`,
          Buffer.from(JSON.stringify(makeBatch(uai, 'box', 1, NOW - 1000, [ping('a')]))),
          { schools, config, now: at },
        ),
        { topic: `vigie/v1/${uai}/box/metrics`, retain: false },
        at,
      );
    for (const [uai, at] of [
      [UAI, NOW],
      ['0380001V', NOW + 1],
      ['0380042P', NOW + 2],
      [UAI, NOW + 60_002],
    ] as const)
      expect(other(uai, at).kind).toBe('metrics');
    const told = warnings().filter((w) => /track 1 schools at most/.test(w.msg));
    expect(told).toHaveLength(2);
    expect(guard.stats()).toMatchObject({ schools: 1, schoolsForgotten: 3 });
  });

  it('says windows as people do', () => {
    expect(formatWindow(7 * 86_400_000)).toBe('7 d');
    expect(formatWindow(36 * 3_600_000)).toBe('36 h');
    expect(formatWindow(90 * 60_000)).toBe('90 min');
  });
});
