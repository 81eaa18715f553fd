import { describe, expect, it } from 'vitest';
import {
  type ConnectionEnd,
  initialTakeoverState,
  judgeConnectionEnd,
  SESSION_TAKEN_OVER,
  TAKEOVER_CLOSES_IN_A_ROW,
  takeoverDelayMs,
} from '../../agent/takeover.ts';

const S = 1000;
const STABLE = 1800 * S;
const brokerClose: ConnectionEnd = { wasConnected: true, closedByBroker: true, upMs: 1100 };

function run(ends: ConnectionEnd[]) {
  let s = initialTakeoverState();
  return ends.map((e) => {
    const v = judgeConnectionEnd(s, e, STABLE);
    s = v.state;
    return v.takeover;
  });
}

describe('agent: recognising a takeover by another box with the same identity', () => {
  it('MQTT 5 reason 0x8E is a takeover at once', () => {
    const v = judgeConnectionEnd(
      initialTakeoverState(),
      { ...brokerClose, reasonCode: SESSION_TAKEN_OVER },
      STABLE,
    );
    expect(v).toMatchObject({ takeover: true, certain: true, state: { takeovers: 1 } });
  });

  it(`without it (Mosquitto 2.0.11, 3.1.1): ${TAKEOVER_CLOSES_IN_A_ROW} clean closes by the broker in a row`, () => {
    expect(run([brokerClose, brokerClose, brokerClose, brokerClose])).toEqual([false, false, true, true]);
  });

  it('a broker restart (one clean close, then refused attempts) is no takeover', () => {
    const refused: ConnectionEnd = { wasConnected: false, closedByBroker: false, upMs: 0 };
    expect(run([brokerClose, refused, refused, brokerClose, refused, brokerClose])).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('network faults (errors, keepalive timeouts) are no takeover and break the count', () => {
    const lost: ConnectionEnd = { wasConnected: true, closedByBroker: false, upMs: 50 * S };
    expect(run([brokerClose, brokerClose, lost, brokerClose, brokerClose])).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('within an episode every clean close counts (the twin holds the line for minutes between swaps)', () => {
    const long: ConnectionEnd = { ...brokerClose, upMs: 600 * S };
    expect(run([brokerClose, brokerClose, brokerClose, long, long])).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('a connection that lived longer than stableMs ends the episode', () => {
    const stable: ConnectionEnd = { ...brokerClose, upMs: STABLE };
    let s = initialTakeoverState();
    for (const e of [brokerClose, brokerClose, brokerClose]) s = judgeConnectionEnd(s, e, STABLE).state;
    expect(s.takeovers).toBe(1);
    const v = judgeConnectionEnd(s, stable, STABLE);
    expect(v).toMatchObject({ takeover: false, state: { takeovers: 0, closesInARow: 1 } });
  });
});

describe('agent: takeover backoff', () => {
  it('starts at min ±50 %, doubles, and never exceeds max', () => {
    expect(takeoverDelayMs(1, 60 * S, 900 * S, 0)).toBe(30 * S);
    expect(takeoverDelayMs(1, 60 * S, 900 * S, 0.999_999)).toBe(90 * S);
    expect(takeoverDelayMs(2, 60 * S, 900 * S, 0.5)).toBe(120 * S);
    for (const r of [0, 0.5, 0.999_999])
      expect(takeoverDelayMs(30, 60 * S, 900 * S, r)).toBeLessThanOrEqual(900 * S);
  });
});
