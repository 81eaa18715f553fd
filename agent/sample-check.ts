// A probe's samples are checked before they enter a batch: the collector refuses a whole batch for
// one bad sample, so a buggy probe must not poison the others' data.
import { normaliseLabel } from '../shared/labels.ts';
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

/** Sample keys that become InfluxDB tags (shared/schemas.ts `Label`): the rule of shared/labels.ts applies. */
const LABEL_KEYS = ['target', 'resolver', 'name', 'iface', 'ap'] as const;

/**
 * The sample with each label normalised (shared/labels.ts), and what was changed (`ap: "x\\" → "x"`):
 * a name read from a device (an access point's, an interface's) or an old config must still be stored.
 */
export function normaliseSampleLabels(sample: Sample): { sample: Sample; changed: string[] } {
  const changed: string[] = [];
  let out = sample;
  const record = sample as unknown as Record<string, unknown>;
  for (const key of LABEL_KEYS) {
    const value = record[key];
    if (typeof value !== 'string') continue;
    const label = normaliseLabel(value);
    if (label === value) continue;
    changed.push(`${key}: ${JSON.stringify(value)} → ${JSON.stringify(label)}`);
    out = { ...out, [key]: label } as Sample;
  }
  return { sample: out, changed };
}

/**
 * Splits a probe's result into samples the collector takes (labels normalised, each change listed in
 * `relabelled`) and the problems of those it would refuse.
 */
export function partitionSamples(samples: readonly unknown[]): {
  valid: Sample[];
  problems: string[];
  relabelled: string[];
} {
  const valid: Sample[] = [];
  const problems: string[] = [];
  const relabelled: string[] = [];
  for (const sample of samples) {
    const problem = sampleProblem(sample);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const { sample: s, changed } = normaliseSampleLabels(sample as Sample);
    relabelled.push(...changed);
    valid.push(s);
  }
  return { valid, problems, relabelled };
}
