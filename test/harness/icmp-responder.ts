// A misbehaving ICMP echo responder in a network namespace (icmp-responder.py: a raw socket, as
// this kernel has no netem to duplicate or delay packets): duplicates, late, lost and stray replies.
import { once } from 'node:events';
import { requireBinary } from './daemon.ts';
import { ignoreEchoes, spawnInNetns } from './netns.ts';

export interface ResponderPlan {
  /** Answer every echo twice, the copy this many ms after the first reply. */
  duplicateAfterMs?: number;
  /** Answer these echoes (by ICMP sequence number) this many ms late. */
  delayMs?: Record<number, number>;
  /** Never answer these echoes. */
  drop?: number[];
  /** After answering echo `seq`, also send a reply with this sequence number, never asked for. */
  stray?: Record<number, number>;
}

export interface IcmpResponder {
  stop(): Promise<void>;
}

const SCRIPT = new URL('./icmp-responder.py', import.meta.url).pathname;

/** Silences the namespace's kernel echo replies and starts the responder; resolves once it listens. */
export async function startIcmpResponder(ns: string, plan: ResponderPlan): Promise<IcmpResponder> {
  await ignoreEchoes(ns);
  const child = spawnInNetns(ns, requireBinary('python3'), [SCRIPT, JSON.stringify(plan)]);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await exited.catch(() => {});
    }
  };
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    exited.then(([code]) => reject(new Error(`icmp-responder exited (${code}): ${stderr.trim()}`)), reject);
  });
  const timeout = setTimeout(() => child.kill(), 20_000);
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timeout);
  }
  return { stop };
}
