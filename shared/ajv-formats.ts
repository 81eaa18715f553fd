// Vigie's string formats for ajv, alone in a module: ajv's standalone validators (scripts/build)
// import it, and nothing else of Vigie.
import { isUai } from './uai.ts';

/** `format: 'uai'`: a school UAI, 7 digits and their check letter (shared/uai.ts). */
export const VIGIE_FORMATS = {
  uai: { type: 'string' as const, validate: (v: string) => isUai(v) },
};
