import { describe, expect, it } from 'vitest';
import { bucketFor } from '../../collector/http/history.ts';
import { inScope, MuteWindows } from '../../collector/http/mute-windows.ts';
import { SchoolReadings } from '../../collector/http/readings.ts';
import { countByState, schoolView } from '../../collector/http/school-view.ts';
import type { MetricsBatch, Sample } from '../../shared/schemas.ts';
import { StatusPresence } from '../harness/status-presence.ts';

const UAI = '0690001B';
const batch = (seq: number, t: number, samples: Sample[]): MetricsBatch => ({
  v: 1,
  uai: UAI,
  agent: 'box',
  seq,
  t,
  samples,
});
const ping = (t: number, role: 'anchor' | 'gateway' | undefined, medianMs: number, lossPct = 0): Sample => ({
  probe: 'ping',
  t,
  target: `${role}-${medianMs}`,
  ...(role ? { role } : {}),
  sent: 10,
  received: 10 - lossPct / 10,
  lossPct,
  medianMs,
});

describe('latest readings of a school', () => {
  it('takes latency and loss from the internet anchors, not the gateway', () => {
    const r = new SchoolReadings();
    r.onMetrics(
      batch(1, 1000, [ping(1000, 'anchor', 10), ping(1000, 'anchor', 20, 20), ping(1000, 'gateway', 1)]),
      {
        receivedAt: 5000,
      },
    );
    expect(r.reading(UAI)).toMatchObject({ latencyMs: 15, lossPct: 10, lastSeenAt: 5000 });
  });

  it('falls back to every non-gateway ping when the agent has no anchors', () => {
    const r = new SchoolReadings();
    r.onMetrics(batch(1, 1000, [ping(1000, undefined, 30), ping(1000, 'gateway', 1)]), { receivedAt: 1 });
    expect(r.reading(UAI)?.latencyMs).toBe(30);
  });

  it('keeps the newest figures when a spool replay brings older samples', () => {
    const r = new SchoolReadings();
    r.onMetrics(batch(5, 9000, [ping(9000, 'anchor', 12)]), { receivedAt: 9100 });
    r.onMetrics(batch(2, 3000, [ping(3000, 'anchor', 400, 100)]), { receivedAt: 9200 });
    expect(r.reading(UAI)).toMatchObject({ latencyMs: 12, lossPct: 0, lastSeenAt: 9200 });
  });

  it('prefers the router counters, sums interfaces, skips counter resets; keeps speed tests and version', () => {
    const r = new SchoolReadings();
    r.onMetrics(
      batch(1, 1000, [
        { probe: 'wan', t: 1000, source: 'box', iface: 'eth0', inBps: 1, outBps: 1 },
        { probe: 'wan', t: 1000, source: 'snmp', iface: 'wan0', inBps: 10e6, outBps: 1e6 },
        { probe: 'wan', t: 1000, source: 'snmp', iface: 'wan1', inBps: 5e6, outBps: 2e6 },
        { probe: 'speedtest', t: 1000, target: 'c', ok: true, downBps: 90e6, upBps: 18e6 },
        {
          probe: 'self',
          t: 1000,
          version: '2.0.0',
          uptimeS: 1,
          rssBytes: 1,
          cpuPct: 1,
          spoolBytes: 0,
          spoolBatches: 0,
          spoolDropped: 0,
        },
      ]),
      { receivedAt: 1 },
    );
    r.onMetrics(
      batch(2, 2000, [
        { probe: 'wan', t: 2000, source: 'snmp', iface: 'wan0', inBps: 0, outBps: 0, counterReset: true },
        { probe: 'speedtest', t: 2000, target: 'c', ok: false, error: 'ETIMEDOUT' },
      ]),
      { receivedAt: 2 },
    );
    expect(r.reading(UAI)).toMatchObject({
      wanInBps: 15e6,
      wanOutBps: 3e6,
      speedtestDownBps: 90e6,
      speedtestUpBps: 18e6,
      speedtestAt: 1000,
      agentVersion: '2.0.0',
    });
  });

  it('never shows the rounds an agent replays after coming back as current, and says when figures came', () => {
    const r = new SchoolReadings();
    const wan = (t: number, inBps: number): Sample => ({
      probe: 'wan',
      t,
      source: 'snmp',
      iface: 'wan0',
      inBps,
      outBps: 1e6,
    });
    // Before the outage: all good, received at 1 100 (collector clock).
    r.onMetrics(batch(1, 1000, [ping(1000, 'anchor', 12), wan(1000, 8e6)]), { receivedAt: 1100 });
    // The WAN was cut from 2 000 to 5 000: the box measured loss 100 % and spooled it. Back at 5 000,
    // its birth comes first, then the spool: those rounds are newer than 1 000 but describe the outage.
    r.onStatus(
      { v: 1, uai: UAI, agent: 'box', state: 'online', t: 5000 },
      { retained: false, receivedAt: 5100 },
    );
    r.onMetrics(batch(2, 3000, [ping(3000, 'anchor', 0, 100), wan(3000, 0)]), { receivedAt: 5200 });
    expect(r.reading(UAI)).toMatchObject({
      lossPct: 0,
      latencyMs: 12,
      wanInBps: 8e6,
      readingAt: 1100,
      lastSeenAt: 5200,
    });
    // The first round measured since the birth is current again.
    r.onMetrics(batch(3, 5060, [ping(5060, 'anchor', 14), wan(5060, 9e6)]), { receivedAt: 5170 + 60 });
    expect(r.reading(UAI)).toMatchObject({ lossPct: 0, latencyMs: 14, wanInBps: 9e6, readingAt: 5230 });
    // Another agent's birth says nothing about this agent's rounds.
    r.onStatus(
      { v: 1, uai: UAI, agent: 'spare', state: 'online', t: 9000 },
      { retained: false, receivedAt: 9100 },
    );
    r.onMetrics(batch(4, 6000, [ping(6000, 'anchor', 20, 10)]), { receivedAt: 9200 });
    expect(r.reading(UAI)).toMatchObject({ lossPct: 10, readingAt: 9200 });
    expect(schoolView(UAI, undefined, undefined, r.reading(UAI), undefined, 0).readingAt).toBe(9200);
  });

  it('stops tracking new schools at its bound and counts them', () => {
    const r = new SchoolReadings(1);
    r.onMetrics(batch(1, 1, [ping(1, 'anchor', 1)]), { receivedAt: 1 });
    r.onMetrics({ ...batch(1, 1, [ping(1, 'anchor', 1)]), uai: '0690002C' }, { receivedAt: 1 });
    expect([...r.uais()]).toEqual([UAI]);
    expect(r.refused).toBe(1);
  });
});

describe('presence from status messages', () => {
  it('follows birth and will, a school as present as its best agent', () => {
    const p = new StatusPresence();
    const changes: string[] = [];
    p.onChange((u) => changes.push(u));
    const status = (agent: string, state: 'online' | 'offline', t: number) =>
      p.onStatus({ v: 1, uai: UAI, agent, state, t }, { retained: false, receivedAt: t });
    status('a', 'online', 100);
    status('b', 'online', 200);
    status('a', 'offline', 300);
    expect(p.school(UAI)).toMatchObject({ state: 'online', since: 100 });
    status('b', 'offline', 400);
    expect(p.school(UAI)).toMatchObject({ state: 'offline', since: 400, reason: 'will' });
    expect(changes.length).toBe(4);
  });
});

describe('school view', () => {
  it('shows a school never heard of as unknown since the collector started', () => {
    const v = schoolView(UAI, undefined, undefined, undefined, 'http://g/d?uai={uai}&x={uai}', 42);
    expect(v).toMatchObject({ state: 'unknown', since: 42, name: UAI, inRegistry: false, lastSeenAt: null });
    expect(v.dashboardUrl).toBe(`http://g/d?uai=${UAI}&x=${UAI}`);
    expect(countByState([v])).toEqual({ online: 0, degraded: 0, offline: 0, unknown: 1 });
  });
});

describe('history buckets', () => {
  it('keeps series in the hundreds of points', () => {
    expect(bucketFor(3_600_000)).toBe('1m');
    expect(bucketFor(24 * 3_600_000)).toBe('5m');
    expect(bucketFor(7 * 24 * 3_600_000)).toBe('30m');
    expect(bucketFor(31 * 24 * 3_600_000)).toBe('2h');
  });
});

describe('silences and maintenance windows', () => {
  const school = { uai: UAI, commune: 'Vienne', isp: 'Orange' };

  it('matches by scope, kind and time; maintenance wins over a silence', async () => {
    let now = 1000;
    const w = new MuteWindows({ max: 10, now: () => now });
    const base = { comment: 'c', createdBy: 'noc', startsAt: 500, endsAt: 2000 };
    await w.silences.create({ ...base, scope: { commune: ['Vienne'] }, kinds: ['loss'] });
    expect(w.muted({ kind: 'loss', uai: UAI }, school, now)).toBe('silenced');
    expect(w.muted({ kind: 'school_offline', uai: UAI }, school, now)).toBeNull();
    expect(w.muted({ kind: 'loss', uai: UAI }, { ...school, commune: 'Lyon' }, now)).toBeNull();
    const m = await w.maintenance.create({ ...base, scope: { uai: [UAI] } });
    expect(w.muted({ kind: 'loss', uai: UAI }, school, now)).toBe('maintenance');
    now = 2000;
    expect(w.muted({ kind: 'loss', uai: UAI }, school, now)).toBeNull();
    expect(await w.maintenance.remove(m.id)).toBe(true);
    expect(await w.maintenance.remove(m.id)).toBe(false);
  });

  it('refuses past its bound and drops windows ended over a week ago', async () => {
    let now = 0;
    const w = new MuteWindows({ max: 1, now: () => now });
    await w.silences.create({ comment: 'c', createdBy: 'n', startsAt: 0, endsAt: 10, scope: {}, kinds: [] });
    expect(() =>
      w.silences.create({ comment: 'c', createdBy: 'n', startsAt: 0, endsAt: 10, scope: {}, kinds: [] }),
    ).toThrow(/at most 1/);
    now = 8 * 86_400_000;
    expect(w.silences.list()).toEqual([]);
  });

  it('an empty scope is every school', () => {
    expect(inScope({}, school)).toBe(true);
    expect(inScope({ isp: ['Free'] }, school)).toBe(false);
  });
});
