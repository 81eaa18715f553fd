// The arithmetic of a ping round: how many pings at once so that silent targets fit in the timeout,
// the command line (as the `ping` package built it), and the config warning when they cannot fit.
import { describe, expect, it } from 'vitest';
import { pingRoundWarnings } from '../../agent/config-file.ts';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { DNS_PARALLEL_MAX } from '../../agent/probes/dns.ts';
import { HTTP_PARALLEL_MAX } from '../../agent/probes/http.ts';
import {
  PING_PARALLEL_MAX,
  pingArgs,
  pingDeadlineS,
  ROUND_BUDGET,
  roundParallelism,
  worstRoundS,
} from '../../agent/probes/ping.ts';
import { parallelToFit } from '../../agent/probes/util.ts';

const ping = (raw: Record<string, unknown> = {}) => resolveProbesConfig({ ping: raw }).ping;
const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ host: `192.0.2.${i + 1}` }));

describe('ping round limits', () => {
  it('a silent target runs to the deadline: 10 echoes 500 ms apart + 2 s = 7 s by default', () => {
    expect(pingDeadlineS(ping())).toBe(7);
    expect(pingDeadlineS(ping({ count: 15, echoIntervalMs: 300, echoTimeoutS: 1 }))).toBe(6);
  });

  it('the 64 targets the config allows fit the default 30 s timeout, with headroom', () => {
    // The old fixed 4 at a time: 16 waves × 7 s = 112 s, the round abandoned at 30.5 s.
    const cfg = ping();
    expect(roundParallelism(64, cfg)).toBe(32);
    expect(worstRoundS(64, cfg)).toBe(14);
    expect(roundParallelism(40, cfg)).toBe(20);
    for (let n = 1; n <= 64; n++)
      expect(worstRoundS(n, cfg)).toBeLessThanOrEqual(cfg.timeoutS * ROUND_BUDGET);
  });

  it('keeps the configured concurrency as a floor, never goes past the targets or the cap', () => {
    expect(roundParallelism(3, ping())).toBe(3);
    expect(roundParallelism(12, ping({ concurrency: 8 }))).toBe(8);
    expect(roundParallelism(0, ping())).toBe(1);
    // A timeout shorter than one deadline: everything at once, up to the cap.
    expect(roundParallelism(64, ping({ timeoutS: 5 }))).toBe(PING_PARALLEL_MAX);
    expect(roundParallelism(20, ping({ timeoutS: 5 }))).toBe(20);
  });

  it('builds the command line the ping package did, with -- before the host', () => {
    expect(pingArgs('192.0.2.1', ping())).toEqual([
      ...['-n', '-W', '2', '-w', '7', '-c', '10', '-i', '0.5', '--', '192.0.2.1'],
    ]);
  });
});

describe('parallelToFit (dns and http rounds, same arithmetic)', () => {
  it('fits 20 queries to a silent resolver in one 5 s wave of the default 15 s dns round', () => {
    const dns = { floor: 4, cap: DNS_PARALLEL_MAX, itemWorstS: 5, timeoutS: 15 };
    expect(parallelToFit(20, dns)).toBe(20);
    expect(parallelToFit(64, dns)).toBe(DNS_PARALLEL_MAX);
    expect(parallelToFit(2, dns)).toBe(2);
  });

  it('fits silent web services in one 15 s wave of the default 30 s http round, 16 at most', () => {
    const http = { floor: 4, cap: HTTP_PARALLEL_MAX, itemWorstS: 15, timeoutS: 30 };
    expect(parallelToFit(13, http)).toBe(13);
    expect(parallelToFit(64, http)).toBe(16);
  });
});

describe('pingRoundWarnings (config check)', () => {
  const agent = (raw: Record<string, unknown>) => ({ probes: resolveProbesConfig({ ping: raw }) }) as never;

  it('says nothing when every target fits, or when the probe is off', () => {
    expect(pingRoundWarnings(agent({ targets: targets(64) }))).toEqual([]);
    expect(pingRoundWarnings(agent({ enabled: false, targets: targets(64), timeoutS: 5 }))).toEqual([]);
  });

  it('names the key, the worst round and the timeout, in English and French, when they cannot', () => {
    // 100 echoes 1 s apart + 2 s: 102 s per silent target, one wave of 32 at most in 60 s.
    const [w, ...rest] = pingRoundWarnings(
      agent({ targets: targets(40), count: 100, echoIntervalMs: 1000, timeoutS: 60 }),
    );
    expect(rest).toEqual([]);
    expect(w).toMatch(
      /^agent\.probes\.ping: with its 40 targets silent, a round would last 204 s, past timeoutS 60/,
    );
    expect(w).toMatch(/les cibles coupées n’ont pas de mesure/);
  });
});
