import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveCollectorConfig } from '../../collector/config.ts';
import { LOG_EVERY_MS, shouldLog } from '../../collector/dead-letters.ts';
import { continuousQuery, rollupStatement, rollups } from '../../collector/retention.ts';
import { SAMPLE_MEASUREMENTS } from '../../collector/schema.ts';
import { renderSchemaDoc } from '../../collector/schema-doc.ts';
import { backoffMs } from '../../collector/shipper.ts';

describe('collector policies', () => {
  it('backs off exponentially, capped, with bounded jitter', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 100, 1000, mid))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(50, 100, 1000, () => 0)).toBe(800);
    expect(backoffMs(50, 100, 1000, () => 1)).toBe(1200);
  });

  it('logs a refusal reason at most once a minute', () => {
    expect(shouldLog(undefined, 0)).toBe(true);
    expect(shouldLog(1000, 1000 + LOG_EVERY_MS - 1)).toBe(false);
    expect(shouldLog(1000, 1000 + LOG_EVERY_MS)).toBe(true);
  });

  it('rolls every sample measurement up at the configured interval, booleans as counts', () => {
    const cfg = resolveCollectorConfig({}).retention;
    const all = rollups();
    for (const spec of Object.values(SAMPLE_MEASUREMENTS)) {
      expect(all.map((r) => r.name)).toContain(`vigie_${spec.measurement}`);
    }
    const wifiUp = all.find((r) => r.name === 'vigie_wifi_up_true')!;
    expect(continuousQuery('vigie', cfg, wifiUp)).toBe(
      'CREATE CONTINUOUS QUERY "vigie_wifi_up_true" ON "vigie" BEGIN SELECT count("up") AS "up_true" ' +
        'INTO "vigie"."long"."wifi" FROM "vigie"."raw"."wifi" WHERE "up" = true GROUP BY time(5m), * END',
    );
    // Outages are written at their end, stamped at their start: the rollup looks back as far as the
    // raw policy keeps them (issue 15: 35 days lost every longer outage from the long policy).
    const outage = all.find((r) => r.name === 'vigie_outage')!;
    expect(continuousQuery('vigie', cfg, outage)).toMatch(
      /^CREATE CONTINUOUS QUERY "vigie_outage" ON "vigie" RESAMPLE EVERY 30m FOR 90d BEGIN SELECT first\("duration_s"\)/,
    );
    const longer = { ...cfg, raw: { ...cfg.raw, duration: '400d' } };
    expect(continuousQuery('vigie', longer, outage)).toContain('RESAMPLE EVERY 30m FOR 400d');
    expect(continuousQuery('vigie', cfg, all.find((r) => r.name === 'vigie_presence')!)).not.toContain(
      'RESAMPLE',
    );
    expect(rollupStatement('vigie', cfg, wifiUp, 'time >= 0')).toBe(
      'SELECT count("up") AS "up_true" INTO "vigie"."long"."wifi" FROM "vigie"."raw"."wifi" ' +
        'WHERE "up" = true AND time >= 0 GROUP BY time(5m), *',
    );
    const ping = all.find((r) => r.name === 'vigie_ping')!;
    expect(ping.select).toContain('mean("loss_pct") AS "loss_pct"');
    expect(ping.select).not.toContain('"error"');
  });

  it('fills config defaults and names a bad key', () => {
    const cfg = resolveCollectorConfig({ influx: { url: 'http://db:8086' } });
    expect(cfg.influx.database).toBe('vigie');
    expect(cfg.wal.maxBytes).toBeGreaterThan(0);
    expect(cfg.retention.rollup.interval).toBe('5m');
    expect(() => resolveCollectorConfig({ wal: { maxBytes: 'lots' } })).toThrow(/wal\/maxBytes/);
  });
});

describe('schema document', () => {
  it('docs/influx-schema.md is what collector/schema-doc.ts renders from the schema table', () => {
    const doc = readFileSync(new URL('../../docs/influx-schema.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderSchemaDoc());
  });
});
