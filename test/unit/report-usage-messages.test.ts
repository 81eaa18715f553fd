// `vigie report`'s usage errors, as a technician or an official reads them on the terminal: bad
// --from/--to, --school-year, --lang, an unknown option or a missing value, each in English and in
// French, exit code 2. They were English only. The CLI runs in process (cli/main.ts), its stderr read.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { tempDir } from '../harness/daemon.ts';

const dir = tempDir('report-usage');
const config = join(dir, 'vigie.yaml');
// An InfluxDB nobody listens on: every case below is refused before any query.
writeFileSync(config, 'collector:\n  influx: { url: "http://127.0.0.1:9", database: vigie }\n');

/** Runs `vigie report ARGS`; returns the exit code and what went to stderr. */
async function report(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'vigie', 'report', ...args]);
    return { code, stderr };
  } finally {
    process.stderr.write = write;
  }
}

afterEach(() => {
  // runReport sets the exit code of the process it runs in.
  process.exitCode = 0;
});

const base = ['--config', config, '--out', join(dir, 'out')];

describe('vigie report usage errors, in French and English', () => {
  it.each([
    [
      ['--from', '2026-02-30', '--to', '2026-03-01'],
      '--from 2026-02-30: "2026-02-30" is not a day of the calendar',
      "--from 2026-02-30 : ce jour n'existe pas au calendrier",
    ],
    [
      ['--from', '2026-03-02', '--to', '2026-03-01'],
      '--to 2026-03-01 comes before --from 2026-03-02',
      '--to 2026-03-01 est avant --from 2026-03-02',
    ],
    [
      ['--from', '2026-3-1', '--to', '2026-03-05'],
      '--from and --to: both, as YYYY-MM-DD',
      '--from et --to : les deux, au format AAAA-MM-JJ',
    ],
    [['--from', '2026-03-01'], '--from and --to: both', '--from et --to : les deux'],
    [
      ['--school-year', '2025-2027'],
      '--school-year 2025-2027: write two following years, e.g. 2025-2026',
      '--school-year 2025-2027 : écrivez deux années qui se suivent, par exemple 2025-2026',
    ],
    [
      ['--school-year', '2025-2026', '--month', '2026-11'],
      'give one of --school-year, --month or --from/--to',
      'donnez une seule période : --school-year, --month ou --from/--to',
    ],
    [['--lang', 'de'], '--lang de: fr or en', '--lang de : fr (français) ou en (anglais)'],
    [
      ['--month', '2026-11', '--as-of', '2026-10-15 12:00'],
      '--as-of 2026-10-15 12:00: before the period begins',
      '--as-of 2026-10-15 12:00 : avant le début de la période',
    ],
    [['--target', '120'], '--target 120: a percentage 0–100', '--target 120 : un pourcentage de 0 à 100'],
  ])('%j', async (args, en, fr) => {
    const { code, stderr } = await report(...base, ...args);
    expect(code).toBe(2);
    expect(stderr).toContain(en);
    expect(stderr).toContain(fr);
    expect(stderr.startsWith('vigie report: ')).toBe(true);
  });

  it('--as-of as a bare day is that day’s 00:00, not a usage error', async () => {
    // Refused only by the InfluxDB nobody listens on (exit 1), not by the option (exit 2).
    const { code, stderr } = await report(
      ...base,
      '--month',
      '2026-11',
      '--as-of',
      '2026-11-15',
      '--no-html',
    );
    expect(stderr).not.toContain('--as-of');
    expect(code).toBe(1);
  });

  it('an unknown option, with the nearest one suggested in both languages', async () => {
    const { code, stderr } = await report(...base, '--frm', '2026-09-01');
    expect(code).toBe(2);
    expect(stderr).toContain("error: unknown option '--frm'");
    expect(stderr).toContain('(Did you mean --from?)');
    expect(stderr).toContain('erreur : option inconnue « --frm » (vouliez-vous dire --from ?)');
  });

  it('a missing value, a missing required option, a stray argument', async () => {
    const missingValue = await report(...base, '--from');
    expect(missingValue.code).toBe(2);
    expect(missingValue.stderr).toContain("l'option « --from <date> » attend une valeur");
    const noConfig = await report('--out', join(dir, 'out'));
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain("l'option « --config <file> » est obligatoire");
    const stray = await report(...base, '2026-09-01');
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("erreur : trop d'arguments");
  });
});
