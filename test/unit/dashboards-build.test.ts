// The build: deterministic, valid Grafana dashboard JSON, provisioning that resolves, thresholds and
// languages wired, every query well-formed once Grafana's variables are substituted.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../cli/main.ts';
import { DEFAULT_THRESHOLDS, mergeThresholdLevels } from '../../collector/thresholds.ts';
import { buildDashboards, buildFiles, DEFAULT_BUILD, writeFiles } from '../../dashboards/build.ts';
import { f, m } from '../../dashboards/kit.ts';
import {
  DASHBOARDS_DIR,
  DATASOURCE_FILE,
  GRAFANA_PROVISIONING_ROOT,
  PROVIDER_FILE,
} from '../../dashboards/provisioning.ts';
import {
  dashboardQueries,
  interpolate,
  type ResolvedVariable,
  variableDefs,
} from '../harness/grafana-queries.ts';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `vigie-${name}-`));

function allPanels(dashboard: Dashboard): (Panel | RowPanel)[] {
  const out: (Panel | RowPanel)[] = [];
  for (const p of dashboard.panels ?? []) {
    out.push(p);
    if (p.type === 'row') out.push(...((p as RowPanel).panels ?? []));
  }
  return out;
}

function filesIn(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesIn(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

describe('dashboards build', () => {
  it('is deterministic: two builds write identical files', () => {
    const [a, b] = [tmp('dash-a'), tmp('dash-b')];
    writeFiles(a, buildFiles(DEFAULT_BUILD));
    writeFiles(b, buildFiles(DEFAULT_BUILD));
    const names = filesIn(a).sort();
    expect(filesIn(b).sort()).toEqual(names);
    expect(names.length).toBe(6);
    for (const name of names) expect(readFileSync(join(b, name)), name).toEqual(readFileSync(join(a, name)));
  });

  it('deploy/grafana holds exactly the default build (run `npm run dashboards:build` after a change)', () => {
    const committed = join(import.meta.dirname, '../../deploy/grafana');
    const files = buildFiles(DEFAULT_BUILD);
    expect(filesIn(committed).sort()).toEqual([...files.keys()].sort());
    for (const [path, content] of files)
      expect(readFileSync(join(committed, path), 'utf8'), path).toBe(content);
  });

  it('provisioning refers only to what the build writes: the datasource every query names, the dashboards folder', () => {
    const out = tmp('dash-prov');
    const files = buildFiles(DEFAULT_BUILD);
    writeFiles(out, files);
    const ds = parse(readFileSync(join(out, DATASOURCE_FILE), 'utf8'));
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toHaveLength(1);
    const source = ds.datasources[0];
    expect(source).toMatchObject({ type: 'influxdb', access: 'proxy', url: DEFAULT_BUILD.influxUrl });
    expect(source.jsonData).toMatchObject({ version: 'InfluxQL', dbName: 'vigie' });

    const provider = parse(readFileSync(join(out, PROVIDER_FILE), 'utf8')).providers[0];
    expect(provider.type).toBe('file');
    const path: string = provider.options.path;
    expect(path.startsWith(`${GRAFANA_PROVISIONING_ROOT}/`)).toBe(true);
    const local = join(out, path.slice(GRAFANA_PROVISIONING_ROOT.length + 1));
    expect(local).toBe(join(out, DASHBOARDS_DIR));
    const jsons = readdirSync(local).sort();
    expect(jsons).toEqual(['agents.json', 'continuity.json', 'fleet.json', 'school.json']);

    const uids = new Set<string>();
    for (const file of jsons) {
      const d = JSON.parse(readFileSync(join(local, file), 'utf8')) as Dashboard;
      expect(typeof d.schemaVersion).toBe('number');
      expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(d.uid).toMatch(/^vigie-[a-z]+$/);
      expect(uids.has(d.uid!)).toBe(false);
      uids.add(d.uid!);
      const panels = allPanels(d);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, `${file}: unique panel ids`).toBe(ids.length);
      expect(ids.every((id) => Number.isInteger(id) && id! > 0)).toBe(true);
      for (const p of panels) {
        expect(p.gridPos!.x + p.gridPos!.w, `${file} #${p.id} fits the grid`).toBeLessThanOrEqual(24);
        if (p.type === 'row') continue;
        const panel = p as Panel;
        expect(panel.title, `${file} #${p.id} title`).toBeTruthy();
        expect(panel.description, `${file} #${p.id} description`).toBeTruthy();
        expect(panel.datasource?.uid).toBe(source.uid);
        const targets = (panel.targets ?? []) as unknown as {
          refId: string;
          datasource: { uid: string; type: string };
          query: string;
          rawQuery: boolean;
          resultFormat: string;
        }[];
        expect(targets.length, `${file} #${p.id} has queries`).toBeGreaterThan(0);
        expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length);
        for (const t of targets) {
          expect(t.datasource).toEqual({ type: source.type, uid: source.uid });
          expect(t.rawQuery).toBe(true);
          expect(['time_series', 'table']).toContain(t.resultFormat);
          expect(t.query).toMatch(/^SELECT /);
        }
      }
      for (const v of d.templating?.list ?? []) expect(v.datasource?.uid).toBe(source.uid);
      for (const a of d.annotations?.list ?? []) expect(a.datasource?.uid).toBe(source.uid);
      expect(d.links?.length, `${file}: links to the other dashboards`).toBe(1);
    }
  });

  it('every query takes Grafana variables it declares, and a time-bucketed query is time-filtered', () => {
    for (const [name, d] of Object.entries(buildDashboards({ lang: 'en', thresholds: DEFAULT_THRESHOLDS }))) {
      const variables: ResolvedVariable[] = variableDefs(d).map((def) => ({
        def,
        options: ['x'],
        selection: { all: true },
      }));
      for (const q of dashboardQueries(d)) {
        const sent = interpolate(q.query, { range: { from: 0, to: 3_600_000 }, variables });
        expect(sent, `${name} #${q.panelId}`).not.toMatch(/\$\w|\[\[/);
        // Bounded by the dashboard's period, or by its edges (a state taken just before $__from or $__to).
        if (/GROUP BY time\(/.test(q.query))
          expect(q.query, `${name} #${q.panelId}`).toMatch(/\$timeFilter|\$\{__(from|to)\}ms/);
        if (q.repeat) expect(variables.map((v) => v.def.name)).toContain(q.repeat);
      }
    }
  });

  it('reads the thresholds it is given, the same ones the alert policy uses', () => {
    const titled = (d: Dashboard, title: string) =>
      allPanels(d).find((p) => (p as Panel).title === title) as Panel;
    const latency = (thresholds: typeof DEFAULT_THRESHOLDS) =>
      titled(
        buildDashboards({ lang: 'en', thresholds })['fleet']!,
        'Latency to the internet: worst school and median',
      ).fieldConfig!.defaults.thresholds!.steps.map((s) => s.value);
    expect(latency(DEFAULT_THRESHOLDS)).toEqual([
      null,
      DEFAULT_THRESHOLDS.latencyMs.warn,
      DEFAULT_THRESHOLDS.latencyMs.crit,
    ]);
    const custom = mergeThresholdLevels(DEFAULT_THRESHOLDS, { latencyMs: { warn: 33 } });
    expect(custom.latencyMs).toEqual({ warn: 33, crit: DEFAULT_THRESHOLDS.latencyMs.crit });
    expect(latency(custom)).toEqual([null, 33, DEFAULT_THRESHOLDS.latencyMs.crit]);
  });

  it('speaks French or English, every title and description translated', () => {
    const texts = (lang: 'fr' | 'en') =>
      Object.values(buildDashboards({ lang, thresholds: DEFAULT_THRESHOLDS })).flatMap((d) => [
        d.title ?? '',
        ...allPanels(d).flatMap((p) => [(p as Panel).title ?? '', (p as Panel).description ?? '']),
      ]);
    const [fr, en] = [texts('fr'), texts('en')];
    expect(fr.length).toBe(en.length);
    expect(fr.some((t) => t.includes('École'))).toBe(true);
    expect(en.some((t) => t.includes('School'))).toBe(true);
    const same = fr.filter((t, i) => t === en[i] && t !== '');
    // Words that are the same in both languages (Wi-Fi, Agents, UAI...) are the only ones allowed to match.
    expect(
      same.every((t) => t.length <= 'Vigie — Agents'.length),
      same.join(' | '),
    ).toBe(true);
  });

  it('names only measurements, fields and tags the collector schema has', () => {
    expect(() => m('pings')).toThrow(/not in collector\/schema.ts/);
    expect(() => f('ping', 'rtt_ms')).toThrow(/field "rtt_ms" is not in measurement "ping"/);
    expect(f('ping', 'median_ms')).toBe('"median_ms"');
  });
});

describe('vigie dashboards build', () => {
  it('writes the files and says so', async () => {
    const out = tmp('dash-cli');
    expect(await main(['node', 'vigie', 'dashboards', 'build', '--out', out, '--lang', 'en'])).toBe(0);
    const fleet = JSON.parse(readFileSync(join(out, DASHBOARDS_DIR, 'fleet.json'), 'utf8'));
    expect(fleet.title).toBe('Vigie — School fleet');
  });

  it('takes the thresholds of a config file, and refuses an invalid one', async () => {
    const dir = tmp('dash-cli-config');
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'collector:\n  alerts:\n    thresholds:\n      latencyMs: { warn: 33, crit: 250 }\n');
    const out = join(dir, 'out');
    expect(await main(['node', 'vigie', 'dashboards', 'build', '--out', out, '--config', good])).toBe(0);
    const fleet = JSON.parse(readFileSync(join(out, DASHBOARDS_DIR, 'fleet.json'), 'utf8')) as Dashboard;
    const steps = (allPanels(fleet) as Panel[]).find((p) => p.title?.startsWith('Latence'))!.fieldConfig!
      .defaults.thresholds!.steps;
    expect(steps.map((s) => s.value)).toEqual([null, 33, 250]);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'collector:\n  alerts:\n    thresholds:\n      latencyMs: { warn: fast, crit: 250 }\n',
    );
    expect(
      await main(['node', 'vigie', 'dashboards', 'build', '--out', join(dir, 'bad'), '--config', bad]),
    ).toBe(2);
  });

  it('refuses an unknown language and a bad URL with exit code 2', async () => {
    const out = tmp('dash-cli-bad');
    expect(await main(['node', 'vigie', 'dashboards', 'build', '--out', out, '--lang', 'de'])).toBe(2);
    expect(
      await main(['node', 'vigie', 'dashboards', 'build', '--out', out, '--influx-url', 'influxdb:8086']),
    ).toBe(2);
    expect(readdirSync(out)).toEqual([]);
  });
});
