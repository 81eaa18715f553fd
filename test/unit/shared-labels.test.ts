// One rule for labels (issue 14 §4): what a school, commune, ISP, target or access point name may hold.
import { describe, expect, it } from 'vitest';
import { tagValueProblem } from '../../collector/line-protocol.ts';
import {
  EMPTY_LABEL,
  labelFromProbe,
  labelProblem,
  MAX_LABEL_CHARS,
  normaliseLabel,
} from '../../shared/labels.ts';

const AWKWARD = [
  'trailing\\',
  'two\\\\',
  'newline\nname',
  'crlf\r\nx',
  'tab\tcommune',
  'Orange\\',
  'serveur ENT\\',
  ' edge ',
  'E\u0301cole',
  'nul\u0000byte',
  'del\u007f',
  'c1\u0085next line',
  'para\u2029graph',
  '\n\t\\',
  '',
  '\\',
  'x'.repeat(MAX_LABEL_CHARS + 5),
  `${'y'.repeat(MAX_LABEL_CHARS - 1)} \\tail`,
];

describe('labels', () => {
  it.each(AWKWARD)('refuses %j with a reason, and normalises it to a label InfluxDB stores', (text) => {
    expect(labelProblem(text)).not.toBeNull();
    const label = normaliseLabel(text);
    expect(labelProblem(label)).toBeNull();
    expect(tagValueProblem(label)).toBeNull();
    expect(normaliseLabel(label)).toBe(label);
  });

  it('keeps labels as they are: accents, emoji, punctuation, inner backslashes', () => {
    for (const ok of ['École Saint-Exupéry, Vienne', '🎒 a=b "c"', 'C:\\temp', 'a\\,b', 'ÉCOLE'])
      expect([labelProblem(ok), normaliseLabel(ok)]).toEqual([null, ok]);
  });

  it('says what is wrong, where', () => {
    expect(labelProblem('trailing\\')).toMatch(/ends with a backslash/);
    expect(labelProblem('newline\nname')).toBe('contains a line break at character 8');
    expect(labelProblem('Saint\tJean')).toBe('contains a tab at character 6');
    expect(labelProblem('x\u0085')).toMatch(/control character \(U\+0085\)/);
    expect(labelProblem(' x')).toMatch(/space/);
    expect(labelProblem('E\u0301cole')).toMatch(/NFD/);
  });

  it('normalises runs of spaces and controls to one space, drops trailing backslashes, fills the empty', () => {
    expect(normaliseLabel('newline\nname')).toBe('newline name');
    expect(normaliseLabel('a \t\r\n b')).toBe('a b');
    expect(normaliseLabel('serveur ENT\\')).toBe('serveur ENT');
    expect(normaliseLabel('two\\\\')).toBe('two');
    expect(normaliseLabel('E\u0301cole')).toBe('École');
    expect(normaliseLabel('\n\t\\')).toBe(EMPTY_LABEL);
    expect([...normaliseLabel('x'.repeat(MAX_LABEL_CHARS + 5))]).toHaveLength(MAX_LABEL_CHARS);
  });

  it('counts what a probe result needed changed', () => {
    const counts: Record<string, number> = {};
    expect(labelFromProbe('AP\\', 'ap', counts)).toBe('AP');
    expect(labelFromProbe('AP 2', 'ap', counts)).toBe('AP 2');
    expect(counts).toEqual({ ap: 1 });
  });
});
