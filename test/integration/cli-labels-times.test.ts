// `vigie config check` as a user runs it (issue 14 §2, §4): a name InfluxDB cannot store and a local time
// a DST change skips are refused there, where a person can fix them, with the row, column or key
// named — under any process time zone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vigie-cli-labels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = (name: string, yaml: string, tz: string) => {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return spawnSync(process.execPath, [join(root, 'bin/vigie.js'), 'config', 'check', file], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, TZ: tz },
    timeout: SPAWN_MS,
  });
};

// Each spawn loads the CLI (tsx), seconds when idle but ~40 s on a loaded 2-core machine: few spawns,
// generous budgets.
const SPAWN_MS = 150_000;

describe('vigie config check', { timeout: 2 * SPAWN_MS }, () => {
  it('refuses registry names InfluxDB cannot store, at their line and column, exit 2', () => {
    const csv = join(dir, 'schools.csv');
    writeFileSync(
      csv,
      'uai,name,commune,lat,lon,isp,contracted_down_mbps,contracted_up_mbps\n' +
        '0690001B,trailing\\,Vienne,45.5,4.8,Orange,100,20\n' +
        '0380042P,"newline\nname",Vienne,45.5,4.8,Free,100,20\n',
    );
    const out = check('registry.yaml', `collector:\n  schools: ${csv}\n`, 'UTC');
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(`${csv}: line 2, column name (B): "trailing\\\\" ends with a backslash`);
    expect(out.stderr).toContain(`${csv}: line 3, column name (B): "newline\\nname" contains a line break`);
  });

  it.each(['UTC', 'Pacific/Chatham'])(
    'under TZ=%s: refuses a ping target `serveur ENT\\` and a window the clocks skip, each key named, exit 2',
    (tz) => {
      const out = check(
        'both.yaml',
        'agent:\n  uai: "0690001B"\n  id: box-1\n  probes:\n    ping:\n      targets:\n        - {host: 10.0.0.5, name: "serveur ENT\\\\", role: ent}\n' +
          'collector:\n  alerts:\n    timezone: Europe/Paris\n    maintenance:\n      - {from: "2026-03-29T02:30:00", to: "2026-03-29T05:00:00", isp: [Orange]}\n',
        tz,
      );
      expect(out.status).toBe(2);
      expect(out.stderr).toContain('agent.probes.ping.targets[0].name');
      expect(out.stderr).toContain('collector.alerts.maintenance[0].from');
      expect(out.stderr).toContain('does not exist in Europe/Paris');
    },
  );

  it('accepts the window of the issue, read in Paris time, under TZ=Pacific/Chatham', () => {
    const out = check(
      'ok.yaml',
      'collector:\n  alerts:\n    timezone: Europe/Paris\n    maintenance:\n      - {from: "2026-02-10T20:00:00", to: "2026-02-11T06:00:00", isp: [Orange]}\n',
      'Pacific/Chatham',
    );
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
  });
});
