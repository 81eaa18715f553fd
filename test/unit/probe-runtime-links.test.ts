// How probes feed each other and the runtime: the wan probe's load gates the speed test, the
// contract turns rates into %, the self probe reports the process and the spool.
import { describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { cpuPercent, SelfProbe } from '../../agent/probes/self.ts';
import { SpeedtestProbe } from '../../agent/probes/speedtest.ts';
import { errorCode } from '../../agent/probes/util.ts';
import { LinkLoad, withContract } from '../../agent/probes/wan.ts';
import { createLogger } from '../../shared/log.ts';
import { freePort } from '../harness/daemon.ts';

const log = createLogger('probe-test', 'silent');
const ctxAt = (t: number) => ({ signal: new AbortController().signal, now: () => t, log });
const wan = (t: number, inBps: number, outBps: number) =>
  withContract({ probe: 'wan', t, source: 'box', iface: 'eth0', inBps, outBps }, { down: 100, up: 20 });

describe('contract and link load', () => {
  it('expresses rates as % of the contract each way', () => {
    expect(wan(0, 50e6, 5e6)).toMatchObject({ inPct: 50, outPct: 25 });
    expect(
      withContract({ probe: 'wan', t: 0, source: 'box', iface: 'x', inBps: 1, outBps: 1 }, undefined),
    ).not.toHaveProperty('inPct');
  });

  it('keeps the latest load, forgets it when stale, ignores counter resets', () => {
    const load = new LinkLoad();
    expect(load.busiestPct(0, 60_000)).toBeUndefined();
    load.record(wan(1000, 10e6, 10e6));
    expect(load.busiestPct(2000, 60_000)).toBe(50);
    load.record({ ...wan(3000, 0, 0), counterReset: true });
    expect(load.busiestPct(4000, 60_000)).toBe(50);
    expect(load.busiestPct(100_000, 60_000)).toBeUndefined();
  });
});

describe('speed test gating in run()', () => {
  const always = { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59', timeZone: 'UTC' };
  const t = Date.parse('2026-11-26T12:00:00Z');

  it('skips on a busy link and runs (a sample, even a failed one) on an idle one', async () => {
    const port = await freePort(); // nothing listens: the test fails fast, as a sample
    const cfg = resolveProbesConfig({
      speedtest: { url: `http://127.0.0.1:${port}/speedtest`, schoolHours: always, minGapS: 0, maxPerDay: 2 },
    }).speedtest;
    const load = new LinkLoad();
    const probe = new SpeedtestProbe(cfg, { linkLoad: load, wanIntervalS: 30 });
    load.record(wan(t - 1000, 80e6, 1e6));
    expect(await probe.run(ctxAt(t))).toEqual([]);
    load.record(wan(t, 1e6, 1e6));
    const [s] = await probe.run(ctxAt(t + 1000));
    expect(s).toMatchObject({ probe: 'speedtest', ok: false, error: 'ECONNREFUSED' });
    await probe.run(ctxAt(t + 2000));
    // Failed tests count against the daily budget too: a broken endpoint is not hammered.
    expect(await probe.run(ctxAt(t + 3000))).toEqual([]);
  });

  it('writes nothing without a url, even with the schedule ignored', async () => {
    const cfg = resolveProbesConfig({}).speedtest;
    expect(await new SpeedtestProbe(cfg, { ignoreSchedule: true }).run(ctxAt(t))).toEqual([]);
  });
});

describe('self probe', () => {
  it('reports the process and the spool the runtime describes', async () => {
    const probe = new SelfProbe(resolveProbesConfig({}).self, {
      version: '1.2.3',
      spoolStats: () => ({ bytes: 4096, batches: 3, dropped: 1 }),
    });
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i; // some CPU to measure
    const [s] = await probe.run(ctxAt(5));
    expect(x).toBeGreaterThan(0);
    expect(s).toMatchObject({
      probe: 'self',
      t: 5,
      version: '1.2.3',
      spoolBytes: 4096,
      spoolBatches: 3,
      spoolDropped: 1,
    });
    expect(s!.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(s!.uptimeS).toBeGreaterThan(0);
    expect(s!.cpuPct).toBeGreaterThan(0);
  });

  it('computes CPU % of one core', () => {
    expect(cpuPercent(500_000, 1000)).toBe(50);
    expect(cpuPercent(2_000_000, 1000)).toBe(200); // two cores busy
    expect(cpuPercent(10, 0)).toBe(0);
  });

  it('names errors by code, by cause, then by name', () => {
    expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorCode(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toBe(
      'ECONNREFUSED',
    );
    expect(errorCode(new RangeError('x'))).toBe('RangeError');
    expect(errorCode(undefined)).toBe('ERROR');
  });
});
