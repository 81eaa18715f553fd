// Grafana's substitution of InfluxQL template variables, reproduced: what the integration test runs.
import { describe, expect, it } from 'vitest';
import { schoolLabel } from '../../collector/school-points.ts';
import { SCHOOL_LABEL_REGEX } from '../../dashboards/school-info.ts';
import {
  escapeRegex,
  formatInterval,
  formatVariable,
  interpolate,
  roundInterval,
  type VariableDef,
  variableOptions,
} from '../harness/grafana-queries.ts';

const multi: VariableDef = { name: 'commune', query: '', multi: true, includeAll: true, allValue: '.*' };
const single: VariableDef = { name: 'uai', query: '', multi: false, includeAll: false };
const range = { from: 1_700_000_000_000, to: 1_700_003_600_000 };

describe('Grafana InfluxQL variable substitution', () => {
  it('escapes regex characters the way @grafana/data does', () => {
    expect(escapeRegex("L'Isle-d'Abeau (38) a/b.c*")).toBe("L'Isle-d'Abeau \\(38\\) a\\/b\\.c\\*");
  });

  it('multi-valued: one value escaped, several as an alternative group, All as the allValue', () => {
    expect(formatVariable({ def: multi, options: ['a', 'b'], selection: { values: ['Saint-Priest'] } })).toBe(
      'Saint-Priest',
    );
    expect(formatVariable({ def: multi, options: [], selection: { values: ['a.b', 'c (d)'] } })).toBe(
      '(a\\.b|c \\(d\\))',
    );
    expect(formatVariable({ def: multi, options: ['x'], selection: { all: true } })).toBe('.*');
    const noAllValue = { ...multi, allValue: undefined } as unknown as VariableDef;
    expect(formatVariable({ def: noAllValue, options: ['a', 'b'], selection: { all: true } })).toBe('(a|b)');
  });

  it('single-valued: the raw value', () => {
    expect(formatVariable({ def: single, options: [], selection: { values: ['0381234K'] } })).toBe(
      '0381234K',
    );
  });

  it('substitutes $timeFilter, $__interval, $__range_s and every variable syntax', () => {
    const q = interpolate(
      'SELECT mean("x") / $__range_s FROM "ping" WHERE "commune" =~ /^$commune$/ AND "uai" = ' +
        "'$" +
        "{uai}' AND [[uai]] = 1 AND $timeFilter GROUP BY time($__interval)",
      {
        range,
        variables: [
          { def: multi, options: [], selection: { values: ['a', 'b'] } },
          { def: single, options: [], selection: { values: ['0381234K'] } },
        ],
        minIntervalMs: 30_000,
      },
    );
    expect(q).toBe(
      `SELECT mean("x") / 3600 FROM "ping" WHERE "commune" =~ /^(a|b)$/ AND "uai" = '0381234K' AND 0381234K = 1 AND time >= ${range.from}ms and time <= ${range.to}ms GROUP BY time(30s)`,
    );
  });

  it('an unknown variable is an error, not a silent literal', () => {
    expect(() => interpolate('SELECT 1 WHERE "x" = $nope', { range, variables: [] })).toThrow(
      /unknown variable \$nope/,
    );
  });

  it('$__interval follows Grafana: range / points, rounded, never under the minimum', () => {
    expect(roundInterval(3_600_000 / 1000)).toBe(5000);
    expect(roundInterval(86_400_000 / 1000)).toBe(60_000);
    expect(roundInterval((365 * 86_400_000) / 1000)).toBe(21_600_000);
    expect(formatInterval(60_000)).toBe('1m');
    expect(formatInterval(43_200_000)).toBe('12h');
    expect(formatInterval(500)).toBe('500ms');
    expect(interpolate('$__interval', { range, variables: [] })).toBe('5s');
    expect(interpolate('$__interval', { range, variables: [], minIntervalMs: 30_000 })).toBe('30s');
  });

  it('the school picker splits "UAI name" labels into value (UAI) and text (the label)', () => {
    const label = schoolLabel({ uai: '0381234K' as never, name: '  École  élémentaire Saint-Exupéry ' });
    expect(label).toBe('0381234K École élémentaire Saint-Exupéry');
    const def: VariableDef = {
      name: 'uai',
      query: '',
      regex: SCHOOL_LABEL_REGEX,
      multi: false,
      includeAll: false,
    };
    expect(variableOptions(def, [label, 'not a school'])).toEqual([{ value: '0381234K', text: label }]);
    // A school outside the registry by its bare UAI; a registered one keeps its label (the first
    // option of a value wins, as in Grafana), whatever bare UAIs follow.
    expect(variableOptions(def, ['0389999M', label, '0381234K'])).toEqual([
      { value: '0389999M', text: '0389999M' },
      { value: '0381234K', text: label },
    ]);
  });
});
