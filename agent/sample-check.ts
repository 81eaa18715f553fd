// A probe's samples are checked before they enter a batch: the collector refuses a whole batch for
// one bad sample, so a buggy probe must not poison the others' data.
import type { Sample } from '../shared/schemas.ts';
import { describeAjvError, sampleValidator, unknownKindProblem } from '../shared/validate.ts';

function nonFinitePath(value: unknown, path: string): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path;
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nonFinitePath(v, `${path}/${k}`);
      if (found) return found;
    }
  }
  return null;
}

/** Why this sample would be refused by the collector, or null when it is fine. */
export function sampleProblem(sample: unknown): string | null {
  const kind = (sample as { probe?: unknown } | null)?.probe;
  const validate = sampleValidator(kind);
  if (!validate) return unknownKindProblem(kind);
  const nonFinite = nonFinitePath(sample, '');
  if (nonFinite) return `${nonFinite}: number is not finite`;
  return validate(sample) ? null : describeAjvError(validate.errors?.[0]);
}

export function partitionSamples(samples: readonly unknown[]): { valid: Sample[]; problems: string[] } {
  const valid: Sample[] = [];
  const problems: string[] = [];
  for (const sample of samples) {
    const problem = sampleProblem(sample);
    if (problem) problems.push(problem);
    else valid.push(sample as Sample);
  }
  return { valid, problems };
}
