// The agent process itself: version, uptime, memory, CPU, and the spool's size and drops.
import type { SelfSample } from '../../shared/schemas.ts';
import type { SelfConfig } from './config.ts';
import type { Probe, ProbeContext } from './contract.ts';

export interface SpoolStats {
  bytes: number;
  batches: number;
  dropped: number;
}

/** CPU % of one core between two process.cpuUsage() readings taken wallMs apart. */
export function cpuPercent(userSysMicros: number, wallMs: number): number {
  if (wallMs <= 0) return 0;
  return Math.round((userSysMicros / 1000 / wallMs) * 100_000) / 1000;
}

export class SelfProbe implements Probe<SelfConfig> {
  readonly kind = 'self' as const;
  private lastCpu = process.cpuUsage();
  private lastWall = performance.now();

  constructor(
    readonly config: SelfConfig,
    private readonly deps: { version: string; spoolStats: () => SpoolStats },
  ) {}

  async run(ctx: ProbeContext): Promise<SelfSample[]> {
    const cpu = process.cpuUsage(this.lastCpu);
    const wall = performance.now();
    const cpuPct = cpuPercent(cpu.user + cpu.system, wall - this.lastWall);
    this.lastCpu = process.cpuUsage();
    this.lastWall = wall;
    const spool = this.deps.spoolStats();
    return [
      {
        probe: 'self',
        t: ctx.now(),
        version: this.deps.version.slice(0, 64) || 'unknown',
        uptimeS: Math.round(process.uptime() * 1000) / 1000,
        rssBytes: process.memoryUsage.rss(),
        cpuPct,
        spoolBytes: Math.max(0, Math.trunc(spool.bytes)),
        spoolBatches: Math.max(0, Math.trunc(spool.batches)),
        spoolDropped: Math.max(0, Math.trunc(spool.dropped)),
      },
    ];
  }
}
