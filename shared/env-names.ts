// The VIGIE_* variable names a config schema accepts, and what to say about one it does not: a
// misspelt override must not be ignored in silence while the file's value quietly stays in force.
import type { TSchema } from 'typebox';

const PREFIX = 'VIGIE_';
type Props = Record<string, TSchema>;
const propsOf = (schema: TSchema | undefined): Props =>
  (schema as { properties?: Props } | undefined)?.properties ?? {};

const namesCache = new WeakMap<TSchema, string[]>();

/** Every override name the schema accepts (VIGIE_COLLECTOR__INFLUX__URL…), leaves and mappings alike. */
export function knownEnvNames(schema: TSchema): string[] {
  let names = namesCache.get(schema);
  if (!names) {
    names = [];
    const walk = (node: TSchema | undefined, prefix: string, depth: number) => {
      for (const [key, child] of Object.entries(propsOf(node))) {
        const name = `${prefix}${prefix === PREFIX ? '' : '__'}${key.toUpperCase()}`;
        names!.push(name);
        if (depth < 12) walk(child, name, depth + 1);
      }
    };
    walk(schema, PREFIX, 0);
    namesCache.set(schema, names);
  }
  return names;
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The candidate closest to `name` (case-insensitive), or undefined when there is none. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(name.toUpperCase(), c.toUpperCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/**
 * Why a VIGIE_ variable that set nothing deserves a warning, or null when it is not meant for this
 * schema: process settings (VIGIE_LOG_LEVEL, VIGIE_SITE_DIR) have no `__` and start with no section
 * name; a section this schema does not hold (VIGIE_COLLECTOR__… read by the agent) belongs to another
 * process unless its name is a near miss of one it holds.
 */
export function envNameProblem(name: string, schema: TSchema): string | null {
  const rest = name.slice(PREFIX.length).toUpperCase();
  const sections = Object.keys(propsOf(schema)).map((k) => k.toUpperCase());
  const first = rest.split('__')[0]!;
  const nearSection = sections.some((s) => editDistance(first, s) <= 2);
  const startsLikeSection = sections.some((s) => rest.startsWith(`${s}_`));
  const open = (schema as { additionalProperties?: unknown }).additionalProperties !== false;
  if (!startsLikeSection && !(rest.includes('__') && (nearSection || !open))) return null;
  const nearest = closestName(name, knownEnvNames(schema));
  const hint = !nearest
    ? ''
    : nearest.replaceAll('__', '_') === name.toUpperCase().replaceAll('__', '_')
      ? `; did you mean ${nearest}? (keys are separated by two underscores)`
      : `; did you mean ${nearest}?`;
  return `environment variable ${name} names no config key and is ignored${hint}`;
}
