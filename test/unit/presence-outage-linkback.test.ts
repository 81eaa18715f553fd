// A WAN cut stays a WAN cut when the link came back before the agent reconnected: the rounds
// measured in that gap (anchors answering again) are after the last round that saw the cut.
import { describe, expect, it } from 'vitest';
import { addBatch, classify, openPending } from '../../collector/presence/outage.ts';
import type { Sample } from '../../shared/schemas.ts';

const S = 1000;
const T0 = 1_780_000_000_000;
const ping = (t: number, role: 'gateway' | 'anchor', ok: boolean): Sample =>
  ok
    ? { probe: 'ping', t, target: role, role, sent: 10, received: 10, lossPct: 0, medianMs: 12 }
    : { probe: 'ping', t, target: role, role, sent: 10, received: 0, lossPct: 100 };
const round = (t: number, anchor: boolean) => [ping(t, 'gateway', true), ping(t, 'anchor', anchor)];

function outageWith(rounds: [number, boolean][], order: 'in' | 'reversed' = 'in') {
  let p = openPending('0693001X', T0, T0 + 120 * S, [{ agent: 'box', seqBefore: 0, lagMs: 0 }], 60 * S);
  const batches = rounds.map(([at, anchor], i) => ({
    seq: i + 1,
    t: T0 + at * S,
    samples: round(T0 + at * S, anchor),
  }));
  for (const b of order === 'in' ? batches : [...batches].reverse()) p = addBatch(p, 'box', b);
  return classify(p.evidence);
}

describe('outage cause when the link came back before the agent reconnected', () => {
  it('five cut rounds then one where the anchor answers: wan_cut, whatever the replay order', () => {
    const rounds: [number, boolean][] = [
      [10, false],
      [30, false],
      [50, false],
      [70, false],
      [90, false],
      [110, true],
    ];
    expect(outageWith(rounds)).toBe('wan_cut');
    expect(outageWith(rounds, 'reversed')).toBe('wan_cut');
  });

  it('an anchor that answered while the link was still seen cut afterwards: unknown', () => {
    expect(
      outageWith([
        [10, false],
        [30, true],
        [50, false],
        [70, false],
      ]),
    ).toBe('unknown');
    expect(
      outageWith(
        [
          [10, true],
          [30, false],
        ],
        'reversed',
      ),
    ).toBe('unknown');
  });
});
