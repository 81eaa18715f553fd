// Samples gathered between two flushes become one or more metrics batches, each under the size the
// collector accepts.
import { MAX_PAYLOAD_BYTES, type Sample } from '../shared/schemas.ts';

export const MAX_SAMPLES_PER_BATCH = 2000;
/** Room left for the envelope: v, uai, agent, seq and t at their longest. */
const ENVELOPE_BYTES = 256;

/**
 * Splits samples, in order, into groups whose batch payload stays under `maxBytes`. A sample that
 * alone would not fit is returned apart in `oversize` (it cannot be sent at all).
 */
export function splitSamples(
  samples: readonly Sample[],
  maxBytes = MAX_PAYLOAD_BYTES,
  maxItems = MAX_SAMPLES_PER_BATCH,
): { groups: Sample[][]; oversize: Sample[] } {
  const groups: Sample[][] = [];
  const oversize: Sample[] = [];
  let group: Sample[] = [];
  let size = ENVELOPE_BYTES;
  for (const sample of samples) {
    const bytes = Buffer.byteLength(JSON.stringify(sample)) + 1; // + the comma
    if (ENVELOPE_BYTES + bytes > maxBytes) {
      oversize.push(sample);
      continue;
    }
    if (group.length >= maxItems || size + bytes > maxBytes) {
      groups.push(group);
      group = [];
      size = ENVELOPE_BYTES;
    }
    group.push(sample);
    size += bytes;
  }
  if (group.length > 0) groups.push(group);
  return { groups, oversize };
}
