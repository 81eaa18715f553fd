// The system ping (no raw-socket privilege needed), killable: the `ping` package cannot stop its
// child, so a round cut at its timeout would wait for it. "Does this host answer ICMP echo?" for the
// Wi-Fi probe; a whole ping run's output for the ping probe.
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

/** ping's output kept at most (an echo line is ~70 bytes): a flood of duplicates cannot grow memory. */
export const PING_OUTPUT_MAX = 256 * 1024;

/**
 * Runs the system ping with `args` under LC_ALL=C (its lines are parsed in English) and resolves with
 * what it wrote, stdout and stderr in arrival order (as the `ping` package did), whatever its exit
 * status. When `signal` aborts first the child is killed at once and `cut` is true: `output` is what
 * came before (no summary line). Rejects when ping cannot be started (not installed, ENOENT).
 */
export function pingOutput(
  args: readonly string[],
  signal: AbortSignal,
): Promise<{ output: string; cut: boolean }> {
  if (signal.aborted) return Promise.resolve({ output: '', cut: true });
  return new Promise((resolve, reject) => {
    const child = spawn('ping', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LANG: 'C', LC_ALL: 'C' },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (b: Buffer) => {
      if (size >= PING_OUTPUT_MAX) return;
      chunks.push(b);
      size += b.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const text = () => Buffer.concat(chunks).toString('utf8');
    const onAbort = () => {
      child.kill('SIGKILL');
      resolve({ output: text(), cut: true });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      resolve({ output: text(), cut: false });
    });
  });
}
