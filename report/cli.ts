import type { Command } from 'commander';

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description(
      'availability and quality figures per school, commune and ISP for a period: report.html, report.pdf, ' +
        'schools-monthly.csv and .json (docs/report.md) / chiffres de disponibilité et de qualité',
    )
    .requiredOption('--config <file>', 'the Vigie config file (its collector section: InfluxDB, calendar)')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .option('--school-year <years>', 'a school year, e.g. 2025-2026 (default: the current one)')
    .option('--month <month>', 'a calendar month, e.g. 2026-11')
    .option('--from <date>', 'first day YYYY-MM-DD (with --to)')
    .option('--to <date>', 'last day YYYY-MM-DD, inclusive')
    .option('--commune <name>', 'only the schools of this commune')
    .option('--isp <name>', 'only the schools of this ISP')
    .option('--lang <lang>', 'fr or en', 'fr')
    .option('--annotations <file>', 'corrections (YAML): excluded windows, reclassified outages')
    .option('--target <pct>', 'availability target in school hours, percent', '99')
    .option('--as-of <time>', 'figures as they stood at this local time (reproducible reports)')
    .option('--no-pdf', 'skip report.pdf (no Chromium needed)')
    .option('--no-html', 'only the open data files')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { runReport } = await import('./run.ts');
      const s = (k: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
      process.exitCode = await runReport({
        config: s('config')!,
        out: s('out')!,
        lang: s('lang') ?? 'fr',
        ...Object.fromEntries(
          (['from', 'to', 'month', 'schoolYear', 'commune', 'isp', 'annotations', 'asOf', 'target'] as const)
            .filter((k) => s(k) !== undefined)
            .map((k) => [k, s(k)]),
        ),
        pdf: opts['pdf'] !== false,
        html: opts['html'] !== false,
      });
    });
}
