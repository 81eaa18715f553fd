// Which registry columns a school needs, and how a wrong value is reported: in the file's own
// column names, with its row, once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadVigieConfig } from '../../cli/config-file.ts';
import { schoolInfoPoints } from '../../collector/school-points.ts';
import { ConfigError } from '../../shared/config.ts';
import { parseRegistry, RegistryError } from '../../shared/registry.ts';

const problems = (name: string, text: string): string[] => {
  try {
    parseRegistry(name, text);
  } catch (err) {
    if (err instanceof RegistryError) return err.problems;
    throw err;
  }
  return [];
};

describe('registry columns', () => {
  it('loads a CSV without lat and lon: coordinates are optional, the school is left off the map', () => {
    const schools = parseRegistry(
      'schools.csv',
      'uai,name,commune,isp,contracted_down_mbps,contracted_up_mbps\n0690001B,École A,Vienne,Orange,100,20\n',
    );
    const school = schools.get('0690001B' as never)!;
    expect(school).toMatchObject({ uai: '0690001B', name: 'École A', hours: 'school' });
    expect(school.lat).toBeUndefined();
    const [point] = schoolInfoPoints(schools.values(), 0);
    expect(point!.fields).not.toHaveProperty('lat');
    expect(point!.fields).toMatchObject({ contracted_down_bps: 100e6 });
  });

  it('accepts an empty lat and lon on one row, and refuses one without the other by its column', () => {
    const csv = `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps
0690001B,École A,Vienne,,,Orange,100,20
0380042P,École B,Vienne,45.5,,Free,8,1
`;
    expect(problems('schools.csv', csv)).toEqual([
      'line 3, column lon (E): missing (lat is given: give both or neither)',
    ]);
  });

  it('names a missing value by the CSV column, never by the internal key, once per cell', () => {
    const csv = `uai,name,commune,isp,contracted_down_mbps,contracted_up_mbps
0690001B,École A,Vienne,Orange,,20
`;
    const found = problems('schools.csv', csv);
    expect(found).toEqual(['line 2, column contracted_down_mbps (E): missing (every school needs it)']);
    expect(found.join('\n')).not.toMatch(/contractedDownMbps|missing property/);
  });

  it('still requires the columns a school cannot do without', () => {
    expect(problems('schools.csv', 'uai,name,lat,lon\n0690001B,École A,45,4\n')).toEqual([
      'line 1: no column commune, isp, contracted_down_mbps, contracted_up_mbps (every row needs it)',
    ]);
  });
});

describe('config problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigie-registry-columns-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a wrong ping target role once, with every accepted role', () => {
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      `agent:
  uai: "0690001B"
  id: box
  mqtt: { url: "mqtt://127.0.0.1:1883" }
  probes:
    ping:
      targets:
        - { host: 127.0.0.1, name: gw, role: gatway }
`,
    );
    let error: ConfigError | undefined;
    try {
      loadVigieConfig(file, {});
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = error!.message.split('\n').filter((l) => l.includes('role'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('expected one of "gateway", "resolver", "anchor"');
    expect(lines[0]).toContain('found "gatway"');
  });
});
