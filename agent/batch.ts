// Samples gathered between two flushes become one or more metrics batches, each under the size the
// collector accepts.
import { MAX_PAYLOAD_BYTES, type Sample } from '../shared/schemas.ts';

export const MAX_SAMPLES_PER_BATCH = 2000;
/** Room left for the envelope: v, uai, agent, seq, t, sentAt and lts at their longest (about 200 bytes). */
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

/**
 * The spooled batch as it goes out now: `sentAt` (agent clock, ms) and, when known, `lts` (seconds since
 * the clock was last synchronised) added to its envelope. The collector measures the agent's clock
 * offset from the send time (collector/clock-offset.ts); the spool keeps the batch as built. A payload
 * that is not a JSON object goes out unchanged.
 */
export function stampSend(payload: Buffer, sentAt: number, lts?: number): Buffer {
  if (payload.length < 2 || payload[payload.length - 1] !== 0x7d) return payload;
  const extra = `,"sentAt":${Math.round(sentAt)}${lts === undefined ? '' : `,"lts":${Math.max(0, Math.round(lts))}`}}`;
  return Buffer.concat([payload.subarray(0, payload.length - 1), Buffer.from(extra)]);
}
