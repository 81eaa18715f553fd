import { describe, expect, it } from 'vitest';
import { isUai, parseUai, uaiCheckLetter, uaiProblem } from '../../shared/uai.ts';

// A valid UAI for any 7 digits, computed from the rule itself: "ABCDEFGHJKLMNPRSTUVWXYZ"[n % 23].
const valid = (digits: string) => digits + 'ABCDEFGHJKLMNPRSTUVWXYZ'[Number(digits) % 23];

describe('UAI', () => {
  it('accepts UAIs whose letter follows the rule, across départements', () => {
    for (const uai of ['0690001B', '0750001U', '0691662G', '0380042P', '0130007M'])
      expect(uaiProblem(uai), uai).toBeNull();
    expect(valid('0010001')).toBe('0010001W');
  });

  it('computes the check letter from the first 7 digits modulo 23, skipping I, O and Q', () => {
    expect(uaiCheckLetter('0000000')).toBe('A');
    expect(uaiCheckLetter('0000008')).toBe('J');
    expect(uaiCheckLetter('0000022')).toBe('Z');
    expect(uaiCheckLetter('0000023')).toBe('A');
  });

  it('rejects a wrong check letter and says which one was expected', () => {
    const good = valid('0690001');
    const wrong = good.slice(0, 7) + (good[7] === 'A' ? 'B' : 'A');
    expect(uaiProblem(wrong)).toMatch(/wrong UAI check letter.*expected B/);
    expect(() => parseUai(wrong)).toThrow(/check letter/);
  });

  it('keeps leading zeros: a UAI is a string, a number is refused', () => {
    const uai = parseUai('0010001W');
    expect(uai.startsWith('00')).toBe(true);
    expect(uaiProblem(10001)).toMatch(/must be a string/);
  });

  it('rejects wrong lengths, letters among the digits and lower-case letters', () => {
    expect(uaiProblem('069001B')).toMatch(/8 characters/);
    expect(uaiProblem('06900011B')).toMatch(/8 characters/);
    expect(uaiProblem('06A0001B')).toMatch(/7 digits/);
    expect(uaiProblem('0690001b')).toMatch(/upper case/);
    expect(isUai('0690001B')).toBe(true);
    expect(isUai('')).toBe(false);
  });
});
