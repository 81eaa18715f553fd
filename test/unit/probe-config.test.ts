import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { certDaysLeft, statusOk } from '../../agent/probes/http.ts';
import { createProbes, ProbesConfig, resolveProbesConfig } from '../../agent/probes/index.ts';
import { parseDefaultRoute } from '../../agent/probes/route.ts';
import { apUp, radios } from '../../agent/probes/wifi.ts';
import { parseConfigText } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { PROBE_KINDS } from '../../shared/schemas.ts';

const deps = {
  log: createLogger('probe-test', 'silent'),
  version: '1.2.3',
  spoolStats: () => ({ bytes: 0, batches: 0, dropped: 0 }),
};

describe('ProbesConfig', () => {
  it('turns an empty section into a full default schedule', () => {
    const c = resolveProbesConfig({});
    expect(c.ping).toMatchObject({
      enabled: true,
      intervalS: 60,
      count: 10,
      targets: [{ host: 'gateway', role: 'gateway' }],
    });
    expect(c.wan.interfaces).toEqual(['default']);
    // No profile named: the speed test follows `school`, the alerts' default (speedtest-hours.test.ts).
    expect(c.speedtest).toMatchObject({ timezone: 'Europe/Paris', profiles: {}, calendars: {} });
    expect(c.speedtest.hours).toBeUndefined();
    expect(c.speedtest.schoolHours).toBeUndefined();
    const probes = createProbes(c, deps);
    expect(probes.map((p) => p.kind)).toEqual(PROBE_KINDS);
    for (const p of probes) {
      expect(p.timeoutMs).toBeLessThan(p.intervalMs);
      expect(p.jitter).toBe(0.1);
    }
  });

  it('gets the same defaults through the config file loader, as the runtime will', () => {
    const file = parseConfigText('agent.yaml', 'probes: {}\n', Type.Object({ probes: ProbesConfig }), {});
    expect(file.config.probes).toEqual(resolveProbesConfig({}));
  });

  it('leaves disabled probes out and keeps per-probe timing', () => {
    const c = resolveProbesConfig({
      http: { enabled: false },
      ping: { intervalS: 30, timeoutS: 20, jitter: 0 },
    });
    const probes = createProbes(c, deps);
    expect(probes.map((p) => p.kind)).not.toContain('http');
    expect(probes.find((p) => p.kind === 'ping')).toMatchObject({
      intervalMs: 30_000,
      timeoutMs: 20_000,
      jitter: 0,
    });
  });

  it('refuses bad values with the path', () => {
    expect(() => resolveProbesConfig({ ping: { count: 3 } })).toThrow(/probes\/ping\/count/);
    expect(() => resolveProbesConfig({ ping: { targets: [{ host: 'x', role: 'router' }] } })).toThrow(/role/);
    expect(() => resolveProbesConfig({ speedtest: { url: 'ftp://x' } })).toThrow(/url/);
    expect(() => resolveProbesConfig({ pign: {} })).toThrow(/additional/);
  });
});

describe('default route', () => {
  it('reads the lowest-metric default route from /proc/net/route', () => {
    const text = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
wlan0\t00000000\t0100A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t010012C6\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000012C6\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
`;
    expect(parseDefaultRoute(text)).toEqual({ iface: 'eth0', gateway: '198.18.0.1' });
  });

  it('is undefined without one', () => {
    expect(parseDefaultRoute('Iface\tDestination\n')).toBeUndefined();
  });
});

describe('http helpers', () => {
  it('counts certificate days left, negative once expired', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(certDaysLeft('Jan 31 00:00:00 2026 GMT', now)).toBe(30);
    expect(certDaysLeft('Dec 31 12:00:00 2025 GMT', now)).toBe(-0.5);
    expect(certDaysLeft('garbage', now)).toBeUndefined();
  });

  it('takes 2xx and 3xx as up unless told otherwise', () => {
    expect(statusOk(200)).toBe(true);
    expect(statusOk(302)).toBe(true);
    expect(statusOk(404)).toBe(false);
    expect(statusOk(401, [200, 401])).toBe(true);
  });
});

describe('what "up" means for an access point', () => {
  it('needs reachability', () => {
    expect(apUp({ reachable: false })).toBe(false);
    expect(apUp({ reachable: true })).toBe(true); // ping only: up on reachability
  });

  it('needs a radio up when radios are visible', () => {
    expect(apUp({ reachable: true, snmp: { radiosUp: 1, radiosTotal: 2 } })).toBe(true);
    expect(apUp({ reachable: true, snmp: { radiosUp: 0, radiosTotal: 2 } })).toBe(false);
    expect(apUp({ reachable: true, snmp: { radiosUp: 0, radiosTotal: 0 } })).toBe(true);
  });

  it('finds radios by interface name and counts those operationally up', () => {
    const names = new Map<string, unknown>([
      ['1.3.6.1.2.1.2.2.1.2.1', 'lo'],
      ['1.3.6.1.2.1.2.2.1.2.2', 'eth0'],
      ['1.3.6.1.2.1.2.2.1.2.3', 'wlan0'],
      ['1.3.6.1.2.1.31.1.1.1.1.4', 'ath1'],
    ]);
    const oper = new Map<string, unknown>([
      ['1.3.6.1.2.1.2.2.1.8.1', 1],
      ['1.3.6.1.2.1.2.2.1.8.2', 1],
      ['1.3.6.1.2.1.2.2.1.8.3', 1],
      ['1.3.6.1.2.1.2.2.1.8.4', 2],
    ]);
    expect(radios(names, oper, /^(wlan|ath)[0-9]/i)).toEqual({ up: 1, total: 2 });
  });
});
