// The default IPv4 route from /proc/net/route: the school gateway to ping and the uplink interface
// to count, without spawning `ip route` (the agent runs on small boxes, every round).
import { readFile } from 'node:fs/promises';

export interface DefaultRoute {
  iface: string;
  gateway: string;
}

/** /proc/net/route stores addresses as little-endian hex: 0101A8C0 is 192.168.1.1. */
function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** The default route with the lowest metric, or undefined when there is none. */
export function parseDefaultRoute(text: string): DefaultRoute | undefined {
  let best: (DefaultRoute & { metric: number }) | undefined;
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, gateway, flags, , , metric, mask] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || mask !== '00000000' || !gateway) continue;
    // RTF_UP (0x1) must be set; RTF_GATEWAY (0x2) tells a real gateway from a device route.
    const f = Number.parseInt(flags ?? '0', 16);
    if ((f & 0x1) === 0) continue;
    const m = Number(metric ?? 0);
    if (!best || m < best.metric) best = { iface, gateway: hexToIpv4(gateway), metric: m };
  }
  return best && { iface: best.iface, gateway: best.gateway };
}

export async function readDefaultRoute(file = '/proc/net/route'): Promise<DefaultRoute | undefined> {
  try {
    return parseDefaultRoute(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}
