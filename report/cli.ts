import type { Command } from 'commander';

/**
 * Commander's usage errors for `vigie report` (unknown option, missing value or option, extra
 * argument), followed by the same in French. `text`: what commander writes, "error: …" and maybe a
 * "(Did you mean --from?)" line. Anything else is passed on as it is.
 */
export function withFrench(text: string): string {
  const suggestion = /\(Did you mean (\S+)\?\)/.exec(text)?.[1];
  const hint = suggestion ? ` (vouliez-vous dire ${suggestion} ?)` : '';
  const rules: [RegExp, (m: RegExpExecArray) => string][] = [
    [/error: unknown option '([^']+)'/, (m) => `erreur : option inconnue « ${m[1]} »${hint}`],
    [/error: option '([^']+)' argument missing/, (m) => `erreur : l'option « ${m[1]} » attend une valeur`],
    [
      /error: required option '([^']+)' not specified/,
      (m) => `erreur : l'option « ${m[1]} » est obligatoire`,
    ],
    [
      /error: too many arguments/,
      () => "erreur : trop d'arguments ; les valeurs suivent leur option (--from 2026-09-01)",
    ],
  ];
  for (const [re, fr] of rules) {
    const m = re.exec(text);
    if (m) return `${text.trimEnd()}\n${fr(m)}\n(vigie report --help)\n`;
  }
  return text;
}

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
    .option(
      '--target <pct>',
      'availability target in school hours, percent (default: collector.report.targetPct, 99)',
    )
    .option(
      '--as-of <time>',
      'figures as they stood at this local time, YYYY-MM-DD HH:MM or a day (its 00:00) (reproducible reports)',
    )
    .option('--no-pdf', 'skip report.pdf (no Chromium needed)')
    .option('--no-html', 'only the open data files')
    .configureOutput({ outputError: (text, write) => write(withFrench(text)) })
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
