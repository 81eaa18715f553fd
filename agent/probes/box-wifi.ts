// The box's own wireless interfaces, read with systeminformation in a worker thread: its Linux
// Wi-Fi calls (iw, nmcli, wpa_cli) run with execSync and would stall the agent's event loop.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { WifiSample } from '../../shared/schemas.ts';

export interface BoxWifiReading {
  ifaces: { iface: string }[];
  conns: { iface: string; ssid?: string }[];
}

// Plain CommonJS so the worker needs no TypeScript loader.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const si = require(workerData.si);
Promise.all([si.wifiInterfaces(), si.wifiConnections()]).then(
  ([ifaces, conns]) => parentPort.postMessage({ ifaces, conns }),
  (err) => parentPort.postMessage({ error: String((err && err.message) || err) }),
);
`;

/** Runs the reading in a short-lived worker; rejects on timeout or abort (the worker is terminated). */
export function readBoxWifi(timeoutMs: number, signal?: AbortSignal): Promise<BoxWifiReading> {
  const siPath = createRequire(import.meta.url).resolve('systeminformation');
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_CODE, { eval: true, workerData: { si: siPath } });
    const end = (fn: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(
      () => end(() => reject(Object.assign(new Error('box Wi-Fi read timed out'), { code: 'ETIMEDOUT' }))),
      timeoutMs,
    );
    const onAbort = () => end(() => reject(Object.assign(new Error('aborted'), { code: 'ABORTED' })));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (m: BoxWifiReading & { error?: string }) =>
      end(() => (m.error ? reject(new Error(m.error)) : resolve(m))),
    );
    worker.once('error', (err) => end(() => reject(err)));
  });
}

/** One sample per wireless interface: up and reachable when it is associated to an SSID. */
export function boxWifiSamples(reading: BoxWifiReading, t: number): WifiSample[] {
  return reading.ifaces
    .filter((i) => typeof i.iface === 'string' && i.iface)
    .map((i) => {
      const associated = reading.conns.some((c) => c.iface === i.iface && !!c.ssid);
      return {
        probe: 'wifi' as const,
        t,
        ap: `box:${i.iface}`.slice(0, 128),
        up: associated,
        reachable: associated,
        ...(associated ? {} : { error: 'NOT_ASSOCIATED' }),
      };
    });
}
