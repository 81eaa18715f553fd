// What the demo prints while it runs, from the collector's own API: a few lines a network technician
// reads at a glance (who is connected, what changed), never a log flood.
import { DEFAULT_TIMEZONE } from '../shared/school-hours.ts';
import { DEMO_UAI } from './config.ts';

export type SchoolState = 'online' | 'degraded' | 'offline' | 'unknown';

/** The fields of `/api/schools` the console uses. */
export interface SchoolBrief {
  uai: string;
  name: string;
  commune: string;
  state: SchoolState;
  reason: string;
  latencyMs: number | null;
  lossPct: number | null;
}

const WORDS: Record<SchoolState, string> = {
  online: 'online',
  degraded: 'degraded',
  offline: 'OFFLINE',
  unknown: 'not heard from yet',
};

/** Why presence says so, in a technician's words. */
const REASONS: Record<string, string> = {
  will: 'connection lost without a goodbye: the broker published its will',
  retained_will: 'its last will was waiting on the broker',
  silent: 'no message for three intervals',
  stopped: 'its agent stopped cleanly',
  birth: 'its agent connected',
  metrics: 'measurements arrive again',
  recovered: 'measurements are good again',
  event: 'its agent spoke again',
  internet_unreachable: 'the internet does not answer',
  loss: 'packet loss past the threshold',
  latency: 'latency past the threshold',
};

export function countByState(schools: readonly SchoolBrief[]): Record<SchoolState, number> {
  const counts: Record<SchoolState, number> = { online: 0, degraded: 0, offline: 0, unknown: 0 };
  for (const s of schools) counts[s.state]++;
  return counts;
}

// The schools' clock (Europe/Paris), never the process's zone: the demo's image sets no TZ.
const clockFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: DEFAULT_TIMEZONE,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const clock = (at: number) => clockFormat.format(at);

/** One line per school whose state changed since the previous poll. */
export function changes(
  prev: ReadonlyMap<string, SchoolBrief>,
  cur: readonly SchoolBrief[],
  at: number,
): string[] {
  const lines: string[] = [];
  for (const s of cur) {
    const before = prev.get(s.uai);
    if (!before || before.state === s.state) continue;
    if (before.state === 'unknown' && s.state === 'online') continue; // start-up: summed up elsewhere
    const why = REASONS[s.reason] ?? s.reason.replaceAll('_', ' ');
    const who = s.uai === DEMO_UAI ? "this machine's agent" : `${s.name} (${s.commune}, ${s.uai})`;
    lines.push(`${clock(at)}  ${who}: ${WORDS[before.state]} → ${WORDS[s.state]}${why ? ` (${why})` : ''}`);
  }
  return lines;
}

export interface FleetLine {
  schools: readonly SchoolBrief[];
  pointsWritten: number | null;
  rejected: number | null;
  sink: string;
}

/** The periodic summary: states, this machine's own figures, where the points went. */
export function fleetLine(f: FleetLine, at: number): string {
  const c = countByState(f.schools);
  const parts = [`${c.online} online`];
  if (c.degraded) parts.push(`${c.degraded} degraded`);
  if (c.offline) parts.push(`${c.offline} offline`);
  if (c.unknown) parts.push(`${c.unknown} not heard from yet`);
  const me = f.schools.find((s) => s.uai === DEMO_UAI);
  const mine =
    me && me.state !== 'unknown'
      ? ` · this machine: ${WORDS[me.state]}${me.latencyMs !== null ? `, ping 127.0.0.1 ${me.latencyMs.toFixed(2)} ms` : ''}`
      : '';
  const points =
    f.pointsWritten === null
      ? ''
      : ` · ${f.pointsWritten.toLocaleString('en')} points written to ${f.sink}${f.rejected ? `, ${f.rejected} messages refused` : ''}`;
  return `${clock(at)}  ${f.schools.length} schools: ${parts.join(', ')}${mine}${points}`;
}

/** Sums a counter of the Prometheus text over its label sets; null when absent. */
export function promCounter(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}
