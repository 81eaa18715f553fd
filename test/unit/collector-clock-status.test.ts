// Issue 14 §1, kind "any step or offset of any clock never loses data", for the messages other than
// batches: a status (retained birth, will, graceful stop) or an event from a box whose clock runs ahead,
// arriving before any batch measured that clock, was refused as `clock_future` (the school then stayed
// unknown or offline while connected). Now its own time proves the clock ahead and it is corrected by
// the same book as batches (collector/clock-offset.ts).
import { describe, expect, it } from 'vitest';
import { CLOCK_CORRECTION_MS, ClockBook, provesMoreAhead } from '../../collector/clock-offset.ts';
import { type IntakeContext, intake } from '../../collector/intake.ts';
import { parseRegistry } from '../../shared/registry.ts';
import { everySample, makeBatch } from '../harness/collector.ts';

const NOW = 1_800_000_000_000;
const S = 1000;
const H = 3600 * S;
const D = 24 * H;
const UAI = '0381234K';
const schools = parseRegistry(
  'schools.csv',
  `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps\n${UAI},École,Vienne,45.5,4.8,Orange,100,20\n`,
);
const ctx = (clocks: ClockBook, retained = false, now = NOW): IntakeContext => ({
  schools,
  config: { maxPayloadBytes: 262144, maxFutureMs: 300_000, maxPastMs: 30 * D, rejectUnknownSchools: false },
  now,
  clocks,
  retained,
});
const json = (m: unknown) => Buffer.from(JSON.stringify(m));
const statusTopic = `vigie/v1/${UAI}/box/status`;
const status = (over: Record<string, unknown>) =>
  json({ v: 1, uai: UAI, agent: 'box', state: 'online', t: NOW + H, reason: 'birth', ...over });

describe('a status or an event from a clock ahead, before any batch measured it', () => {
  for (const ahead of [6 * 60 * S, H, 3 * D])
    it(`a retained birth ${ahead / 60_000} min ahead is accepted and measures the clock`, () => {
      const book = new ClockBook();
      const r = intake(
        statusTopic,
        status({ t: NOW + ahead, startedAt: NOW + ahead - 10 * S }),
        ctx(book, true),
      );
      expect(r.kind).toBe('status');
      // What presence reads: the correction is at least what the message proves.
      expect(book.get(UAI, 'box').correctMs).toBe(ahead);
    });

  it('a will (retained or not) and a graceful stop, stamped ahead, are accepted', () => {
    for (const retained of [true, false]) {
      const book = new ClockBook();
      const will = status({ state: 'offline', reason: 'will', t: NOW + H - 20 * 60 * S });
      expect(intake(statusTopic, will, ctx(book, retained)).kind).toBe('status');
      expect(book.get(UAI, 'box').correctMs).toBe(H - 20 * 60 * S);
    }
    const stop = status({ state: 'offline', reason: 'graceful', t: NOW + H });
    expect(intake(statusTopic, stop, ctx(new ClockBook())).kind).toBe('status');
  });

  it('an event stamped an hour ahead is accepted at its receive time', () => {
    const book = new ClockBook();
    const event = json({ v: 1, uai: UAI, agent: 'box', t: NOW + H, kind: 'started', message: 'hello' });
    const r = intake(`vigie/v1/${UAI}/box/events`, event, ctx(book));
    expect(r.kind === 'event' && r.msg.t).toBe(NOW);
  });

  it('a birth whose start is later than its own time (the clock stepped back since) is kept', () => {
    const r = intake(statusTopic, status({ t: NOW, startedAt: NOW + H }), ctx(new ClockBook(), true));
    expect(r.kind).toBe('status');
  });

  it('a will stamped long ago does not spoil what batches measured: a clock behind stays corrected', () => {
    const book = new ClockBook();
    // A box 1 h behind, measured over 3 min of batches with send times.
    for (let i = 0; i <= 6; i++) {
      const at = NOW + i * 30 * S;
      const batch = {
        ...makeBatch(UAI, 'box', i + 1, at - H - S, everySample(at - H - S).slice(0, 1)),
        sentAt: at - H,
      };
      expect(intake(`vigie/v1/${UAI}/box/metrics`, json(batch), ctx(book, false, at + 40)).kind).toBe(
        'metrics',
      );
    }
    expect(book.get(UAI, 'box').correctMs).toBe(-H - 40);
    const at = NOW + 200 * S;
    const will = status({ state: 'offline', reason: 'will', t: NOW - 2 * D });
    expect(intake(statusTopic, will, ctx(book, true, at)).kind).toBe('status');
    expect(book.get(UAI, 'box').correctMs).toBe(-H - 40);
  });

  it('records a stamped time only when it proves the clock further ahead than known', () => {
    const book = new ClockBook();
    expect(provesMoreAhead(book.get(UAI, 'box'), NOW + CLOCK_CORRECTION_MS, NOW)).toBe(false);
    expect(book.stamped(UAI, 'box', NOW + 1000, NOW).seen).toEqual([]);
    expect(book.stamped(UAI, 'box', NOW + H, NOW).correctMs).toBe(H);
    // An older stamp proving less changes nothing.
    expect(book.stamped(UAI, 'box', NOW + 30 * S, NOW + S).seen).toHaveLength(1);
  });
});
