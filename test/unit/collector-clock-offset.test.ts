// Issue 14, clocks: a wrong agent clock is measured and corrected, never a reason to refuse a batch.
import { describe, expect, it } from 'vitest';
import {
  CLOCK_CORRECTION_MS,
  ClockBook,
  type ClockObservation,
  observeClock,
} from '../../collector/clock-offset.ts';
import { type IntakeContext, intake } from '../../collector/intake.ts';
import { parseRegistry } from '../../shared/registry.ts';
import type { MetricsBatch } from '../../shared/schemas.ts';
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
const ctx = (now: number, clocks?: ClockBook): IntakeContext => ({
  schools,
  config: { maxPayloadBytes: 262144, maxFutureMs: 300_000, maxPastMs: 30 * D, rejectUnknownSchools: false },
  now,
  ...(clocks ? { clocks } : {}),
});
const topic = `vigie/v1/${UAI}/box/metrics`;
/** A batch from a box whose clock runs `ahead` ms ahead, built 1 s before it was sent and sent at `at`. */
const batchFrom = (seq: number, at: number, ahead: number, withSentAt = true): MetricsBatch => ({
  ...makeBatch(UAI, 'box', seq, at + ahead - S, everySample(at + ahead - 2 * S).slice(0, 2)),
  ...(withSentAt ? { sentAt: at + ahead } : {}),
});
const obs = (at: number, ahead: number, transit = 40, sendTime = true): ClockObservation => ({
  receivedAt: at + transit,
  sentAt: at + ahead,
  sendTime,
});

describe('clock offset estimate (pure)', () => {
  it('is the minimum of received − sent: transit only ever adds', () => {
    let c = observeClock(undefined, obs(NOW, H, 900));
    c = observeClock(c, obs(NOW + 60 * S, H, 30));
    c = observeClock(c, obs(NOW + 120 * S, H, 2500));
    expect(c.aheadMs).toBe(H - 30);
    expect(c.correctMs).toBe(H - 30);
  });

  it('leaves a clock within 2 s alone', () => {
    const c = observeClock(undefined, obs(NOW, CLOCK_CORRECTION_MS - 100, 0));
    expect(c.correctMs).toBe(0);
  });

  it('trusts a clock ahead at once, by seconds or by days (a message cannot arrive before it is sent)', () => {
    for (const ahead of [5 * S, 200 * S, H, 3 * D])
      expect(observeClock(undefined, obs(NOW, ahead, 0)).correctMs).toBe(ahead);
  });

  it('trusts a clock behind once observations span 2 min, or at once when far behind', () => {
    let c = observeClock(undefined, obs(NOW, -30 * S, 0));
    expect(c.correctMs).toBe(0); // a burst the broker queued for the collector looks like this
    c = observeClock(c, obs(NOW + 60 * S, -30 * S, 0));
    c = observeClock(c, obs(NOW + 120 * S, -30 * S, 0));
    expect(c.correctMs).toBe(-30 * S);
    expect(observeClock(undefined, obs(NOW, -2 * D, 0)).correctMs).toBe(-2 * D);
  });

  it('never corrects an older agent (build times only) for a clock behind: its spool looks the same', () => {
    expect(observeClock(undefined, obs(NOW, -2 * D, 0, false)).correctMs).toBe(0);
    expect(observeClock(undefined, obs(NOW, H, 0, false)).correctMs).toBe(H);
  });

  it('follows a step back after two batches, or at once when lts says the clock was synchronised', () => {
    for (const step of [120 * S, 200 * S, 300 * S, H]) {
      let c = observeClock(undefined, obs(NOW, step, 0));
      for (let i = 1; i < 10; i++) c = observeClock(c, obs(NOW + i * 5 * S, step, 0));
      c = observeClock(c, obs(NOW + 50 * S, 0, 0));
      expect(c.correctMs).toBe(step); // one batch could be a slow link
      c = observeClock(c, obs(NOW + 55 * S, 0, 0));
      expect(c.correctMs).toBe(0);
      let l = observeClock(undefined, obs(NOW, step, 0));
      l = observeClock(l, { ...obs(NOW + 5 * S, 0, 0), lts: 2 });
      expect(l.correctMs).toBe(0);
    }
  });

  it('keeps at most 16 observations per agent and a bounded number of agents', () => {
    let c = observeClock(undefined, obs(NOW, 0));
    for (let i = 1; i < 100; i++) c = observeClock(c, obs(NOW + i * S, 0));
    expect(c.seen.length).toBe(16);
    const book = new ClockBook(2);
    for (const a of ['a', 'b', 'c']) book.observe(UAI, a, obs(NOW, H));
    expect(book.forgotten).toBe(1);
    expect(book.get(UAI, 'a').correctMs).toBe(0);
    expect(book.get(UAI, 'c').correctMs).toBe(H - 40);
  });
});

describe('intake of a batch from a box whose clock is wrong', () => {
  const timesOf = (lines: string) =>
    lines
      .trim()
      .split('\n')
      .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));

  it('stores a box 1 h ahead at the right time, flagged, instead of refusing it (clock_future)', () => {
    const b = batchFrom(1, NOW, H);
    const r = intake(topic, Buffer.from(JSON.stringify(b)), ctx(NOW + 40));
    expect(r.kind).toBe('metrics');
    if (r.kind !== 'metrics') return;
    const correction = H - 40;
    expect(timesOf(r.lines)).toEqual([NOW - 2 * S + 40, NOW - 2 * S + 40, NOW - S + 40]);
    for (const line of r.lines.trim().split('\n'))
      expect(line).toContain(`clock_offset_s=${correction / 1000}`);
    expect(r.batch.t).toBe(NOW - S + 40);
    expect(r.batch.samples.map((s) => s.t)).toEqual([NOW - 2 * S + 40, NOW - 2 * S + 40]);
    expect(r.clock.correctMs).toBe(correction);
  });

  it('stores boxes off by seconds or days, ahead or behind, at the right time (within transit)', () => {
    for (const ahead of [5 * S, 90 * S, H, 2 * D, 40 * D, -40 * D, -2 * D]) {
      const r = intake(topic, Buffer.from(JSON.stringify(batchFrom(1, NOW, ahead))), ctx(NOW));
      expect(r.kind, `${ahead / 1000} s`).toBe('metrics');
      if (r.kind === 'metrics') expect(r.batch.t, `${ahead / 1000} s`).toBe(NOW - S);
    }
    // Behind by seconds: once a few batches, two minutes apart, agree.
    const book = new ClockBook();
    let last: ReturnType<typeof intake> | undefined;
    for (let i = 0; i < 3; i++)
      last = intake(
        topic,
        Buffer.from(JSON.stringify(batchFrom(i, NOW + i * 60 * S, -30 * S))),
        ctx(NOW + i * 60 * S, book),
      );
    expect(last?.kind === 'metrics' && last.batch.t).toBe(NOW + 120 * S - S);
    expect(last?.kind === 'metrics' && last.lines).toContain('clock_offset_s=-30');
  });

  it('leaves a right clock untouched: no flag, times as sent', () => {
    const r = intake(topic, Buffer.from(JSON.stringify(batchFrom(1, NOW, 0))), ctx(NOW + 40));
    expect(r.kind === 'metrics' && r.lines).not.toContain('clock_offset_s');
    expect(r.kind === 'metrics' && r.batch.t).toBe(NOW - S);
  });

  it('accepts an older agent without sentAt (same protocol version) and still corrects a clock ahead', () => {
    const b = batchFrom(1, NOW, H, false);
    expect(b.sentAt).toBeUndefined();
    const r = intake(topic, Buffer.from(JSON.stringify(b)), ctx(NOW));
    expect(r.kind === 'metrics' && r.batch.t).toBe(NOW);
  });

  it('dead-letters only the absurd: before 2020 even after correction, or a sample after its own batch', () => {
    const old = makeBatch(UAI, 'box', 1, Date.UTC(2019, 5, 1), everySample(Date.UTC(2019, 5, 1)).slice(0, 1));
    const r = intake(topic, Buffer.from(JSON.stringify(old)), ctx(NOW));
    expect(r).toMatchObject({ kind: 'rejected', reason: 'clock_past' });
    const contradicting = makeBatch(UAI, 'box', 1, NOW, everySample(NOW + D).slice(0, 1));
    expect(intake(topic, Buffer.from(JSON.stringify(contradicting)), ctx(NOW))).toMatchObject({
      kind: 'rejected',
      reason: 'clock_future',
    });
  });

  it('measures the clock from a fresh birth, so a box booting 1 h ahead is not refused before its first batch', () => {
    const book = new ClockBook();
    const birth = {
      v: 1,
      uai: UAI,
      agent: 'box',
      state: 'online',
      t: NOW + H,
      startedAt: NOW + H - 5 * S,
      reason: 'birth',
    };
    const r = intake(`vigie/v1/${UAI}/box/status`, Buffer.from(JSON.stringify(birth)), ctx(NOW, book));
    expect(r.kind).toBe('status');
    expect(book.get(UAI, 'box').correctMs).toBe(H);
    // A retained birth is as old as its connection: not a measure of the send time, only proof of a
    // clock at least that far ahead. Issue 14: it was refused (clock_future) and the school paged
    // offline while connected; now it is accepted and corrected by what it proves.
    const alone = new ClockBook();
    const retained = intake(`vigie/v1/${UAI}/box/status`, Buffer.from(JSON.stringify(birth)), {
      ...ctx(NOW, alone),
      retained: true,
    });
    expect(retained.kind).toBe('status');
    expect(alone.get(UAI, 'box').correctMs).toBe(H);
  });

  it('does not refuse the events and status of a box whose batches measured it ahead', () => {
    const book = new ClockBook();
    intake(topic, Buffer.from(JSON.stringify(batchFrom(1, NOW, H))), ctx(NOW, book));
    const event = { v: 1, uai: UAI, agent: 'box', t: NOW + H, kind: 'started', message: 'hello' };
    const ev = intake(`vigie/v1/${UAI}/box/events`, Buffer.from(JSON.stringify(event)), ctx(NOW, book));
    expect(ev.kind === 'event' && ev.msg.t).toBe(NOW);
    const birth = { v: 1, uai: UAI, agent: 'box', state: 'online', t: NOW + H, reason: 'birth' };
    expect(
      intake(`vigie/v1/${UAI}/box/status`, Buffer.from(JSON.stringify(birth)), ctx(NOW, book)).kind,
    ).toBe('status');
  });
});
