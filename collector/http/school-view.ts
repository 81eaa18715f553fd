// One school as the API and the board show it: the registry's facts, presence, latest readings.

import { PRESENCE_STATES } from '../schema.ts';
import type {
  PresenceSource,
  ReadingsSource,
  RegistrySource,
  School,
  SchoolPresenceView,
  SchoolReading,
} from './deps.ts';
import type { SchoolView } from './schemas.ts';

const collator = new Intl.Collator('fr');

export function dashboardUrl(pattern: string | undefined, uai: string): string | null {
  return pattern ? pattern.replaceAll('{uai}', encodeURIComponent(uai)) : null;
}

export function schoolView(
  uai: string,
  school: School | undefined,
  presence: SchoolPresenceView | undefined,
  reading: SchoolReading | undefined,
  grafanaPattern: string | undefined,
  startedAt: number,
): SchoolView {
  return {
    uai,
    name: school?.name ?? uai,
    commune: school?.commune ?? '',
    isp: school?.isp ?? null,
    inRegistry: school !== undefined,
    state: presence?.state ?? 'unknown',
    // Never heard of since the collector started: unknown since then.
    since: presence?.since ?? startedAt,
    reason: presence?.reason ?? 'never_seen',
    lastSeenAt: reading?.lastSeenAt ?? maxLastSeen(presence),
    readingAt: reading?.readingAt ?? null,
    latencyMs: round(reading?.latencyMs, 2),
    lossPct: round(reading?.lossPct, 2),
    wanInBps: round(reading?.wanInBps, 0),
    wanOutBps: round(reading?.wanOutBps, 0),
    speedtestDownBps: round(reading?.speedtestDownBps, 0),
    speedtestUpBps: round(reading?.speedtestUpBps, 0),
    speedtestAt: reading?.speedtestAt ?? null,
    contractedDownMbps: school?.contractedDownMbps ?? null,
    contractedUpMbps: school?.contractedUpMbps ?? null,
    agentVersion: reading?.agentVersion ?? null,
    agents: presence?.agents ?? [],
    dashboardUrl: dashboardUrl(grafanaPattern, uai),
  };
}

function maxLastSeen(p: SchoolPresenceView | undefined): number | null {
  const seen = Math.max(0, ...(p?.agents.map((a) => a.lastSeenAt) ?? []));
  return seen > 0 ? seen : null;
}

function round(v: number | null | undefined, digits: number): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export interface ViewSources {
  registry: RegistrySource;
  presence: PresenceSource;
  readings: ReadingsSource;
  grafanaPattern: string | undefined;
  startedAt: number;
}

export function viewOf(src: ViewSources, uai: string): SchoolView | undefined {
  const school = src.registry.school(uai);
  const presence = src.presence.school(uai);
  const reading = src.readings.reading(uai);
  if (!school && !presence && !reading) return undefined;
  return schoolView(uai, school, presence, reading, src.grafanaPattern, src.startedAt);
}

/** Every school of the registry, and any school heard of that the registry lacks. One pass per source. */
export function allViews(src: ViewSources): SchoolView[] {
  const presence = new Map<string, SchoolPresenceView>();
  for (const p of src.presence.schools()) presence.set(p.uai, p);
  const uais = new Set<string>();
  for (const s of src.registry.schools()) uais.add(s.uai);
  for (const u of presence.keys()) uais.add(u);
  for (const u of src.readings.uais()) uais.add(u);
  const views: SchoolView[] = [];
  for (const uai of uais) {
    const reading = src.readings.reading(uai);
    views.push(
      schoolView(
        uai,
        src.registry.school(uai),
        presence.get(uai),
        reading,
        src.grafanaPattern,
        src.startedAt,
      ),
    );
  }
  return views.sort(
    (a, b) =>
      collator.compare(a.commune, b.commune) ||
      collator.compare(a.name, b.name) ||
      a.uai.localeCompare(b.uai),
  );
}

export function countByState(views: readonly SchoolView[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(PRESENCE_STATES.map((s) => [s, 0]));
  for (const v of views) counts[v.state] = (counts[v.state] ?? 0) + 1;
  return counts;
}
