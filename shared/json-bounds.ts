// How deep and how wide a JSON text is, read from its bytes before JSON.parse. JSON.parse copes with
// any depth, but a recursive walk of its result (ajv, ours) overflows the stack on a 40 kB message of
// nested arrays; and every walk pays for a wide one. One pass, no allocation but a counter per level.

export interface JsonBounds {
  /** Most nested arrays and objects; the root object is level 1. */
  maxDepth: number;
  /** Most entries (array items or object members) in any one array or object. */
  maxEntries: number;
}

export interface JsonShapeProblem {
  reason: 'too_deep' | 'too_many_entries';
  /** Says which bound and where (byte offset in the payload). */
  error: string;
}

/** What each byte is to the scan; 0 for every byte it passes over (most of them). */
const QUOTE = 1;
const OPEN = 2;
const CLOSE = 3;
const COMMA = 4;
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[0x22] = QUOTE;
BYTE_CLASS[0x5b] = OPEN;
BYTE_CLASS[0x7b] = OPEN;
BYTE_CLASS[0x5d] = CLOSE;
BYTE_CLASS[0x7d] = CLOSE;
BYTE_CLASS[0x2c] = COMMA;

/**
 * The first bound a UTF-8 JSON text breaks, or null. Brackets and commas inside strings (escapes
 * included) are skipped; UTF-8 never puts these ASCII bytes inside a multi-byte character. Malformed
 * text is not judged here: JSON.parse says what is wrong with it. Never throws; O(bytes), a fraction
 * of JSON.parse's time, and it spares JSON.parse a deep payload (which it parses slowly).
 */
export function jsonShapeProblem(text: Uint8Array, bounds: JsonBounds): JsonShapeProblem | null {
  const commas = new Uint32Array(bounds.maxDepth + 1);
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const kind = BYTE_CLASS[text[i]!];
    if (kind === 0) continue;
    if (kind === QUOTE) {
      for (i++; i < n; i++) {
        const c = text[i];
        if (c === 0x5c) i++;
        else if (c === 0x22) break;
      }
    } else if (kind === OPEN) {
      if (depth === bounds.maxDepth)
        return {
          reason: 'too_deep',
          error: `arrays and objects nested deeper than ${bounds.maxDepth} levels (byte ${i})`,
        };
      commas[++depth] = 0;
    } else if (kind === CLOSE) {
      if (depth === 0) return null; // unbalanced: JSON.parse reports it
      depth--;
    } else if (depth > 0 && ++commas[depth]! >= bounds.maxEntries) {
      return {
        reason: 'too_many_entries',
        error: `more than ${bounds.maxEntries} entries in one array or object (byte ${i})`,
      };
    }
  }
  return null;
}
