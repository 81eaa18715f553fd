// `vigie report`: reads the collector's config (InfluxDB, retention, calendar), the period and
// filters from the command line, queries InfluxDB with a progress line on stderr, and writes the
// report files into --out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { outDirProblem } from '../cli/out-dir.ts';
import { calendarFrom } from '../collector/alerts/schedule.ts';
import { type CollectorConfig, resolveCollectorConfig } from '../collector/config.ts';
import { loadCollectorConfig } from '../collector/config-file.ts';
import {
  type Annotation,
  localDayStartMs,
  monthPeriod,
  type Period,
  schoolYearOf,
  schoolYearPeriod,
} from '../shared/availability/index.ts';
import { ConfigError } from '../shared/config.ts';
import { parseInstant } from '../shared/time.ts';
import { AnnotationsError, loadAnnotations } from './annotations-file.ts';
import { computeReportFromInflux } from './compute.ts';
import type { Report } from './figures.ts';
import { ReportQueryError, reportInflux } from './influx.ts';
import { openDataCsv, openDataJson, openDataRows } from './open-data.ts';

export interface ReportOptions {
  config: string;
  from?: string;
  to?: string;
  month?: string;
  schoolYear?: string;
  commune?: string;
  isp?: string;
  lang: string;
  out: string;
  annotations?: string;
  asOf?: string;
  target?: string;
  pdf?: boolean;
  html?: boolean;
}

/**
 * A usage error of `vigie report` (or of GET /api/report's period): `message` in English (the API's
 * 400 answer), `fr` the same in French; the CLI prints both (`bilingual`).
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly fr: string,
  ) {
    super(message);
  }

  /** "English / français", as the CLI prints it. */
  get bilingual(): string {
    return `${this.message} / ${this.fr}`;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The period the options name, in local time: `--school-year 2025-2026`, `--month 2026-11`, or
 * `--from DATE --to DATE` (first and last day, inclusive); none: the current school year.
 * @throws UsageError naming the option
 */
export function periodFromOptions(
  o: Pick<ReportOptions, 'from' | 'to' | 'month' | 'schoolYear'>,
  timeZone: string,
  nowMs: number,
): Period {
  const given = [
    o.schoolYear !== undefined,
    o.month !== undefined,
    o.from !== undefined || o.to !== undefined,
  ];
  if (given.filter(Boolean).length > 1)
    throw new UsageError(
      'give one of --school-year, --month or --from/--to',
      'donnez une seule période : --school-year, --month ou --from/--to',
    );
  if (o.schoolYear !== undefined) {
    const m = /^(\d{4})-(\d{4})$/.exec(o.schoolYear);
    if (!m || Number(m[2]) !== Number(m[1]) + 1)
      throw new UsageError(
        `--school-year ${o.schoolYear}: write two following years, e.g. 2025-2026`,
        `--school-year ${o.schoolYear} : écrivez deux années qui se suivent, par exemple 2025-2026`,
      );
    return schoolYearPeriod(Number(m[1]), timeZone);
  }
  if (o.month !== undefined) {
    const m = /^(\d{4})-(\d{2})$/.exec(o.month);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 12)
      throw new UsageError(
        `--month ${o.month}: write YYYY-MM, e.g. 2026-11`,
        `--month ${o.month} : écrivez AAAA-MM, par exemple 2026-11`,
      );
    return monthPeriod(Number(m[1]), Number(m[2]), timeZone);
  }
  if (o.from !== undefined || o.to !== undefined) {
    if (!o.from || !o.to || !DATE.test(o.from) || !DATE.test(o.to))
      throw new UsageError(
        '--from and --to: both, as YYYY-MM-DD (first and last day, inclusive)',
        '--from et --to : les deux, au format AAAA-MM-JJ (premier et dernier jour, inclus)',
      );
    const day = (flag: string, date: string): number => {
      try {
        return localDayStartMs(date, timeZone);
      } catch (err) {
        throw new UsageError(
          `${flag} ${date}: ${(err as Error).message}`,
          `${flag} ${date} : ce jour n'existe pas au calendrier`,
        );
      }
    };
    const startMs = day('--from', o.from);
    day('--to', o.to);
    const next = new Date(Date.parse(`${o.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const endMs = day('--to', next);
    if (endMs <= startMs)
      throw new UsageError(
        `--to ${o.to} comes before --from ${o.from}`,
        `--to ${o.to} est avant --from ${o.from}`,
      );
    return { label: `${o.from}_${o.to}`, startMs, endMs };
  }
  return schoolYearPeriod(schoolYearOf(nowMs, timeZone), timeZone);
}

/** The progress line: rewritten in place on a terminal, one line per step otherwise. */
function progressLine(): { step(text: string): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = '';
  return {
    step(text) {
      if (text === last) return;
      last = text;
      process.stderr.write(tty ? `\r\x1b[K${text}` : `${text}\n`);
    },
    done() {
      if (tty && last) process.stderr.write('\n');
    },
  };
}

export interface BuiltReport {
  report: Report;
  files: string[];
}

/** Everything `vigie report` does but the process exit; used by the CLI, the bench and the tests. */
export async function buildReport(opts: ReportOptions, nowMs = Date.now()): Promise<BuiltReport> {
  if (opts.lang !== 'fr' && opts.lang !== 'en')
    throw new UsageError(
      `--lang ${opts.lang}: fr or en`,
      `--lang ${opts.lang} : fr (français) ou en (anglais)`,
    );
  const loaded = loadCollectorConfig(opts.config);
  if (!loaded.config.collector)
    throw new UsageError(
      `${opts.config} has no \`collector:\` section`,
      `${opts.config} n'a pas de section \`collector:\``,
    );
  const config: CollectorConfig = resolveCollectorConfig(loaded.config.collector);
  const calendar = calendarFrom(config.alerts);
  const tz = calendar.timezone;
  const period = periodFromOptions(opts, tz, nowMs);
  let asOfMs = Math.min(nowMs, period.endMs);
  if (opts.asOf !== undefined) {
    // A bare day is its local midnight; HH:MM gets its seconds.
    const text = /^\d{4}-\d{2}-\d{2}$/.test(opts.asOf)
      ? `${opts.asOf}T00:00:00`
      : /[Tt ]\d{2}:\d{2}$/.test(opts.asOf)
        ? `${opts.asOf}:00`
        : opts.asOf;
    const r = parseInstant(text, { timeZone: tz });
    if (!r.ok)
      throw new UsageError(
        `--as-of: ${r.problem}`,
        `--as-of ${opts.asOf} : écrivez une heure locale AAAA-MM-JJ HH:MM`,
      );
    // Before the period begins nothing of it had happened: an empty report, refused. (After now: an
    // outage still open counts up to now only, report/figures.ts.)
    if (r.ms <= period.startMs)
      throw new UsageError(
        `--as-of ${opts.asOf}: before the period begins; nothing of it had happened yet`,
        `--as-of ${opts.asOf} : avant le début de la période ; rien ne s'était encore passé`,
      );
    asOfMs = Math.min(r.ms, period.endMs);
  }
  const targetPct = opts.target === undefined ? config.report.targetPct : Number(opts.target);
  if (!(targetPct >= 0 && targetPct <= 100))
    throw new UsageError(
      `--target ${opts.target}: a percentage 0–100`,
      `--target ${opts.target} : un pourcentage de 0 à 100`,
    );
  const problem = outDirProblem(opts.out);
  if (problem)
    throw new UsageError(
      problem,
      `--out ${opts.out} : un fichier est à cet endroit ou au-dessus ; donnez un dossier (créé s'il manque)`,
    );
  const annotations: Annotation[] = opts.annotations ? loadAnnotations(opts.annotations, tz) : [];

  const progress = progressLine();
  const filter = {
    ...(opts.commune !== undefined ? { commune: opts.commune } : {}),
    ...(opts.isp !== undefined ? { isp: opts.isp } : {}),
  };
  const { report } = await computeReportFromInflux(
    {
      influx: reportInflux(config.influx, Math.max(config.influx.timeoutMs, 120_000)),
      retention: config.retention,
      timeZone: tz,
      startMs: period.startMs,
      endMs: asOfMs,
      nowMs,
      ...filter,
      onProgress: (step, done, total) =>
        progress.step(`vigie report ${period.label}: ${step}${total > 1 ? ` ${done}/${total}` : ''}`),
    },
    { period, calendar, annotations, asOfMs, nowMs, targetPct, filter, quality: config.report.quality },
  );
  for (const warning of [unreadableText(report), unknownProfilesText(report)])
    if (warning) process.stderr.write(`vigie report: ${warning}\n`);
  if (report.schools.length === 0) {
    // A mistyped database or filter would otherwise give an empty report and exit 0.
    const which = [
      opts.commune !== undefined ? `commune "${opts.commune}"` : '',
      opts.isp !== undefined ? `ISP "${opts.isp}"` : '',
    ]
      .filter(Boolean)
      .join(', ');
    throw new ReportQueryError(
      `no school${which ? ` of ${which}` : ''} in database "${config.influx.database}" (no registry point in the raw policy): check collector.influx.database${which ? ' and the filter' : ''} / ` +
        `aucune école${which ? ` (${which})` : ''} dans la base « ${config.influx.database} » : vérifiez collector.influx.database${which ? ' et le filtre' : ''}`,
    );
  }
  mkdirSync(opts.out, { recursive: true });
  const files: string[] = [];
  const write = (name: string, body: string | Buffer) => {
    const path = join(opts.out, name);
    writeFileSync(path, body);
    files.push(path);
  };
  const rows = openDataRows(report);
  write('schools-monthly.csv', openDataCsv(rows));
  write('schools-monthly.json', openDataJson(report, rows));
  if (opts.html !== false) {
    progress.step(`vigie report ${period.label}: report.html`);
    const { reportHtml } = await import('./html.ts');
    const html = reportHtml(report, opts.lang as 'fr' | 'en');
    write('report.html', html);
    if (opts.pdf !== false) {
      progress.step(`vigie report ${period.label}: report.pdf (Chromium)`);
      const { printPdf } = await import('./pdf.ts');
      write('report.pdf', await printPdf(html, opts.lang as 'fr' | 'en'));
    }
  }
  progress.done();
  return { report, files };
}

/**
 * The warning for day rollups that did not decode (their days were read slot by slot), naming the
 * first schools and days; '' when none.
 */
export function unreadableText(report: Pick<Report, 'unreadableDayRollups' | 'timeZone'>): string {
  const u = report.unreadableDayRollups;
  if (!u.count) return '';
  const day = (ms: number) => new Date(ms).toLocaleDateString('sv-SE', { timeZone: report.timeZone });
  const named = u.first.map((f) => `${f.uai} ${day(f.day)} (${f.problem})`).join(', ');
  const more = u.count > u.first.length ? ` … +${u.count - u.first.length}` : '';
  return (
    `warning: ${u.count} day rollup(s) (school_day) could not be read; those days were read slot by slot: ${named}${more} / ` +
    `attention : ${u.count} résumé(s) journalier(s) (school_day) illisible(s) ; ces jours ont été relus tranche par tranche`
  );
}

/**
 * The warning for schools whose hours profile the config lacks (no school-hours figures for them),
 * naming the profiles, their first schools and the key to fix; '' when none.
 */
export function unknownProfilesText(report: Pick<Report, 'unknownHoursProfiles'>): string {
  const list = report.unknownHoursProfiles;
  if (!list.length) return '';
  const named = list
    .map(
      (p) =>
        `"${p.profile}" (${p.uais.slice(0, 5).join(', ')}${p.uais.length > 5 ? ` … +${p.uais.length - 5}` : ''})`,
    )
    .join(', ');
  return (
    `warning: hours profile(s) ${named} not in collector.alerts.hours of this config: those schools have no school-hours figures (not measured) and weigh nothing in the totals; add the profile or fix the registry's hours column / ` +
    `attention : profil(s) horaire(s) ${named} absent(s) de collector.alerts.hours : ces écoles n'ont pas de chiffres en heures d'ouverture (non mesuré) et ne pèsent pas dans les totaux ; ajoutez le profil ou corrigez la colonne hours du registre`
  );
}

export async function runReport(opts: ReportOptions): Promise<number> {
  try {
    const { files } = await buildReport(opts);
    for (const f of files) process.stdout.write(`${f}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigie report: ${err.bilingual}\n`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof AnnotationsError) {
      process.stderr.write(`vigie report: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ReportQueryError) {
      process.stderr.write(`vigie report: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
