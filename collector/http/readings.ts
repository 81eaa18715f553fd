// The latest live measurements of each school, for the API and the board: latency and loss to the
// internet anchors, WAN throughput, last speed test, agent version. Fed as a CollectorObserver.
// Spool replays after an outage carry older samples: a figure only moves forward in time, and a round
// measured before the agent's latest birth (the outage itself, replayed) is never shown as current.
import type { MetricsBatch, PingSample, Sample, StatusMessage, WanSample } from '../../shared/schemas.ts';
import type { CollectorObserver } from '../observer.ts';
import type { ReadingsSource, SchoolReading } from './deps.ts';

interface Slot extends SchoolReading {
  pingT: number;
  wanT: number;
  versionT: number;
  /** Per agent, its latest birth (agent clock): what it measured before comes from its spool. */
  bornT: Readonly<Record<string, number>>;
}

const empty = (): Slot => ({
  lastSeenAt: null,
  readingAt: null,
  latencyMs: null,
  lossPct: null,
  wanInBps: null,
  wanOutBps: null,
  speedtestDownBps: null,
  speedtestUpBps: null,
  speedtestAt: null,
  agentVersion: null,
  pingT: 0,
  wanT: 0,
  versionT: 0,
  bornT: {},
});

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** The pings that say how the internet feels: anchors when the agent has them, else all but the gateway. */
function internetPings(samples: Sample[]): PingSample[] {
  const pings = samples.filter((s): s is PingSample => s.probe === 'ping');
  const anchors = pings.filter((p) => p.role === 'anchor');
  return anchors.length ? anchors : pings.filter((p) => p.role !== 'gateway');
}

/** Apply one batch to a school's slot; pure apart from the slot it returns. */
export function applyBatch(slot: Slot, batch: MetricsBatch, receivedAt: number): Slot {
  const next = { ...slot, lastSeenAt: Math.max(slot.lastSeenAt ?? 0, receivedAt) };
  const born = slot.bornT[batch.agent] ?? 0;
  const current = batch.samples.filter((s) => s.t >= born);
  const pings = internetPings(current);
  const pingT = Math.max(0, ...pings.map((p) => p.t));
  if (pings.length && pingT >= next.pingT) {
    const answered = pings.filter((p) => p.received > 0);
    next.latencyMs = mean(
      answered.map((p) => p.medianMs ?? p.avgMs).filter((v): v is number => typeof v === 'number'),
    );
    next.lossPct = mean(pings.map((p) => p.lossPct));
    next.pingT = pingT;
    next.readingAt = receivedAt;
  }
  const wans = current.filter((s): s is WanSample => s.probe === 'wan' && !s.counterReset);
  // The router's counters see every device of the school; the box's only itself and what crosses it.
  const chosen = wans.some((w) => w.source === 'snmp') ? wans.filter((w) => w.source === 'snmp') : wans;
  const wanT = Math.max(0, ...chosen.map((w) => w.t));
  if (chosen.length && wanT >= next.wanT) {
    next.wanInBps = chosen.reduce((a, w) => a + w.inBps, 0);
    next.wanOutBps = chosen.reduce((a, w) => a + w.outBps, 0);
    next.wanT = wanT;
    next.readingAt = receivedAt;
  }
  for (const s of batch.samples) {
    if (s.probe === 'speedtest' && s.ok && s.t >= (next.speedtestAt ?? 0)) {
      next.speedtestDownBps = s.downBps ?? null;
      next.speedtestUpBps = s.upBps ?? null;
      next.speedtestAt = s.t;
    } else if (s.probe === 'self' && s.t >= next.versionT) {
      next.agentVersion = s.version;
      next.versionT = s.t;
    }
  }
  return next;
}

export class SchoolReadings implements ReadingsSource, CollectorObserver {
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(uai: string) => void>();
  /** Schools not tracked because maxSchools was reached. */
  refused = 0;

  constructor(private readonly maxSchools = 100_000) {}

  reading(uai: string): SchoolReading | undefined {
    const s = this.slots.get(uai);
    if (!s) return undefined;
    const { pingT: _p, wanT: _w, versionT: _v, bornT: _b, ...reading } = s;
    return reading;
  }

  uais(): Iterable<string> {
    return this.slots.keys();
  }

  onChange(listener: (uai: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onMetrics(batch: MetricsBatch, info: { receivedAt: number }): void {
    const slot = this.slot(batch.uai);
    if (!slot) return;
    this.slots.set(batch.uai, applyBatch(slot, batch, info.receivedAt));
    this.emit(batch.uai);
  }

  onStatus(msg: StatusMessage, info: { retained: boolean; receivedAt: number }): void {
    const slot = this.slot(msg.uai);
    if (!slot) return;
    const next = { ...slot };
    if (!info.retained && msg.state === 'online') {
      next.lastSeenAt = Math.max(slot.lastSeenAt ?? 0, info.receivedAt);
      next.bornT = { ...slot.bornT, [msg.agent]: msg.t };
    }
    if (msg.version && msg.t >= slot.versionT) {
      next.agentVersion = msg.version;
      next.versionT = msg.t;
    }
    this.slots.set(msg.uai, next);
    this.emit(msg.uai);
  }

  private slot(uai: string): Slot | undefined {
    const s = this.slots.get(uai);
    if (s) return s;
    if (this.slots.size >= this.maxSchools) {
      this.refused++;
      return undefined;
    }
    return empty();
  }

  private emit(uai: string): void {
    for (const l of this.listeners) {
      try {
        l(uai);
      } catch {
        // A listener's failure must not reach the ingest path.
      }
    }
  }
}
