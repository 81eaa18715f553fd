// "Does this host answer ICMP echo?" with the system ping (no raw-socket privilege needed), killable:
// the `ping` package cannot stop its child, so a round cut at its timeout would wait for it.
import { spawn } from 'node:child_process';

export interface EchoOptions {
  /** ping's -w: it gives up after this many seconds without a reply. */
  deadlineS: number;
  /** Seconds between echoes (iputils lets any user go down to 0.2). */
  intervalS: number;
}

/** Wi-Fi fallback: up to 8 echoes over 2 s, the first reply ends it (a LAN host answers in ms). */
export const AP_ECHO: EchoOptions = { deadlineS: 2, intervalS: 0.25 };

/** iputils ping arguments: stop at the first reply (-c 1), or at the deadline (-w) without one. */
export function echoArgs(host: string, opts: EchoOptions): string[] {
  return ['-n', '-q', '-c', '1', '-w', String(opts.deadlineS), '-i', String(opts.intervalS), '--', host];
}

/**
 * True when `host` replied to an echo before the deadline, false when ping ended without a reply (or
 * could not run), undefined when `signal` aborted first: the child is killed at once and nothing is
 * known. Exit status 0 is iputils' "at least one reply".
 */
export function echoReachable(
  host: string,
  opts: EchoOptions,
  signal: AbortSignal,
): Promise<boolean | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = spawn('ping', echoArgs(host, opts), { stdio: 'ignore' });
    const onAbort = () => {
      child.kill('SIGKILL');
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const end = (alive: boolean) => {
      signal.removeEventListener('abort', onAbort);
      resolve(alive);
    };
    child.once('error', () => end(false));
    child.once('close', (code) => end(code === 0));
  });
}
