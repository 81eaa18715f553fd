// The config samples in agent/probes/README.md are valid: documentation that cannot drift.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveProbesConfig } from '../../agent/probes/config.ts';
import { SAMPLE_MEASUREMENTS } from '../../collector/schema.ts';
import { PROBE_KINDS } from '../../shared/schemas.ts';

const readme = readFileSync(new URL('../../agent/probes/README.md', import.meta.url), 'utf8');
const samples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('probes README', () => {
  it('has one config sample per probe, each accepted by ProbesConfig', () => {
    const sections = samples.map((text) => parse(text) as Record<string, unknown>);
    expect(sections.flatMap((s) => Object.keys(s)).sort()).toEqual([...PROBE_KINDS].sort());
    for (const section of sections) expect(() => resolveProbesConfig(section)).not.toThrow();
  });

  it('names every InfluxDB field each probe writes', () => {
    for (const spec of Object.values(SAMPLE_MEASUREMENTS)) {
      for (const field of Object.keys(spec.fields))
        expect(readme, `${spec.measurement}.${field}`).toContain(`\`${field}\``);
    }
  });
});
