// The one contract every probe follows (as blackbox_exporter's probers do): given its config and a
// context, it returns samples. A failed measurement is a sample (ok=false, loss 100 %, an error code),
// never a thrown error; the scheduler still guards against one, and cuts a probe at its timeout.

import type { Logger } from '../../shared/log.ts';
import type { Sample } from '../../shared/schemas.ts';

export interface ProbeContext {
  /** Aborted when the probe's timeout passes or the agent stops: stop work and return what you have. */
  signal: AbortSignal;
  /** Agent clock, ms since epoch; injectable for tests. */
  now(): number;
  log: Logger;
}

export interface Probe<C = unknown> {
  /** Probe kind, as in the samples it writes. */
  readonly kind: Sample['probe'];
  /** Runs one round. May keep state between rounds (counters for rates), so one instance per config. */
  run(ctx: ProbeContext): Promise<Sample[]>;
  /** Releases sockets or sessions. */
  close?(): Promise<void> | void;
  readonly config: C;
}
