// The speed test at default settings on a fast link (loopback): the agent's probe, its config
// resolved with nothing but the URL and token, against the real collector's /speedtest with nothing
// but the secret. Both ends once had their own cap (agent 200 MiB, collector 100 MiB): the upload
// got 413 and the download's figure was thrown away with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { SpeedtestProbe } from '../../agent/probes/speedtest.ts';
import { speedtestToken } from '../../collector/http/auth.ts';
import { createLogger } from '../../shared/log.ts';
import { SPEEDTEST_MAX_BYTES } from '../../shared/speedtest-limits.ts';
import { uaiCheckLetter } from '../../shared/uai.ts';
import { type CollectorProcess, collectorProcess } from '../harness/collector.ts';
import { freePort, waitFor } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

const SECRET = 'speedtest-secret-for-defaults';
const UAI = `0691006${uaiCheckLetter('0691006')}`;

let influx: InfluxHandle;
const collectors: { proc: CollectorProcess; port: number }[] = [];

async function collectorWith(speedtest: Record<string, unknown>): Promise<string> {
  const port = await freePort();
  const proc = collectorProcess({
    influxUrl: influx.url,
    database: `speedtest_defaults_${collectors.length}`,
    extra: { http: { enabled: true, host: '127.0.0.1', port, speedtest: { secret: SECRET, ...speedtest } } },
  });
  collectors.push({ proc, port });
  await proc.daemon.start();
  await waitFor(
    'the collector HTTP server',
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
  );
  return `http://127.0.0.1:${port}/speedtest`;
}

function probeFor(url: string): SpeedtestProbe {
  const cfg = resolveProbesConfig({ speedtest: { url, token: speedtestToken(SECRET, UAI) } });
  return new SpeedtestProbe(cfg.speedtest, { ignoreSchedule: true });
}

const ctx = () => ({
  signal: new AbortController().signal,
  now: () => Date.now(),
  log: createLogger('speedtest', 'silent'),
});

beforeAll(async () => {
  influx = await startInfluxdb();
}, 60_000);

afterAll(async () => {
  for (const c of collectors) await c.proc.daemon.dispose();
  await influx?.daemon.dispose();
});

describe('speed test at default settings on a fast link', () => {
  it('measures both directions: the agent stops its upload at the limit the collector announced', async () => {
    const probe = probeFor(await collectorWith({}));
    expect(probe.config.maxBytes).toBe(SPEEDTEST_MAX_BYTES);
    const sample = await probe.measure(ctx());
    expect(sample.ok, JSON.stringify(sample)).toBe(true);
    expect(sample.downBps).toBeGreaterThan(0);
    expect(sample.upBps).toBeGreaterThan(0);
    expect(sample.upBytes).toBeLessThanOrEqual(SPEEDTEST_MAX_BYTES);
    expect(sample.downBytes).toBeLessThanOrEqual(SPEEDTEST_MAX_BYTES);
  }, 90_000);

  it('an agent configured above a smaller server limit stops at the server limit', async () => {
    const url = await collectorWith({ maxBytes: 4 * 1024 * 1024 });
    const sample = await probeFor(url).measure(ctx());
    expect(sample.ok, JSON.stringify(sample)).toBe(true);
    expect(sample.upBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
  }, 90_000);

  it('a refused upload keeps the download figure', async () => {
    // One request per school per window: the download takes it, the upload gets 429.
    const sample = await probeFor(await collectorWith({ perSchoolMax: 1 })).measure(ctx());
    expect(sample.ok).toBe(false);
    // 429 before the body is read: the server closes, the client may see the status or EPIPE.
    expect(sample.error).toMatch(/^(HTTP_429|EPIPE|ECONNRESET)$/);
    expect(sample.downBps, JSON.stringify(sample)).toBeGreaterThan(0);
    expect(sample.upBps).toBeUndefined();
  }, 90_000);
});
