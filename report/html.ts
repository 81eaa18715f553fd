// report.html: one self-contained file (inline CSS and SVG, no script, no external resource) for an
// elected official: a one-page summary, then a page per commune with a line per school, then the
// corrections and the method. French by default. Page breaks are CSS, for report.pdf.
import type { AggregateAvailability, Annotation } from '../shared/availability/index.ts';
import { CAUSE_COLORS, causesChart, monthlyAvailabilityChart, speedChart } from './charts.ts';
import { type GroupReport, median, type Report, type SchoolReport } from './figures.ts';
import type { QualityThresholds } from './quality.ts';

/** A threshold as written in each language (0,5 / 0.5). */
const num = (lang: 'fr' | 'en', v: number): string =>
  lang === 'fr' ? String(v).replace('.', ',') : String(v);

export type Lang = 'fr' | 'en';

const TEXT = {
  fr: {
    title: 'Accès à internet des écoles : disponibilité et qualité',
    period: 'Période',
    asOf: 'Chiffres arrêtés au',
    generated: 'Produit le',
    summary: 'Synthèse',
    fleet: 'Ensemble des écoles',
    schools: 'écoles',
    availability: 'Disponibilité en heures d’ouverture',
    calendarUptime: 'Disponibilité jour et nuit',
    coverage: 'Temps d’ouverture mesuré',
    lost: 'Heures d’enseignement perdues',
    outages: 'Coupures',
    longest: 'Plus longue coupure',
    belowTarget: 'Écoles sous l’objectif',
    target: 'objectif',
    none: 'aucune',
    isps: 'Fournisseurs d’accès et contrats',
    isp: 'Fournisseur',
    commune: 'Commune',
    school: 'École',
    open: 'Heures d’ouverture',
    downMedian: 'Débit descendant médian',
    wifi: 'Wi-Fi (bornes)',
    wifiKpi: 'Disponibilité des bornes Wi-Fi en heures d’ouverture',
    unknownProfile: (profile: string) =>
      `Profil horaire « ${profile} » absent de la configuration : pas de chiffres en heures d’ouverture pour`,
    unreadable: (n: number) =>
      `${n} résumé(s) journalier(s) illisible(s) dans la base : ces jours ont été relus tranche par tranche (chiffres inchangés) :`,
    contract: 'Contrat',
    ofContract: 'du contrat',
    monthly: 'Disponibilité par mois (heures d’ouverture)',
    causes: 'Heures perdues par cause',
    speed: 'Débit mesuré et débit contractuel',
    measured: 'Médiane mesurée',
    cause: { wan_cut: 'Coupure internet', power_or_box: 'Courant ou box', unknown: 'Inconnue' },
    annotations: 'Corrections apportées',
    noAnnotations: 'Aucune correction.',
    exclude: 'Période exclue',
    reclassify: 'Cause corrigée',
    author: 'Auteur',
    reason: 'Raison',
    method: 'Méthode',
    methodText:
      'La disponibilité est la part du temps d’ouverture mesuré pendant laquelle l’accès fonctionnait ; ' +
      'le temps sans aucune donnée n’est jamais compté comme disponible. Les regroupements additionnent les heures ' +
      'des écoles (chaque école pèse son temps d’ouverture) ; on ne fait jamais la moyenne des pourcentages. ' +
      'Chaque chiffre et sa formule : docs/report.md.',
    qualityText: (q: QualityThresholds) =>
      `Qualité, en heures d’ouverture : un créneau de 5 minutes convient à une classe en visio si le RTT médian vers ` +
      `les points de référence est d’au plus ${num('fr', q.videoLatencyMs)} ms et la perte d’au plus ${num('fr', q.videoLossPct)} % ; ` +
      `un test de débit respecte le contrat à ${num('fr', q.contractSharePct)} % du débit descendant contracté au moins. ` +
      `Wi-Fi : part du temps-borne en heures d’ouverture où les bornes étaient en service (joignables, et au ` +
      `moins une radio active quand les radios sont visibles) ; sans interrogation : « — ».`,
    notMeasured: 'non mesuré',
    h: 'h',
    na: '—',
  },
  en: {
    title: 'Schools’ internet access: availability and quality',
    period: 'Period',
    asOf: 'Figures as of',
    generated: 'Produced on',
    summary: 'Summary',
    fleet: 'All schools',
    schools: 'schools',
    availability: 'Availability in school hours',
    calendarUptime: 'Availability day and night',
    coverage: 'Open time measured',
    lost: 'Teaching hours lost',
    outages: 'Outages',
    longest: 'Longest outage',
    belowTarget: 'Schools below target',
    target: 'target',
    none: 'none',
    isps: 'Internet service providers and contracts',
    isp: 'ISP',
    commune: 'Commune',
    school: 'School',
    open: 'Open hours',
    downMedian: 'Median download',
    wifi: 'Wi-Fi (access points)',
    wifiKpi: 'Wi-Fi access points’ availability in school hours',
    unknownProfile: (profile: string) =>
      `Hours profile “${profile}” missing from the configuration: no school-hours figures for`,
    unreadable: (n: number) =>
      `${n} unreadable day rollup(s) in the database: those days were read slot by slot (figures unchanged):`,
    contract: 'Contract',
    ofContract: 'of contract',
    monthly: 'Availability per month (school hours)',
    causes: 'Hours lost by cause',
    speed: 'Measured and contracted download',
    measured: 'Measured median',
    cause: { wan_cut: 'Internet cut', power_or_box: 'Power or box', unknown: 'Unknown' },
    annotations: 'Corrections made',
    noAnnotations: 'No correction.',
    exclude: 'Excluded window',
    reclassify: 'Cause corrected',
    author: 'Author',
    reason: 'Reason',
    method: 'Method',
    methodText:
      'Availability is the share of the measured open time during which the access worked; time with no data ' +
      'is never counted as up. Groups add up the schools’ hours (each school weighs its open time); percentages ' +
      'are never averaged. Every figure and its formula: docs/report.md.',
    qualityText: (q: QualityThresholds) =>
      `Quality, in school hours: a 5-minute slot fits a video class when the median RTT to the anchors is at most ` +
      `${num('en', q.videoLatencyMs)} ms and the loss at most ${num('en', q.videoLossPct)} %; a speed test meets the ` +
      `contract at ${num('en', q.contractSharePct)} % of the contracted download rate or more. ` +
      `Wi-Fi: the share of access-point time in school hours the access points were up (reachable, and at ` +
      `least one radio up where radios are seen); no poll: “—”.`,
    notMeasured: 'not measured',
    h: 'h',
    na: '—',
  },
} as const;

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function formats(lang: Lang, timeZone: string) {
  const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
  const n1 = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const n2 = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const date = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'long' });
  const dateTime = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'medium', timeStyle: 'short' });
  const t = TEXT[lang];
  return {
    pct: (v: number | null) => (v === null ? t.na : `${n2.format(v)} %`),
    hours: (ms: number) => `${n1.format(ms / 3_600_000)} ${t.h}`,
    num: (v: number | null, unit = '') => (v === null ? t.na : `${n1.format(v)}${unit}`),
    date: (ms: number) => date.format(new Date(ms)),
    dateTime: (ms: number) => dateTime.format(new Date(ms)),
  };
}

const CSS = `
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #212121; margin: 0; }
.page { break-after: page; page-break-after: always; padding: 0 2mm; }
.page:last-child { break-after: auto; page-break-after: auto; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h2 { font-size: 14pt; margin: 0 0 6pt; border-bottom: 2px solid #1565c0; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; }
.meta { color: #555; margin-bottom: 8pt; }
.kpis { display: flex; flex-wrap: wrap; gap: 6pt; margin: 6pt 0; }
.kpi { border: 1px solid #ccc; border-radius: 4pt; padding: 4pt 8pt; min-width: 22%; flex: 1; }
.kpi b { display: block; font-size: 15pt; }
.kpi span { color: #555; font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4pt 0; }
th, td { border-bottom: 1px solid #ddd; padding: 2pt 3pt; text-align: right; }
th { background: #eef2f7; }
th:first-child, td:first-child, td.l, th.l { text-align: left; }
tr { break-inside: avoid; }
.bad { color: #c62828; font-weight: bold; }
svg { display: block; margin: 4pt auto; max-width: 100%; height: auto; }
.charts { display: flex; flex-wrap: wrap; justify-content: space-between; }
.small { font-size: 8pt; color: #555; }
`;

function kpis(group: GroupReport, f: ReturnType<typeof formats>, t: (typeof TEXT)[Lang]): string {
  const g: AggregateAvailability = group.total;
  const items: [string, string][] = [
    [f.pct(g.availabilityPct), t.availability],
    [f.hours(g.lostMs), t.lost],
    [f.pct(g.coveragePct), t.coverage],
    [f.pct(g.calendarUptimePct), t.calendarUptime],
    [String(g.outageCount), t.outages],
    [f.hours(g.longestOutageMs), t.longest],
    // Shown only where access points are polled: a fleet without the Wi-Fi probe has nothing to say.
    ...(group.wifi.apAvailabilityPct === null
      ? []
      : ([[f.pct(group.wifi.apAvailabilityPct), t.wifiKpi]] as [string, string][])),
  ];
  return `<div class="kpis">${items.map(([v, l]) => `<div class="kpi"><b>${esc(v)}</b><span>${esc(l)}</span></div>`).join('')}</div>`;
}

function groupCharts(r: Report, g: GroupReport, lang: Lang, width: number): string {
  const t = TEXT[lang];
  const months = g.months.map((m) => m.month);
  return `<div class="charts">${monthlyAvailabilityChart(
    months,
    g.months.map((m) => m.figures.availabilityPct),
    {
      title: t.monthly,
      targetPct: r.targetPct,
      targetLabel: `${t.target} ${r.targetPct} %`,
      width,
      height: 200,
    },
  )}${causesChart(
    months,
    (['wan_cut', 'power_or_box', 'unknown'] as const).map((c) => ({
      name: t.cause[c],
      color: CAUSE_COLORS[c],
      hours: g.months.map((m) => m.figures.lostMsByCause[c] / 3_600_000),
    })),
    { title: t.causes, unit: t.h, width, height: 200 },
  )}</div>`;
}

function schoolTable(schools: SchoolReport[], r: Report, lang: Lang, f: ReturnType<typeof formats>): string {
  const t = TEXT[lang];
  const head = [
    t.school,
    t.isp,
    t.open,
    t.availability,
    t.lost,
    t.outages,
    t.longest,
    t.coverage,
    t.downMedian,
    t.wifi,
  ];
  const rows = schools.map((s) => {
    const a = s.total;
    const bad = a.availabilityPct !== null && a.availabilityPct < r.targetPct;
    const sp = s.speed;
    const speed =
      sp.downMedianMbps === null
        ? t.na
        : `${f.num(sp.downMedianMbps)} / ${f.num(s.contractedDownMbps)} Mbit/s`;
    return `<tr><td class="l">${esc(s.uai)} ${esc(s.name)}</td><td class="l">${esc(s.isp)}</td><td>${f.hours(a.openMs)}</td><td class="${bad ? 'bad' : ''}">${f.pct(a.availabilityPct)}</td><td>${f.hours(a.lostMs)}</td><td>${a.outageCount}</td><td>${f.hours(a.longestOutageMs)}</td><td>${f.pct(a.coveragePct)}</td><td>${speed}</td><td>${f.pct(s.wifi.apAvailabilityPct)}</td></tr>`;
  });
  return `<table><thead><tr>${head.map((h, i) => `<th${i < 2 ? ' class="l"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function annotationsSection(list: readonly Annotation[], lang: Lang, f: ReturnType<typeof formats>): string {
  const t = TEXT[lang];
  if (!list.length) return `<p>${t.noAnnotations}</p>`;
  const rows = list.map((a) => {
    const what =
      a.kind === 'exclude'
        ? `${t.exclude} : ${f.dateTime(a.fromMs)} → ${f.dateTime(a.toMs)}${a.uai ? ` — ${a.uai.join(', ')}` : ''}${a.commune ? ` — ${a.commune.join(', ')}` : ''}${a.isp ? ` — ${a.isp.join(', ')}` : ''}`
        : `${t.reclassify} : ${a.uai}, ${f.dateTime(a.outageStartMs)} → ${t.cause[a.cause]}`;
    return `<tr><td class="l">${esc(what)}</td><td class="l">${esc(a.author)}</td><td class="l">${esc(a.reason)}</td></tr>`;
  });
  return `<table><thead><tr><th class="l"></th><th class="l">${t.author}</th><th class="l">${t.reason}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The whole report as one HTML document (self-contained: nothing is fetched when it is opened). */
export function reportHtml(r: Report, lang: Lang = 'fr'): string {
  const t = TEXT[lang];
  const f = formats(lang, r.timeZone);
  const fleet = r.fleet.total;
  const below = r.schools
    .filter((s) => s.total.availabilityPct !== null && s.total.availabilityPct < r.targetPct)
    .sort((a, b) => (a.total.availabilityPct ?? 0) - (b.total.availabilityPct ?? 0));
  const shownBelow = below.slice(0, 8);
  const ispRows = r.isps.map((g) => {
    const members = r.schools.filter((s) => s.isp === g.key);
    const medians = members
      .map((s) => s.speed.downMedianPctOfContract)
      .filter((v): v is number => v !== null);
    const ofContract = median(medians);
    return `<tr><td class="l">${esc(g.key ?? t.na)}</td><td>${g.total.schoolCount}</td><td>${f.pct(g.total.availabilityPct)}</td><td>${f.hours(g.total.lostMs)}</td><td>${g.total.outageCount}</td><td>${f.pct(ofContract)} ${t.ofContract}</td></tr>`;
  });
  const ispSpeed = r.isps.map((g) => {
    const members = r.schools.filter((s) => s.isp === g.key);
    return {
      name: g.key ?? t.na,
      measured: median(members.map((s) => s.speed.downMedianMbps).filter((v): v is number => v !== null)),
      contract: median(members.map((s) => s.contractedDownMbps).filter((v): v is number => v !== null)),
    };
  });
  const periodText = `${f.date(r.period.startMs)} → ${f.date(r.period.endMs - 1)}`;
  const filter = [r.filter.commune, r.filter.isp].filter(Boolean).join(', ');
  const summary = `<section class="page">
<h1>${esc(t.title)}</h1>
<div class="meta">${t.period} : ${esc(periodText)}${filter ? ` — ${esc(filter)}` : ''} · ${t.asOf} ${esc(f.dateTime(r.asOfMs))} · ${fleet.schoolCount} ${t.schools}</div>
<h2>${t.summary} — ${t.fleet}</h2>
${kpis(r.fleet, f, t)}
${groupCharts(r, r.fleet, lang, 340)}
<h3>${t.belowTarget} (${t.target} ${r.targetPct} %) : ${below.length || t.none}</h3>
${shownBelow.length ? `<table><tbody>${shownBelow.map((s) => `<tr><td class="l">${esc(s.uai)} ${esc(s.name)} — ${esc(s.commune)}</td><td class="bad">${f.pct(s.total.availabilityPct)}</td><td>${f.hours(s.total.lostMs)}</td></tr>`).join('')}</tbody></table>${below.length > shownBelow.length ? `<p class="small">… +${below.length - shownBelow.length}</p>` : ''}` : ''}
<h3>${t.isps}</h3>
<table><thead><tr><th class="l">${t.isp}</th><th>${t.schools}</th><th>${t.availability}</th><th>${t.lost}</th><th>${t.outages}</th><th>${t.downMedian}</th></tr></thead><tbody>${ispRows.join('')}</tbody></table>
${speedChart(
  ispSpeed.map((s) => s.name),
  ispSpeed.map((s) => s.measured),
  ispSpeed.map((s) => s.contract),
  { title: t.speed, measured: t.measured, contract: t.contract, width: 680, height: 170 },
)}
</section>`;
  const communes = r.communes.map((g) => {
    const members = r.schools.filter((s) => s.commune === g.key);
    return `<section class="page">
<h2>${t.commune} : ${esc(g.key ?? t.na)}</h2>
${kpis(g, f, t)}
${groupCharts(r, g, lang, 340)}
${schoolTable(members, r, lang, f)}
</section>`;
  });
  const closing = `<section class="page">
<h2>${t.annotations}</h2>
${annotationsSection(r.annotations, lang, f)}
<h2>${t.method}</h2>
<p>${esc(t.methodText)}</p>
<p>${esc(t.qualityText(r.quality))}</p>
${r.unknownHoursProfiles.map((p) => `<p class="small bad">${esc(t.unknownProfile(p.profile))} ${esc(p.uais.join(', '))}</p>`).join('')}
${r.unreadableDayRollups.count ? `<p class="small">${esc(t.unreadable(r.unreadableDayRollups.count))} ${r.unreadableDayRollups.first.map((u) => `${esc(u.uai)} ${esc(f.date(u.day))}`).join(', ')}</p>` : ''}
<p class="small">${t.generated} ${esc(f.dateTime(r.generatedAtMs))} — ${esc(r.timeZone)} — ${r.sources.map((s) => `${esc(s.policy)}: ${esc(f.date(s.startMs))} → ${esc(f.date(s.endMs - 1))}`).join(' ; ')}</p>
</section>`;
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${esc(t.title)} — ${esc(r.period.label)}</title>
<style>${CSS}</style></head>
<body>
${summary}
${communes.join('\n')}
${closing}
</body></html>
`;
}
