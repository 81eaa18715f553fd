// The annotations file (YAML, kept beside the config): corrections after the fact, each with its
// author and reason, printed in the report (shared/availability/annotations.ts). Example:
//   - kind: exclude
//     from: 2026-11-02T00:00        # local to the collector's alerts.timezone unless an offset is given
//     to: 2026-11-03T00:00
//     uai: [0690001B]               # or commune: [...], isp: [...]; none: the whole fleet
//     author: M. Dupont
//     reason: travaux Orange programmés
//   - kind: reclassify
//     uai: 0690001B
//     outageStart: 2026-10-27T10:00
//     cause: wan_cut
//     author: M. Dupont
//     reason: l'opérateur a confirmé la coupure de fibre
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type Annotation, annotationProblems } from '../shared/availability/index.ts';
import { parseInstant } from '../shared/time.ts';

export class AnnotationsError extends Error {
  override name = 'AnnotationsError';
}

const list = (v: unknown): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)];

/**
 * Reads and checks every entry; times without offset are local to `timeZone`.
 * @throws AnnotationsError naming the file, entry index and key of everything wrong (all at once)
 */
export function loadAnnotations(file: string, timeZone: string): Annotation[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (err) {
    throw new AnnotationsError(`${file}: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new AnnotationsError(`${file}: must be a list of annotations`);
  const problems: string[] = [];
  const out: Annotation[] = [];
  doc.forEach((raw: Record<string, unknown>, i) => {
    const where = `${file}: [${i}]`;
    if (typeof raw !== 'object' || raw === null) {
      problems.push(`${where}: must be a mapping`);
      return;
    }
    const time = (key: string): number => {
      let v = raw[key] instanceof Date ? (raw[key] as Date).toISOString() : raw[key];
      // Minutes are precise enough for a correction: seconds may be left out.
      if (typeof v === 'string' && /[Tt ]\d{2}:\d{2}$/.test(v)) v = `${v}:00`;
      const r = parseInstant(v, { timeZone });
      if (!r.ok) {
        problems.push(`${where}.${key}: ${r.problem}`);
        return Number.NaN;
      }
      return r.ms;
    };
    const base = { author: String(raw['author'] ?? ''), reason: String(raw['reason'] ?? '') };
    let a: Annotation;
    if (raw['kind'] === 'exclude') {
      const uai = list(raw['uai']);
      const commune = list(raw['commune']);
      const isp = list(raw['isp']);
      a = {
        kind: 'exclude',
        ...base,
        fromMs: time('from'),
        toMs: time('to'),
        ...(uai ? { uai } : {}),
        ...(commune ? { commune } : {}),
        ...(isp ? { isp } : {}),
      };
    } else if (raw['kind'] === 'reclassify') {
      a = {
        kind: 'reclassify',
        ...base,
        uai: String(raw['uai'] ?? ''),
        outageStartMs: time('outageStart'),
        cause: raw['cause'] as never,
      };
    } else {
      problems.push(`${where}.kind: exclude or reclassify`);
      return;
    }
    for (const p of annotationProblems(a)) problems.push(`${where}.${p}`);
    out.push(a);
  });
  if (problems.length) throw new AnnotationsError(problems.join('\n'));
  return out;
}
