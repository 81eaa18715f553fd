// Silences and maintenance windows created through the API, kept in a JSON file so they survive a
// restart. The alert policy asks `muted()`; windows from the config file stay with the alerts config.
// The file is read entry by entry: one that cannot be read (a scope with an unknown key, a time that
// is not a whole ms in range...) is never applied, since a scope read wrongly could mute every school.
// It is logged, counted, and kept in the file under `unreadable` for a person to mend.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { validatorFor } from '../../shared/compiled-schemas.ts';
import type { Logger } from '../../shared/log.ts';
import { describeAjvError } from '../../shared/validate.ts';
import type {
  MaintenanceStore,
  MaintenanceWindow,
  NewMaintenanceWindow,
  NewSilence,
  Scope,
  Silence,
  SilenceStore,
} from './deps.ts';
import { StoredMaintenance, StoredSilence } from './schemas.ts';

/** Ended windows stay listed this long, then go. */
const KEEP_ENDED_MS = 7 * 86_400_000;

interface Saved {
  silences: Silence[];
  maintenance: MaintenanceWindow[];
}

/** An entry of the file that could not be read, as it was, with why. */
interface Unreadable {
  /** Where it was, e.g. silences[2]. */
  where: string;
  problem: string;
  entry: unknown;
}

export interface ScopedSchool {
  uai: string;
  commune?: string | undefined;
  isp?: string | undefined;
}

/** Every list the scope gives must hold the school's value; a given but empty list matches none. */
export function inScope(scope: Scope, school: ScopedSchool): boolean {
  if (scope.uai && !scope.uai.includes(school.uai)) return false;
  if (scope.commune && !(school.commune && scope.commune.includes(school.commune))) return false;
  if (scope.isp && !(school.isp && scope.isp.includes(school.isp))) return false;
  return true;
}

const active = (w: { startsAt: number; endsAt: number }, now: number) => w.startsAt <= now && now < w.endsAt;

export interface MuteWindowsOptions {
  /** The JSON file; absent: in memory only. */
  file?: string | undefined;
  /** Silences, and maintenance windows, each at most this many (409 past it). */
  max: number;
  /** ms since the epoch. */
  now: () => number;
  log?: Logger | undefined;
}

export class MuteWindows {
  private data: Saved = { silences: [], maintenance: [] };
  private unreadableEntries: Unreadable[] = [];
  readonly silences: SilenceStore;
  readonly maintenance: MaintenanceStore;

  /**
   * Reads the file; one that is not JSON is renamed `<file>.unreadable-<ms>` and logged, never fatal.
   * @throws when the file exists but cannot be read (permissions)
   */
  constructor(private readonly opts: MuteWindowsOptions) {
    if (opts.file) {
      const loaded = load(opts.file, opts.now(), opts.log);
      this.data = loaded.data;
      this.unreadableEntries = loaded.unreadable;
    }
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

  /** Entries of the file that are not applied because they cannot be read (for /metrics). */
  get unreadable(): number {
    return this.unreadableEntries.length;
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
    // The default file lives in the collector's data folder, which may not exist yet.
    mkdirSync(dirname(this.opts.file), { recursive: true });
    const unreadable = this.unreadableEntries.length ? { unreadable: this.unreadableEntries } : {};
    writeFileSync(tmp, JSON.stringify({ ...this.data, ...unreadable }, null, 1));
    renameSync(tmp, this.opts.file);
  }
}

// Compiled at first use (or precompiled by scripts/build), not at import: the collector starts sooner.
const validators: Record<keyof Saved, () => ValidateFunction> = {
  silences: () => validatorFor('wire', StoredSilence),
  maintenance: () => validatorFor('wire', StoredMaintenance),
};

/**
 * The entries of the file that can be read, and the others with their reason.
 * @throws when the file exists but cannot be read (permissions): the API does not start.
 */
function load(file: string, now: number, log: Logger | undefined): { data: Saved; unreadable: Unreadable[] } {
  const data: Saved = { silences: [], maintenance: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { data, unreadable: [] };
    throw err;
  }
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(text);
    if (!saved || typeof saved !== 'object' || Array.isArray(saved)) throw new Error('not a JSON object');
  } catch (err) {
    // Kept aside rather than overwritten by the next save: nothing in it is lost.
    const aside = `${file}.unreadable-${now}`;
    renameSync(file, aside);
    log?.error(
      { file, movedTo: aside, err: (err as Error).message },
      `windows file ${file} is not readable JSON (${(err as Error).message}): no silence or maintenance window from it applies; moved to ${aside}`,
    );
    return { data, unreadable: [] };
  }
  const kept = Array.isArray(saved['unreadable']) ? (saved['unreadable'] as unknown[]) : [];
  const unreadable: Unreadable[] = kept.map((u, i) => {
    const x = (u && typeof u === 'object' ? u : {}) as Partial<Unreadable>;
    return {
      where: String(x.where ?? `unreadable[${i}]`),
      problem: String(x.problem ?? 'kept aside by hand'),
      entry: 'entry' in x ? x.entry : u,
    };
  });
  for (const key of ['silences', 'maintenance'] as const) {
    const list = saved[key] ?? [];
    (Array.isArray(list) ? list : [list]).forEach((entry, i) => {
      const problem = entryProblem(key, entry);
      if (!problem) data[key].push(entry as never);
      else unreadable.push({ where: `${key}[${i}]`, problem, entry });
    });
  }
  for (const u of unreadable) {
    const raw = (u.entry as { id?: unknown } | null)?.id;
    const id = typeof raw === 'string' ? raw.slice(0, 100) : undefined;
    const named = `${u.where}${id ? ` (id ${id})` : ''}`;
    log?.error(
      { file, entry: u.where, id, problem: u.problem },
      `windows file ${file}: ${named} cannot be read, ${u.problem}: not applied; kept under "unreadable" to mend`,
    );
  }
  return { data, unreadable };
}

function entryProblem(key: keyof Saved, entry: unknown): string | null {
  const validate = validators[key]();
  if (!validate(entry)) return describeAjvError(validate.errors?.[0]);
  const w = entry as { startsAt: number; endsAt: number };
  return w.endsAt > w.startsAt ? null : '/endsAt: must be after startsAt';
}
