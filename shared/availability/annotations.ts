// Corrections after the fact, made by a person and kept beside the data they correct (never by
// rewriting it): exclude a window from the figures (planned works, a strike day), or give an outage
// another cause. Each names its author and reason, which the report prints.

export const OUTAGE_CAUSES = ['wan_cut', 'power_or_box', 'unknown'] as const;
export type OutageCause = (typeof OUTAGE_CAUSES)[number];

interface AnnotationBase {
  /** Who made the correction (a name or login), printed in the report. */
  author: string;
  /** Why, in words, printed in the report. */
  reason: string;
  /** When it was made, ms since the epoch: of two reclassifications of one outage, the later wins. */
  createdAtMs?: number;
}

/**
 * The window [fromMs, toMs) does not count at all for the schools it matches: neither open, nor lost,
 * nor unmeasured. Matches a school when every list given names it (`uai`, `commune`, `isp`); none
 * given: the whole fleet (a national strike day).
 */
export interface ExcludeAnnotation extends AnnotationBase {
  kind: 'exclude';
  fromMs: number;
  toMs: number;
  uai?: string[];
  commune?: string[];
  isp?: string[];
}

/** The outage of school `uai` that began at `outageStartMs` (its point's time) gets `cause`. */
export interface ReclassifyAnnotation extends AnnotationBase {
  kind: 'reclassify';
  uai: string;
  outageStartMs: number;
  cause: OutageCause;
}

export type Annotation = ExcludeAnnotation | ReclassifyAnnotation;

export interface SchoolRef {
  uai: string;
  commune?: string;
  isp?: string;
}

/** What is wrong with an annotation, in words (empty when it is usable). */
export function annotationProblems(a: Annotation): string[] {
  const problems: string[] = [];
  if (typeof a.author !== 'string' || !a.author.trim()) problems.push('author: required');
  if (typeof a.reason !== 'string' || !a.reason.trim()) problems.push('reason: required');
  if (a.kind === 'exclude') {
    if (!Number.isFinite(a.fromMs) || !Number.isFinite(a.toMs)) problems.push('fromMs, toMs: required');
    else if (a.toMs <= a.fromMs) problems.push('toMs: must come after fromMs');
  } else if (a.kind === 'reclassify') {
    if (typeof a.uai !== 'string' || !a.uai) problems.push('uai: required');
    if (!Number.isFinite(a.outageStartMs)) problems.push('outageStartMs: required');
    if (!OUTAGE_CAUSES.includes(a.cause)) problems.push(`cause: one of ${OUTAGE_CAUSES.join(', ')}`);
  } else problems.push('kind: exclude or reclassify');
  return problems;
}

/** The annotations that concern one school. */
export function annotationsFor(all: readonly Annotation[], school: SchoolRef): Annotation[] {
  return all.filter((a) => {
    if (a.kind === 'reclassify') return a.uai === school.uai;
    if (a.uai && !a.uai.includes(school.uai)) return false;
    if (a.commune && !(school.commune !== undefined && a.commune.includes(school.commune))) return false;
    if (a.isp && !(school.isp !== undefined && a.isp.includes(school.isp))) return false;
    return true;
  });
}

/** The reclassification in force for each outage start (the latest made; equal times: the last listed). */
export function reclassifications(annotations: readonly Annotation[]): Map<number, ReclassifyAnnotation> {
  const byStart = new Map<number, ReclassifyAnnotation>();
  for (const a of annotations) {
    if (a.kind !== 'reclassify') continue;
    const prev = byStart.get(a.outageStartMs);
    if (!prev || (a.createdAtMs ?? 0) >= (prev.createdAtMs ?? 0)) byStart.set(a.outageStartMs, a);
  }
  return byStart;
}
