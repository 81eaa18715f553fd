import { describe, expect, it } from 'vitest';
import { parseRegistry, type RegistryError } from '../../shared/registry.ts';

const CSV = `uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps,hours
0690001B,"École Saint-Exupéry, Vienne",Vienne,45.525,4.874,Orange,100,20,closed-wednesday
0380042P,École du Centre,Vienne,45.52,4.87,Free,"8,5",1,
`;

describe('school registry', () => {
  it('loads CSV with accents, quoted commas, decimal commas and a default hours profile', () => {
    const schools = parseRegistry('schools.csv', CSV);
    expect(schools.size).toBe(2);
    expect(schools.get('0690001B' as never)).toEqual({
      uai: '0690001B',
      name: 'École Saint-Exupéry, Vienne',
      commune: 'Vienne',
      lat: 45.525,
      lon: 4.874,
      isp: 'Orange',
      contractedDownMbps: 100,
      contractedUpMbps: 20,
      hours: 'closed-wednesday',
    });
    expect(schools.get('0380042P' as never)).toMatchObject({ contractedDownMbps: 8.5, hours: 'school' });
  });

  it('loads YAML and keeps leading zeros', () => {
    const yaml = `schools:
  - { uai: "0010001W", name: École, commune: Ain, lat: 46, lon: 5, isp: SFR, contractedDownMbps: 30, contractedUpMbps: 5 }
`;
    const schools = parseRegistry('schools.yaml', yaml);
    expect([...schools.keys()]).toEqual(['0010001W']);
  });

  it('names the line and the problem for each bad row, and refuses duplicates', () => {
    const bad = `${CSV}0690001A,X,Vienne,45,4,Orange,10,1,school
0690001B,Again,Vienne,45,4,Orange,10,1,school
0750001U,Y,Paris,91,2,Orange,10,1,school
`;
    let error: RegistryError | undefined;
    try {
      parseRegistry('schools.csv', bad);
    } catch (err) {
      error = err as RegistryError;
    }
    expect(error?.problems).toEqual([
      'line 4: /uai: wrong UAI check letter in "0690001A": expected B, got A',
      'line 5: UAI 0690001B is listed twice',
      'line 6: /lat: must be <= 90',
    ]);
    expect(error?.message).toContain('schools.csv: line 4');
  });

  it('names an unknown column', () => {
    expect(() => parseRegistry('s.csv', 'uai,nom\n0690001B,x\n')).toThrow(/unknown column "nom"/);
  });
});
