// `vigie report` against the wrong database: a name no collector ever wrote to, or one without the
// collector's retention policies. Said plainly and non-zero, not an empty report with exit 0 nor a
// raw InfluxQL error.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildReport } from '../../report/run.ts';
import { tempDir } from '../harness/daemon.ts';
import { type InfluxHandle, startInfluxdb } from '../harness/influxdb.ts';

let influx: InfluxHandle;
const dir = tempDir('report-empty');

const configFor = (database: string) => {
  const file = join(dir, `${database}.yaml`);
  writeFileSync(file, stringify({ collector: { influx: { url: influx.url, database } } }));
  return file;
};

beforeAll(async () => {
  influx = await startInfluxdb();
  // A database that exists but was never set up by a collector (no "raw"/"long" policies).
  const res = await fetch(`${influx.url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: 'CREATE DATABASE "bare"' }),
  });
  expect(res.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await influx?.daemon.dispose();
});

describe('vigie report against the wrong database', () => {
  it('a database nobody wrote to: no empty report, a message naming it', async () => {
    const out = join(dir, 'out-missing');
    await expect(
      buildReport({ config: configFor('vigie_typo'), month: '2026-11', lang: 'fr', out, pdf: false }),
    ).rejects.toThrow(/no school in database "vigie_typo".*collector\.influx\.database/);
    expect(existsSync(join(out, 'schools-monthly.csv'))).toBe(false);
  });

  it('a database without the collector retention policies: asks whether a collector ran on it', async () => {
    await expect(
      buildReport({
        config: configFor('bare'),
        month: '2026-11',
        lang: 'fr',
        out: join(dir, 'out-bare'),
        pdf: false,
      }),
    ).rejects.toThrow(/database "bare" has no retention policy "raw".*has a collector ever run on it/);
  });
});
