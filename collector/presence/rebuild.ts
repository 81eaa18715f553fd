// After a collector restart: the last presence state of every agent and school, and each agent's last
// batch, read back from InfluxDB (the retained status topics then confirm or correct them).
import type { QueryResult } from '../influx-http.ts';
import { PRESENCE_STATES } from '../schema.ts';
import type { RebuiltState } from './monitor.ts';
import type { PresenceState } from './state.ts';

const STATES = new Set<string>(PRESENCE_STATES);

function series(r: QueryResult, i: number) {
  return (r.results[i]?.series ?? []).map((s) => {
    const row = Object.fromEntries(s.columns.map((c, j) => [c, s.values?.[0]?.[j]]));
    return { tags: s.tags ?? {}, row };
  });
}

/** Three InfluxQL statements (join them with `; `, more may follow): read by rebuiltPresence. */
export const PRESENCE_STATEMENTS = [
  "SELECT last(state) AS state FROM presence WHERE scope = 'agent' GROUP BY uai, agent",
  "SELECT last(state) AS state FROM presence WHERE scope = 'school' GROUP BY uai",
  'SELECT last(seq) AS seq FROM batch GROUP BY uai, agent',
] as const;

/** The state in the answer to PRESENCE_STATEMENTS, starting at statement `first` of `r`. */
export function rebuiltPresence(r: QueryResult, first = 0): RebuiltState {
  const lastBatch = new Map<string, { t: number; seq: number }>();
  for (const { tags, row } of series(r, first + 2))
    lastBatch.set(`${tags['uai']}/${tags['agent']}`, { t: Number(row['time']), seq: Number(row['seq']) });
  const agents = series(r, first)
    .filter(({ tags, row }) => tags['uai'] && tags['agent'] && STATES.has(String(row['state'])))
    .map(({ tags, row }) => {
      const b = lastBatch.get(`${tags['uai']}/${tags['agent']}`);
      return {
        uai: tags['uai']!,
        agent: tags['agent']!,
        state: row['state'] as PresenceState,
        since: Number(row['time']),
        lastSeenAt: b?.t ?? 0,
        lastSeq: b?.seq ?? -1,
      };
    });
  const schools = series(r, first + 1)
    .filter(({ tags, row }) => tags['uai'] && STATES.has(String(row['state'])))
    .map(({ tags, row }) => ({
      uai: tags['uai']!,
      state: row['state'] as PresenceState,
      since: Number(row['time']),
    }));
  return { agents, schools };
}
