// Silences and maintenance windows created through the API, kept in a JSON file so they survive a
// restart. The alert policy asks `muted()`; windows from the config file stay with the alerts config.
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type {
  MaintenanceStore,
  MaintenanceWindow,
  NewMaintenanceWindow,
  NewSilence,
  Scope,
  Silence,
  SilenceStore,
} from './ports.ts';

/** Ended windows stay listed this long, then go. */
const KEEP_ENDED_MS = 7 * 86_400_000;

interface Saved {
  silences: Silence[];
  maintenance: MaintenanceWindow[];
}

export interface ScopedSchool {
  uai: string;
  commune?: string | undefined;
  isp?: string | undefined;
}

export function inScope(scope: Scope, school: ScopedSchool): boolean {
  if (scope.uai?.length && !scope.uai.includes(school.uai)) return false;
  if (scope.commune?.length && !(school.commune && scope.commune.includes(school.commune))) return false;
  if (scope.isp?.length && !(school.isp && scope.isp.includes(school.isp))) return false;
  return true;
}

const active = (w: { startsAt: number; endsAt: number }, now: number) => w.startsAt <= now && now < w.endsAt;

export class MuteWindows {
  private data: Saved = { silences: [], maintenance: [] };
  readonly silences: SilenceStore;
  readonly maintenance: MaintenanceStore;

  constructor(private readonly opts: { file?: string | undefined; max: number; now: () => number }) {
    if (opts.file) this.data = load(opts.file);
    this.silences = {
      list: () => this.prune().silences,
      create: (s: NewSilence) => this.add('silences', s),
      remove: (id: string) => this.remove('silences', id),
    };
    this.maintenance = {
      list: () => this.prune().maintenance,
      create: (w: NewMaintenanceWindow) => this.add('maintenance', w),
      remove: (id: string) => this.remove('maintenance', id),
    };
  }

  /** For the alert policy: whether an alert on this school is muted now, and why. */
  muted(alert: { kind: string; uai?: string | undefined }, school: ScopedSchool | undefined, now: number) {
    const target = school ?? (alert.uai ? { uai: alert.uai } : undefined);
    if (!target) return null;
    if (this.data.maintenance.some((w) => active(w, now) && inScope(w.scope, target)))
      return 'maintenance' as const;
    if (
      this.data.silences.some(
        (s) =>
          active(s, now) && inScope(s.scope, target) && (!s.kinds.length || s.kinds.includes(alert.kind)),
      )
    )
      return 'silenced' as const;
    return null;
  }

  private add<K extends keyof Saved>(
    key: K,
    fields: Omit<Saved[K][number], 'id' | 'createdAt'>,
  ): Saved[K][number] {
    const list = this.prune()[key] as Saved[K][number][];
    if (list.length >= this.opts.max)
      throw Object.assign(new Error(`at most ${this.opts.max} ${key}`), { statusCode: 409 });
    const item = { ...fields, id: randomUUID(), createdAt: this.opts.now() } as Saved[K][number];
    list.push(item);
    this.save();
    return item;
  }

  private remove(key: keyof Saved, id: string): boolean {
    const list = this.data[key] as { id: string }[];
    const i = list.findIndex((w) => w.id === id);
    if (i < 0) return false;
    list.splice(i, 1);
    this.save();
    return true;
  }

  private prune(): Saved {
    const cutoff = this.opts.now() - KEEP_ENDED_MS;
    this.data.silences = this.data.silences.filter((s) => s.endsAt > cutoff);
    this.data.maintenance = this.data.maintenance.filter((w) => w.endsAt > cutoff);
    return this.data;
  }

  private save(): void {
    if (!this.opts.file) return;
    const tmp = `${this.opts.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 1));
    renameSync(tmp, this.opts.file);
  }
}

function load(file: string): Saved {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { silences: [], maintenance: [] };
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<Saved>;
  return { silences: parsed.silences ?? [], maintenance: parsed.maintenance ?? [] };
}
