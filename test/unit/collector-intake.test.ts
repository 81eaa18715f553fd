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
    // A seq past 2^53 − 1 is no exact integer and InfluxDB's int64 would refuse 1e20: refused here, whole.
    expect(reason(topic(), payload({ ...good, seq: 1e20 }))).toBe('schema');
    expect(
      reason(topic(), Buffer.from(JSON.stringify(good).replace('"seq":1', '"seq":9223372036854775808'))),
    ).toBe('schema');
    expect(reason(topic(), payload({ ...good, seq: 2 ** 53 }))).toBe('schema');
    expect(reason(topic(), payload({ ...good, seq: Number.MAX_SAFE_INTEGER }))).toBe('metrics');
    expect(
      reason(topic(), Buffer.from(JSON.stringify(good).replace('"lossPct":10', '"lossPct":1e400'))),
    ).toBe('non_finite');
    expect(reason(topic(), Buffer.alloc(300_000, 32))).toBe('oversize');
    // A batch stamped ahead is a wrong clock, measured and corrected (collector-clock-offset.test.ts);
    // a sample stamped after its own batch is the agent contradicting itself.
    expect(reason(topic(), payload({ ...good, t: NOW + 301_000 }))).toBe('metrics');
    expect(
      reason(topic(), payload(makeBatch(UAI, 'box', 1, NOW, everySample(NOW + 301_000).slice(0, 1)))),
    ).toBe('clock_future');
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

describe('intake of messages built to break it (never throws, always a reason)', () => {
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  const reasonOf = (t: string, p: Buffer | string, c = ctx()) => {
    const r = intake(t, Buffer.from(p), c);
    return r.kind === 'rejected' ? r.reason : r.kind;
  };
  const event = { v: 1, uai: UAI, agent: 'box', t: NOW, kind: 'started', message: 'hello' };
  const good = makeBatch(UAI, 'box', 1, NOW, everySample(NOW).slice(0, 1));

  it('refuses the 40 kB metrics message of 20,000 nested arrays and the 8,100-level event (too_deep)', () => {
    const metrics = `{"v":1,"x":${nested(20_000)}}`;
    expect(metrics.length).toBeGreaterThan(40_000);
    expect(intake(topic(), Buffer.from(metrics), ctx())).toMatchObject({
      kind: 'rejected',
      reason: 'too_deep',
      uai: UAI,
      error: expect.stringMatching(/nested deeper than 16 levels/),
    });
    const events = `{"v":1,"x":${nested(8_100)}}`;
    expect(events.length).toBeLessThanOrEqual(16 * 1024);
    expect(reasonOf(topic(UAI, 'box', 'events'), events)).toBe('too_deep');
    expect(reasonOf(topic(UAI, 'box', 'status'), `{"v":1,"x":${nested(2_000)}}`)).toBe('too_deep');
  });

  it('refuses deep nesting however it is built: objects, inside a sample, inside event data', () => {
    const deepObject = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    expect(reasonOf(topic(), `{"v":1,"x":${deepObject}}`)).toBe('too_deep');
    const inSample = JSON.stringify(good).replace('"lossPct":10', `"lossPct":${nested(17)}`);
    expect(reasonOf(topic(), inSample)).toBe('too_deep');
    const inData = JSON.stringify({ ...event, data: { a: 1 } }).replace('"a":1', `"a":${nested(30)}`);
    expect(reasonOf(topic(UAI, 'box', 'events'), inData)).toBe('too_deep');
    // Brackets inside text are text.
    expect(
      reasonOf(topic(UAI, 'box', 'events'), JSON.stringify({ ...event, message: '['.repeat(1000) })),
    ).toBe('event');
  });

  it('refuses arrays and objects too wide to walk (too_many_entries), but not 2000 samples', () => {
    expect(reasonOf(topic(), `{"v":1,"x":[${Array(5000).fill(0).join(',')}]}`)).toBe('too_many_entries');
    const keys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1]));
    expect(reasonOf(topic(), JSON.stringify({ ...good, x: keys }))).toBe('too_many_entries');
    const full = makeBatch(
      UAI,
      'box',
      1,
      NOW,
      Array.from({ length: 2000 }, () => everySample(NOW)[1]!),
    );
    expect(reasonOf(topic(), JSON.stringify(full))).toBe('metrics');
  });

  it('draws the same bounds for a small payload (checked while walking) and a large one (on its bytes)', () => {
    const levels = (n: number) => `{"v":1,"x":${nested(n - 1)}}`; // the root object is level 1
    const items = (n: number) => `{"v":1,"x":[${Array(n).fill(0).join(',')}]}`;
    const large = (text: string) => text.replace('{"v":1', `{"v":1,"pad":"${'p'.repeat(20_000)}"`);
    for (const size of [(t: string) => t, large]) {
      expect(reasonOf(topic(), size(levels(16)))).toBe('schema');
      expect(reasonOf(topic(), size(levels(17)))).toBe('too_deep');
      expect(reasonOf(topic(), size(items(4096)))).toBe('schema');
      expect(reasonOf(topic(), size(items(4097)))).toBe('too_many_entries');
    }
    expect(intake(topic(), Buffer.from(levels(17)), ctx())).toMatchObject({
      error: '/x/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0: arrays and objects nested deeper than 16 levels',
    });
    expect(intake(topic(), Buffer.from(large(levels(17))), ctx())).toMatchObject({
      error: 'arrays and objects nested deeper than 16 levels (byte 20035)',
    });
  });

  it('refuses text UTF-8 cannot carry: invalid bytes, lone surrogates in values and in keys', () => {
    const bytes = Buffer.concat([Buffer.from('{"v":1,"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(intake(topic(), bytes, ctx())).toMatchObject({ reason: 'invalid_text', error: /not valid UTF-8/ });
    const lone = JSON.stringify(good).replace('"target":"gateway"', '"target":"gate\\ud800way"');
    expect(intake(topic(), Buffer.from(lone), ctx())).toMatchObject({
      reason: 'invalid_text',
      error: expect.stringMatching(/^\/samples\/0\/target: text has a lone UTF-16 surrogate/),
    });
    const loneKey = JSON.stringify({ ...event, data: { ok: 1 } }).replace('"ok"', '"\\udfff"');
    expect(reasonOf(topic(UAI, 'box', 'events'), loneKey)).toBe('invalid_text');
    // A real emoji is a surrogate pair, and fine.
    const emoji = JSON.stringify({ ...event, message: 'école 🏫 \\ud83c\\udfeb' });
    expect(reasonOf(topic(UAI, 'box', 'events'), emoji)).toBe('event');
  });

  it('still finds a non-finite number deep in an allowed shape, with its path', () => {
    const deep = `{"v":1,"x":[[[[{"y":[1,1e999]}]]]]}`;
    expect(intake(topic(), Buffer.from(deep), ctx())).toMatchObject({
      reason: 'non_finite',
      error: '/x/0/0/0/0/y/1: number is not finite',
    });
  });

  it('turns a throw in any step into internal_error, naming the school', () => {
    const broken = new Map(schools);
    broken.get = () => {
      throw new TypeError('registry lookup exploded');
    };
    expect(intake(topic(), payload(good), ctx({}, broken))).toEqual({
      kind: 'rejected',
      reason: 'internal_error',
      error: 'the collector failed on this message: TypeError: registry lookup exploded',
      uai: UAI,
    });
    const laterBreak = ctx();
    Object.defineProperty(laterBreak.config, 'maxFutureMs', {
      get() {
        throw new RangeError('Maximum call stack size exceeded');
      },
    });
    expect(intake(topic(), payload(good), laterBreak)).toMatchObject({
      reason: 'internal_error',
      uai: UAI,
      error: expect.stringMatching(/RangeError: Maximum call stack/),
    });
  });
});

describe('intake clock checks on status and events', () => {
  const status = (over: Record<string, unknown>) =>
    payload({ v: 1, uai: UAI, agent: 'box', state: 'online', t: NOW, reason: 'birth', ...over });
  const event = (over: Record<string, unknown>) =>
    payload({ v: 1, uai: UAI, agent: 'box', t: NOW, kind: 'started', message: 'hello', ...over });
  const TEN_YEARS = 10 * 365 * 86_400_000;

  it('refuses a status dated in the future: its t, or its startedAt', () => {
    expect(intake(topic(UAI, 'box', 'status'), status({ t: NOW + TEN_YEARS }), ctx())).toMatchObject({
      kind: 'rejected',
      reason: 'clock_future',
      uai: UAI,
      error: expect.stringMatching(/^\/t is \d+ s ahead of the collector's clock \(limit 300 s\)$/),
    });
    expect(intake(topic(UAI, 'box', 'status'), status({ t: NOW + 301_000 }), ctx()).kind).toBe('rejected');
    expect(intake(topic(UAI, 'box', 'status'), status({ t: NOW + 299_000 }), ctx()).kind).toBe('status');
    expect(intake(topic(UAI, 'box', 'status'), status({ startedAt: NOW + TEN_YEARS }), ctx())).toMatchObject({
      reason: 'clock_future',
      error: expect.stringMatching(/^\/startedAt is/),
    });
  });

  it('accepts an old status: a will is stamped when its agent connected, a retained birth as old', () => {
    const will = status({ state: 'offline', reason: 'will', t: NOW - 90 * 86_400_000 });
    expect(intake(topic(UAI, 'box', 'status'), will, ctx()).kind).toBe('status');
    const birth = status({ t: NOW - 40 * 86_400_000, startedAt: NOW - 41 * 86_400_000 });
    expect(intake(topic(UAI, 'box', 'status'), birth, ctx()).kind).toBe('status');
  });

  it('refuses an event outside the bounds metrics use, either side', () => {
    expect(intake(topic(UAI, 'box', 'events'), event({ t: NOW + TEN_YEARS }), ctx())).toMatchObject({
      reason: 'clock_future',
      uai: UAI,
    });
    expect(intake(topic(UAI, 'box', 'events'), event({ t: NOW - 31 * 86_400_000 }), ctx())).toMatchObject({
      reason: 'clock_past',
      error: expect.stringMatching(/^\/t is \d+ s old/),
    });
    expect(intake(topic(UAI, 'box', 'events'), event({ t: NOW - 29 * 86_400_000 }), ctx()).kind).toBe(
      'event',
    );
  });
});
