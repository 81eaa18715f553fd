// The probes' public API for the agent runtime. Stable: the runtime imports exactly this.
//
//   import { ProbesConfig, createProbes } from './probes/index.ts';
//   // agent/config.ts:  probes: ProbesConfig            (every key defaulted; `probes: {}` is valid)
//   const probes = createProbes(config.probes, {
//     log, version, spoolStats: () => ({ bytes, batches, dropped }),
//     contractedMbps: { down: 100, up: 20 },   // optional: % of contract in wan samples, speedtest busy check
//     now: () => Date.now(),                    // optional
//   });
//   for (const p of probes) schedule(p.probe.run, every p.intervalMs ± p.jitter × intervalMs, cut at p.timeoutMs);
//   on stop: await Promise.all(probes.map((p) => p.probe.close?.()));
//
// Disabled probes are left out. Each probe returns [] when it has nothing to say this round (the wan
// probe's first reading, a speedtest outside school hours); a failed measurement is a sample, never a throw.
import type { Logger } from '../../shared/log.ts';
import { PROBE_KINDS, type ProbeKind } from '../../shared/schemas.ts';
import type { ScheduledProbe } from '../scheduler.ts';
import type { ProbesConfig } from './config.ts';
import type { Probe } from './contract.ts';
import { DnsProbe } from './dns.ts';
import { HttpProbe } from './http.ts';
import { PingProbe } from './ping.ts';
import { SelfProbe, type SpoolStats } from './self.ts';
import { SpeedtestProbe } from './speedtest.ts';
import { type ContractedMbps, LinkLoad, WanProbe } from './wan.ts';
import { WifiProbe } from './wifi.ts';

export { ProbesConfig, resolveProbesConfig } from './config.ts';
export type { Probe, ProbeContext } from './contract.ts';
export type { SpoolStats } from './self.ts';
export type { ContractedMbps } from './wan.ts';

export interface ProbeDeps {
  log: Logger;
  /** Agent version, written by the self probe. */
  version: string;
  /** The spool's current size and drop count, for the self probe. */
  spoolStats: () => SpoolStats;
  /** Contracted bandwidth of the school's access, Mbit/s. */
  contractedMbps?: ContractedMbps | undefined;
  /** Agent clock, ms since epoch (default Date.now); the runtime also passes it in each ProbeContext. */
  now?: () => number;
  /** `--once`: run the speed test now whatever its schedule says (it still needs a url). */
  ignoreSpeedtestSchedule?: boolean;
}

/** The enabled probes, each named by its kind, as the scheduler runs them. */
export function createProbes(
  config: ProbesConfig,
  deps: ProbeDeps,
): (ScheduledProbe & { kind: ProbeKind })[] {
  const linkLoad = new LinkLoad();
  // One factory per kind (shared/schemas.ts): a kind without its factory fails to compile.
  const factories: { [K in ProbeKind]: () => Probe } = {
    ping: () => new PingProbe(config.ping),
    dns: () => new DnsProbe(config.dns),
    http: () => new HttpProbe(config.http),
    // The wan probe feeds the speedtest's "link busy" check even when only the speedtest reads it.
    wan: () => new WanProbe(config.wan, { contractedMbps: deps.contractedMbps, linkLoad }),
    wifi: () => new WifiProbe(config.wifi),
    speedtest: () =>
      new SpeedtestProbe(config.speedtest, {
        linkLoad,
        wanIntervalS: config.wan.intervalS,
        ignoreSchedule: deps.ignoreSpeedtestSchedule ?? false,
      }),
    self: () => new SelfProbe(config.self, { version: deps.version, spoolStats: deps.spoolStats }),
  };
  return PROBE_KINDS.filter((kind) => config[kind].enabled).map((kind) => {
    const section = config[kind];
    const probe = factories[kind]();
    return {
      name: probe.kind,
      kind: probe.kind,
      probe,
      intervalMs: section.intervalS * 1000,
      timeoutMs: section.timeoutS * 1000,
      jitter: section.jitter,
    };
  });
}
