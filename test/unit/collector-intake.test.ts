import { describe, expect, it } from 'vitest';
import { type IntakeContext, intake } from '../../collector/intake.ts';
import { parseRegistry } from '../../shared/registry.ts';
import { everySample, makeBatch } from '../harness/collector.ts';

const NOW = 1_800_000_000_000;
const UAI = '0381234K';
const schools = parseRegistry(
  'schools.csv',
  `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps\n${UAI},École,Vienne,45.5,4.8,Orange,100,20\n`,
);
const ctx = (
  over: Partial<IntakeContext['config']> = {},
  registry: IntakeContext['schools'] = schools,
): IntakeContext => ({
  schools: registry,
  config: {
    maxPayloadBytes: 262144,
    maxFutureMs: 300_000,
    maxPastMs: 30 * 86_400_000,
    rejectUnknownSchools: false,
    ...over,
  },
  now: NOW,
});
const topic = (uai = UAI, agent = 'box', kind = 'metrics') => `vigie/v1/${uai}/${agent}/${kind}`;
const payload = (b: unknown) => Buffer.from(JSON.stringify(b));

describe('intake', () => {
  it('maps a valid batch to one point per sample plus the batch point, with registry tags', () => {
    const r = intake(topic(), payload(makeBatch(UAI, 'box', 3, NOW - 1000, everySample(NOW - 1000))), ctx());
    expect(r.kind).toBe('metrics');
    if (r.kind !== 'metrics') return;
    expect(r.points).toBe(8);
    expect(r.knownSchool).toBe(true);
    expect(r.lines).toContain(
      `batch,agent=box,commune=Vienne,isp=Orange,uai=${UAI} seq=3i,samples=7i,clock_offset_ms=1000 ${NOW - 1000}\n`,
    );
  });

  it('names the reason for each refusal', () => {
    const good = makeBatch(UAI, 'box', 1, NOW, everySample(NOW).slice(0, 1));
    const reason = (t: string, p: Buffer, c = ctx()) => {
      const r = intake(t, p, c);
      return r.kind === 'rejected' ? r.reason : r.kind;
    };
    expect(reason('vigie/v1/x/box/metrics', payload(good))).toBe('bad_topic');
    expect(reason(topic('0381517T'), payload(good))).toBe('topic_mismatch');
    expect(reason(topic(UAI, 'other'), payload(good))).toBe('topic_mismatch');
    expect(reason(topic(), Buffer.from('{'))).toBe('malformed_json');
    expect(reason(topic(), payload({ ...good, v: 9 }))).toBe('unknown_version');
    expect(reason(topic(), payload({ ...good, seq: -1 }))).toBe('schema');
    expect(
      reason(topic(), Buffer.from(JSON.stringify(good).replace('"lossPct":10', '"lossPct":1e400'))),
    ).toBe('non_finite');
    expect(reason(topic(), Buffer.alloc(300_000, 32))).toBe('oversize');
    expect(reason(topic(), payload({ ...good, t: NOW + 301_000 }))).toBe('clock_future');
    expect(
      reason(topic(), payload(makeBatch(UAI, 'box', 1, NOW, everySample(NOW - 31 * 86_400_000).slice(0, 1)))),
    ).toBe('clock_past');
    expect(
      reason(
        topic(),
        payload(makeBatch(UAI, 'box', 1, NOW, [{ ...everySample(NOW)[0]!, target: 'x\\' } as never])),
      ),
    ).toBe('unwritable');
  });

  it('counts unknown schools, and refuses them when configured to', () => {
    const other = '0380577W';
    const batch = payload(makeBatch(other, 'box', 1, NOW, everySample(NOW).slice(0, 1)));
    const accepted = intake(topic(other), batch, ctx());
    expect(accepted.kind === 'metrics' && accepted.knownSchool).toBe(false);
    const refused = intake(topic(other), batch, ctx({ rejectUnknownSchools: true }));
    expect(refused).toMatchObject({ kind: 'rejected', reason: 'unknown_school', uai: other });
    const noRegistry = intake(topic(other), batch, ctx({}, null));
    expect(noRegistry.kind === 'metrics' && noRegistry.knownSchool).toBe(true);
  });

  it('passes status and events through after the same checks', () => {
    const status = { v: 1, uai: UAI, agent: 'box', state: 'offline', t: NOW, reason: 'will' };
    expect(intake(topic(UAI, 'box', 'status'), payload(status), ctx()).kind).toBe('status');
    expect(intake(topic(UAI, 'box2', 'status'), payload(status), ctx())).toMatchObject({
      reason: 'topic_mismatch',
    });
    const event = { v: 1, uai: UAI, agent: 'box', t: NOW, kind: 'started', message: 'hello' };
    expect(intake(topic(UAI, 'box', 'events'), payload(event), ctx()).kind).toBe('event');
  });
});
