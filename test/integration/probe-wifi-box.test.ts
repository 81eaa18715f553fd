// The box's own wireless interfaces through real systeminformation, in a worker thread: the
// agent's event loop keeps turning while it runs (its Linux Wi-Fi calls are synchronous).
import { describe, expect, it } from 'vitest';
import { boxWifiSamples, readBoxWifi } from '../../agent/probes/box-wifi.ts';

describe('box Wi-Fi reading', () => {
  it('comes back from the worker as lists, without stalling the event loop', async () => {
    let longestGapMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
    }, 10);
    try {
      const reading = await readBoxWifi(30_000);
      expect(Array.isArray(reading.ifaces)).toBe(true);
      expect(Array.isArray(reading.conns)).toBe(true);
      // Whatever this machine has, every interface becomes one valid sample.
      expect(boxWifiSamples(reading, 1).length).toBe(reading.ifaces.length);
    } finally {
      clearInterval(ticker);
    }
    expect(longestGapMs).toBeLessThan(1000);
  }, 40_000);

  it('gives up at its timeout and ends the worker', async () => {
    await expect(readBoxWifi(1)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('turns interfaces into samples: up when associated', () => {
    const samples = boxWifiSamples(
      {
        ifaces: [{ iface: 'wlan0' }, { iface: 'wlan1' }],
        conns: [{ iface: 'wlan0', ssid: 'ECOLE' }],
      },
      42,
    );
    expect(samples).toEqual([
      { probe: 'wifi', t: 42, ap: 'box:wlan0', up: true, reachable: true },
      { probe: 'wifi', t: 42, ap: 'box:wlan1', up: false, reachable: false, error: 'NOT_ASSOCIATED' },
    ]);
  });
});
