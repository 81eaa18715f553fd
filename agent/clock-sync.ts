// How long ago this machine's clock was last synchronised, when it can tell: systemd-timesyncd touches
// a file on each successful synchronisation (systemd-timesyncd.service(8)). Sent as the batch's `lts`,
// like RIPE Atlas results; unknown (no timesyncd, chrony, a container) means the field is left out.
import { statSync } from 'node:fs';

export const TIMESYNC_FILE = '/run/systemd/timesync/synchronized';

/** Seconds since the last clock synchronisation (≥ 0), or undefined when this machine cannot tell. */
export function secondsSinceClockSync(now: number, file = TIMESYNC_FILE): number | undefined {
  try {
    const synced = statSync(file).mtimeMs;
    return Math.max(0, Math.round((now - synced) / 1000));
  } catch {
    return undefined;
  }
}
