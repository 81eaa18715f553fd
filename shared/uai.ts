// A school's UAI (Unité Administrative Immatriculée): 7 digits and a check letter.
// Always a string: "0691234A" keeps its leading zero.

const CHECK_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

declare const uaiBrand: unique symbol;
export type Uai = string & { readonly [uaiBrand]: true };

export const UAI_PATTERN = '^[0-9]{7}[A-HJ-NPR-Z]$';

export function uaiCheckLetter(digits: string): string {
  return CHECK_LETTERS[Number.parseInt(digits, 10) % 23]!;
}

/** Why `value` is not a valid UAI, or null when it is. */
export function uaiProblem(value: unknown): string | null {
  if (typeof value !== 'string') return `a UAI must be a string, got ${typeof value}`;
  if (value.length !== 8) {
    const problem = `a UAI has 8 characters (7 digits + a letter), got ${value.length} in "${value}"`;
    // A spreadsheet reads 0690001B's digits as a number and drops the zeros in front.
    const padded = /^[0-9]{1,6}[A-Z]$/i.test(value) ? value.toUpperCase().padStart(8, '0') : '';
    return padded && isUai(padded)
      ? `${problem}: a spreadsheet probably dropped its leading zero${value.length < 7 ? 's' : ''}; write "${padded}" (and format the column as text)`
      : problem;
  }
  const digits = value.slice(0, 7);
  if (!/^[0-9]{7}$/.test(digits)) return `a UAI starts with 7 digits, got "${digits}"`;
  const letter = value[7]!;
  const expected = uaiCheckLetter(digits);
  if (letter.toUpperCase() !== letter) return `the UAI check letter is upper case, got "${letter}"`;
  if (letter !== expected) return `wrong UAI check letter in "${value}": expected ${expected}, got ${letter}`;
  return null;
}

export function isUai(value: unknown): value is Uai {
  return uaiProblem(value) === null;
}

export function parseUai(value: unknown): Uai {
  const problem = uaiProblem(value);
  if (problem) throw new Error(problem);
  return value as Uai;
}
