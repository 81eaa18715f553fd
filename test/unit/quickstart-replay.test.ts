// `vigie replay`'s pure parts: a line's timestamp and the retention policy's duration as InfluxDB shows it.
import { describe, expect, it } from 'vitest';
import type { QueryResult } from '../../collector/influx-http.ts';
import { policyDurationMs, timestampMs } from '../../collector/replay.ts';

const policies = (rows: unknown[][]): { query: () => Promise<QueryResult> } => ({
  query: async () => ({
    results: [
      {
        statement_id: 0,
        series: [
          {
            name: 'policies',
            columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'],
            values: rows,
          },
        ],
      },
    ],
  }),
});

describe('replay', () => {
  it("reads a line's millisecond timestamp, or none", () => {
    expect(timestampMs('ping,uai=0690001B loss_pct=0 1795930754309')).toBe(1795930754309);
    expect(timestampMs('http,uai=0690001B,target=a\\ b error="no route to host" 17')).toBe(17);
    expect(timestampMs('ping,uai=0690001B loss_pct=0')).toBe(Number.POSITIVE_INFINITY);
  });

  it("reads the policy's duration, INF as none", async () => {
    const p = policies([
      ['raw', '2160h0m0s', '24h0m0s', 1, true],
      ['long', '0s', '8736h0m0s', 1, false],
      ['odd', '1h30m15s', '1h0m0s', 1, false],
    ]);
    expect(await policyDurationMs(p, 'vigie', 'raw')).toBe(90 * 86_400_000);
    expect(await policyDurationMs(p, 'vigie', 'long')).toBeNull();
    expect(await policyDurationMs(p, 'vigie', 'odd')).toBe((90 * 60 + 15) * 1000);
    expect(await policyDurationMs(p, 'vigie', 'missing')).toBeNull();
  });
});
