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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The first bound a UTF-8 JSON text breaks, or null. Brackets and commas inside strings (escapes
 * included) are skipped; UTF-8 never puts these ASCII bytes inside a multi-byte character. Malformed
 * text is not judged here: JSON.parse says what is wrong with it. Never throws; O(bytes).
 */
export function jsonShapeProblem(text: Uint8Array, bounds: JsonBounds): JsonShapeProblem | null {
  const commas = new Uint32Array(bounds.maxDepth + 1);
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const b = text[i];
    if (b === QUOTE) {
      for (i++; i < text.length; i++) {
        const c = text[i];
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) break;
      }
    } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (depth === bounds.maxDepth)
        return {
          reason: 'too_deep',
          error: `arrays and objects nested deeper than ${bounds.maxDepth} levels (byte ${i})`,
        };
      commas[++depth] = 0;
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      if (depth === 0) return null; // unbalanced: JSON.parse reports it
      depth--;
    } else if (b === COMMA && depth > 0) {
      if (++commas[depth]! >= bounds.maxEntries)
        return {
          reason: 'too_many_entries',
          error: `more than ${bounds.maxEntries} entries in one array or object (byte ${i})`,
        };
    }
  }
  return null;
}
