import { describe, expect, it } from 'vitest';
import type { EventMessage, MetricsBatch, Sample, StatusMessage } from '../../shared/schemas.ts';
import { decodeEvent, decodeMetrics, decodeStatus } from '../../shared/validate.ts';

const T = 1_790_000_000_000;

const samples: Sample[] = [
  {
    probe: 'ping',
    t: T,
    target: 'gateway',
    role: 'gateway',
    sent: 10,
    received: 9,
    lossPct: 10,
    minMs: 1,
    avgMs: 2,
    maxMs: 4,
    medianMs: 2,
    p95Ms: 4,
    jitterMs: 0.5,
  },
  { probe: 'ping', t: T, target: 'anchor', sent: 10, received: 0, lossPct: 100, error: 'ETIMEDOUT' },
  {
    probe: 'dns',
    t: T,
    resolver: '127.0.0.53',
    name: 'ent.example',
    ok: true,
    rcode: 'NOERROR',
    timeMs: 3.2,
  },
  { probe: 'http', t: T, target: 'ENT', ok: true, status: 200, ttfbMs: 80, totalMs: 120, certDaysLeft: 45 },
  { probe: 'wan', t: T, source: 'snmp', iface: 'ppp0', inBps: 1e6, outBps: 2e5, inPct: 10, outPct: 4 },
  {
    probe: 'wifi',
    t: T,
    ap: 'AP préau',
    up: true,
    reachable: true,
    uptimeS: 3600,
    radiosUp: 2,
    radiosTotal: 2,
    clients: 14,
  },
  { probe: 'speedtest', t: T, target: 'collector', ok: true, downBps: 8e6, upBps: 2e6, durationMs: 4000 },
  {
    probe: 'self',
    t: T,
    version: '0.1.0',
    uptimeS: 60,
    rssBytes: 50e6,
    cpuPct: 0.3,
    spoolBytes: 0,
    spoolBatches: 0,
    spoolDropped: 0,
  },
];

const batch = (over: Partial<MetricsBatch> = {}): MetricsBatch => ({
  v: 1,
  uai: '0690001B',
  agent: 'box-1',
  seq: 1,
  t: T,
  samples,
  ...over,
});
const encode = (value: unknown) => JSON.stringify(value);

function rejected(result: ReturnType<typeof decodeMetrics>) {
  expect(result.ok).toBe(false);
  return result.ok ? { reason: '', error: '' } : result;
}

describe('metrics batch schema', () => {
  it('accepts a batch with every sample kind', () => {
    expect(decodeMetrics(encode(batch()))).toEqual({ ok: true, value: batch() });
  });

  it('rejects malformed JSON', () => {
    expect(rejected(decodeMetrics('{"v":1,'))).toMatchObject({ reason: 'malformed_json' });
  });

  it('rejects an unknown protocol version, naming it', () => {
    expect(rejected(decodeMetrics(encode({ ...batch(), v: 2 })))).toMatchObject({
      reason: 'unknown_version',
      error: expect.stringMatching(/version 2/),
    });
  });

  it('rejects an oversize payload before parsing it', () => {
    const big = encode(batch({ samples: Array.from({ length: 1500 }, () => samples[0]!) }));
    expect(rejected(decodeMetrics(big, 10_000))).toMatchObject({
      reason: 'oversize',
      error: expect.stringMatching(/limit 10000/),
    });
  });

  it('rejects Infinity smuggled as 1e999', () => {
    const text = encode(batch()).replace('"lossPct":10', '"lossPct":1e999');
    expect(rejected(decodeMetrics(text))).toMatchObject({
      reason: 'non_finite',
      error: '/samples/0/lossPct: number is not finite',
    });
  });

  it.each([
    ['a missing seq', { seq: undefined }, /missing property "seq"/],
    ['a negative seq', { seq: -1 }, /\/seq: must be >= 0/],
    ['a UAI with a wrong check letter', { uai: '0690001A' }, /\/uai: wrong UAI check letter/],
    ['a UAI as a number', { uai: 690001 }, /\/uai: must be string/],
    ['an agent id with spaces', { agent: 'box 1' }, /\/agent: must match pattern/],
    ['no samples', { samples: [] }, /\/samples: must NOT have fewer than 1 items/],
    ['an unexpected property', { extra: 1 }, /unexpected property "extra"/],
  ])('rejects %s with a readable reason', (_name, over, reason) => {
    const r = rejected(decodeMetrics(encode({ ...batch(), ...over })));
    expect(r.reason).toBe('schema');
    expect(r.error).toMatch(reason);
  });

  it.each([
    ['an unknown probe kind', { probe: 'smtp', t: T }, /\/samples\/0\/probe: must be one of/],
    ['loss over 100 %', { ...samples[0], lossPct: 120 }, /\/samples\/0\/lossPct: must be <= 100/],
    [
      'a string where a number goes',
      { ...samples[2], timeMs: 'fast' },
      /\/samples\/0\/timeMs: must be number/,
    ],
    ['a fractional timestamp', { ...samples[3], t: 1.5 }, /\/samples\/0\/t: must be integer/],
    [
      'a field of another probe',
      { ...samples[4], clients: 3 },
      /\/samples\/0: unexpected property "clients"/,
    ],
    ['a missing required field', { probe: 'wifi', t: T, ap: 'x', up: true }, /missing property "reachable"/],
  ])('rejects a sample with %s, naming the sample and field', (_name, sample, reason) => {
    const r = rejected(decodeMetrics(encode(batch({ samples: [sample as Sample] }))));
    expect(r.reason).toBe('schema');
    expect(r.error).toMatch(reason);
  });
});

describe('status and event schemas', () => {
  const status: StatusMessage = {
    v: 1,
    uai: '0690001B',
    agent: 'box-1',
    state: 'online',
    t: T,
    version: '0.1.0',
    reason: 'birth',
  };
  const event: EventMessage = {
    v: 1,
    uai: '0690001B',
    agent: 'box-1',
    t: T,
    kind: 'spool_drop',
    message: 'spool full',
    data: { dropped: 3 },
  };

  it('accepts a birth, a will and an event', () => {
    expect(decodeStatus(encode(status))).toEqual({ ok: true, value: status });
    expect(decodeStatus(encode({ ...status, state: 'offline', reason: 'will' })).ok).toBe(true);
    expect(decodeEvent(encode(event))).toEqual({ ok: true, value: event });
  });

  it('rejects an unknown state, an unknown event kind, and a bad UAI', () => {
    expect(decodeStatus(encode({ ...status, state: 'sleeping' }))).toMatchObject({
      ok: false,
      reason: 'schema',
    });
    expect(decodeEvent(encode({ ...event, kind: 'party' }))).toMatchObject({ ok: false, reason: 'schema' });
    expect(decodeStatus(encode({ ...status, uai: '0690001C' }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/check letter/),
    });
  });
});
