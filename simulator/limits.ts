// Will this machine let one process hold N connections? Each agent is one TCP socket, hence one file
// descriptor, and one local port towards the broker's address.
import { readFileSync } from 'node:fs';

/** Descriptors the simulator needs beyond its agents: stdio, the event loop, DNS, log files. */
export const FD_HEADROOM = 64;

/** The soft and hard "Max open files" of this process (Linux), or null where unknown. */
export function openFilesLimit(limitsText?: string): { soft: number; hard: number } | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return null;
  const num = (v: string) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: num(m[1]!), hard: num(m[2]!) };
}

/** Local ports available for outgoing connections (net.ipv4.ip_local_port_range). */
export function localPortRange(text?: string): number | null {
  let raw = text;
  if (raw === undefined) {
    try {
      raw = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    } catch {
      return null;
    }
  }
  const [lo, hi] = raw.trim().split(/\s+/).map(Number);
  return lo !== undefined && hi !== undefined && hi >= lo ? hi - lo + 1 : null;
}

/** Why `agents` connections will not fit, with the fix, or null when they do. */
export function connectionBudgetProblem(
  agents: number,
  files: { soft: number; hard: number } | null,
  ports: number | null,
): string | null {
  const need = agents + FD_HEADROOM;
  if (files && need > files.soft) {
    const fix =
      need <= files.hard
        ? `raise it first: \`ulimit -n ${need}\` (this shell allows up to ${files.hard})`
        : `the hard limit is ${files.hard}: raise it as root (\`ulimit -Hn ${need}\`, or LimitNOFILE= in a systemd unit)`;
    return `${agents} agents need ${need} open files (one socket each) but this process may open ${files.soft}: ${fix}`;
  }
  if (ports !== null && agents > ports) {
    return (
      `${agents} agents need ${agents} local ports towards one broker address but net.ipv4.ip_local_port_range ` +
      `gives ${ports}: widen it (sysctl -w net.ipv4.ip_local_port_range="1024 65535")`
    );
  }
  return null;
}
