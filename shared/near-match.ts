// "Did you mean …?" for a name typed by a person (an alert kind, a commune, an hours profile).
import { distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `typed` by Levenshtein distance, compared without case or accents, when
 * it is close enough to be a typo: at most 2 edits, or a third of the longer name's length.
 * undefined when nothing is that close.
 */
export function nearMatch(typed: string, candidates: Iterable<string>): string | undefined {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const t = fold(typed);
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = distance(t, fold(name));
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(2, Math.floor(Math.max(t.length, best.name.length) / 3)) ? best.name : undefined;
}

/** ` (did you mean "X"?)`, or nothing. */
export const didYouMean = (typed: string, candidates: Iterable<string>): string => {
  const near = nearMatch(typed, candidates);
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
};
