// `schools-monthly.csv` and `.json`: open data, one row per school and calendar month, keyed by UAI.
// No personal data: the school's registry entry (UAI, name, commune, ISP, contract) and figures.
// Columns are documented in docs/report.md ("Données ouvertes / Open data").
import { stringify } from 'csv-stringify/sync';
import type { Report } from './figures.ts';

const H = 3_600_000;
/** Hours with 4 decimals: finer than a minute (0.0167 h), exact for whole minutes to the 4th. */
const hours = (ms: number) => Math.round((ms / H) * 10_000) / 10_000;
const pct = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
const round2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

/** The columns, in order, with their meaning (docs/report.md copies this list). */
export const OPEN_DATA_COLUMNS: Record<string, string> = {
  uai: "school's UAI (identifiant de l'établissement)",
  name: "school's name in the registry",
  commune: 'commune',
  isp: 'internet service provider',
  month: 'calendar month YYYY-MM, local time',
  open_h: 'open time (school hours, holidays and public holidays removed), hours',
  up_h: 'open time measured without outage, hours',
  lost_h: 'teaching hours lost: open time inside an outage, hours',
  not_measured_h: 'open time with no data and no known outage, hours',
  excluded_h: 'open time excluded by an annotation, hours',
  availability_pct: '100 × up_h / (up_h + lost_h); empty when nothing was measured',
  coverage_pct: '100 × (up_h + lost_h) / open_h',
  calendar_uptime_pct: 'the same as availability_pct over the whole month, day and night',
  calendar_coverage_pct: 'measured share of the whole month',
  outage_count: 'outages that took open time in the month',
  outage_count_calendar: 'outages with any time in the month',
  longest_outage_h: 'longest outage within the month, hours',
  lost_wan_cut_h: 'lost_h whose cause is wan_cut (the box measured, the internet did not answer)',
  lost_power_or_box_h: 'lost_h whose cause is power_or_box (nothing measured)',
  lost_unknown_h: 'lost_h of unknown cause',
  speed_tests: 'successful speed tests in the month',
  down_median_mbps: 'median download, Mbit/s',
  up_median_mbps: 'median upload, Mbit/s',
  contracted_down_mbps: 'contracted download, Mbit/s',
  down_median_pct_of_contract: '100 × down_median_mbps / contracted_down_mbps',
  sh_speed_tests: 'speed tests in school hours',
  sh_down_median_mbps: 'median download in school hours, Mbit/s',
  sh_down_p10_mbps: '10th-percentile download in school hours, Mbit/s',
  sh_up_median_mbps: 'median upload in school hours, Mbit/s',
  sh_up_p10_mbps: '10th-percentile upload in school hours, Mbit/s',
  sh_tests_meeting_contract_pct: 'share of school-hour tests with download ≥ 80 % of the contract',
  sh_latency_p50_ms: 'median RTT to the internet anchors over school-hour 5-minute slots, ms',
  sh_latency_p95_ms: '95th-percentile RTT to the anchors, ms',
  sh_loss_mean_pct: 'mean packet loss to the anchors, percent',
  sh_video_fit_pct:
    'share of school-hour 5-minute slots fit for a video class (RTT ≤ 50 ms, loss ≤ 0.5 %, M-Lab IQB)',
  sh_wifi_ap_hours:
    'Wi-Fi access-point time observed in school hours, hours (each access point polled in a 5-minute slot counts 5 minutes)',
  sh_wifi_ap_availability_pct:
    'Wi-Fi access points’ availability in school hours: share of sh_wifi_ap_hours the access points were up (each weighted by the share of its polls finding it up); empty without polls',
};

/** The columns' documentation with the thresholds this report was judged by. */
export function openDataColumns(report: Pick<Report, 'quality'>): Record<string, string> {
  const q = report.quality;
  return {
    ...OPEN_DATA_COLUMNS,
    sh_tests_meeting_contract_pct: `share of school-hour tests with download ≥ ${q.contractSharePct} % of the contract`,
    sh_video_fit_pct: `share of school-hour 5-minute slots fit for a video class (RTT ≤ ${q.videoLatencyMs} ms, loss ≤ ${q.videoLossPct} %; defaults from M-Lab IQB)`,
  };
}

export type OpenDataRow = Record<keyof typeof OPEN_DATA_COLUMNS, string | number | null>;

export function openDataRows(report: Report): OpenDataRow[] {
  const rows: OpenDataRow[] = [];
  for (const s of report.schools)
    for (const m of s.months) {
      const f = m.figures;
      rows.push({
        uai: s.uai,
        name: s.name,
        commune: s.commune,
        isp: s.isp,
        month: m.month,
        open_h: hours(f.openMs),
        up_h: hours(f.upMs),
        lost_h: hours(f.lostMs),
        not_measured_h: hours(f.notMeasuredMs),
        excluded_h: hours(f.excludedOpenMs),
        availability_pct: pct(f.availabilityPct),
        coverage_pct: pct(f.coveragePct),
        calendar_uptime_pct: pct(f.calendarUptimePct),
        calendar_coverage_pct: pct(f.calendarCoveragePct),
        outage_count: f.outageCount,
        outage_count_calendar: f.outageCountCalendar,
        longest_outage_h: hours(f.longestOutageMs),
        lost_wan_cut_h: hours(f.lostMsByCause.wan_cut),
        lost_power_or_box_h: hours(f.lostMsByCause.power_or_box),
        lost_unknown_h: hours(f.lostMsByCause.unknown),
        speed_tests: m.speed.tests,
        down_median_mbps: round2(m.speed.downMedianMbps),
        up_median_mbps: round2(m.speed.upMedianMbps),
        contracted_down_mbps: s.contractedDownMbps,
        down_median_pct_of_contract: pct(m.speed.downMedianPctOfContract),
        sh_speed_tests: m.quality.speedTests,
        sh_down_median_mbps: round2(m.quality.downMedianMbps),
        sh_down_p10_mbps: round2(m.quality.downP10Mbps),
        sh_up_median_mbps: round2(m.quality.upMedianMbps),
        sh_up_p10_mbps: round2(m.quality.upP10Mbps),
        sh_tests_meeting_contract_pct: pct(m.quality.testsMeetingContractPct),
        sh_latency_p50_ms: round2(m.quality.latencyP50Ms),
        sh_latency_p95_ms: round2(m.quality.latencyP95Ms),
        sh_loss_mean_pct: round2(m.quality.lossMeanPct),
        sh_video_fit_pct: pct(m.quality.videoFitPct),
        sh_wifi_ap_hours: Math.round((m.quality.wifi.apSlots / 12) * 10_000) / 10_000,
        sh_wifi_ap_availability_pct: pct(m.quality.wifi.apAvailabilityPct),
      });
    }
  return rows;
}

export function openDataCsv(rows: OpenDataRow[]): string {
  // escape_formulas: a school name starting with = + - @ is not run as a formula by a spreadsheet (OWASP CSV injection).
  return stringify(rows, { header: true, columns: Object.keys(OPEN_DATA_COLUMNS), escape_formulas: true });
}

/** The JSON face: rows keyed by UAI then month, with the column documentation alongside. */
export function openDataJson(report: Report, rows: OpenDataRow[]): string {
  const schools: Record<string, Record<string, OpenDataRow>> = {};
  for (const r of rows) {
    const byMonth = schools[String(r.uai)] ?? {};
    byMonth[String(r.month)] = r;
    schools[String(r.uai)] = byMonth;
  }
  return `${JSON.stringify(
    {
      period: {
        label: report.period.label,
        from: new Date(report.period.startMs).toISOString(),
        to: new Date(report.period.endMs).toISOString(),
      },
      timeZone: report.timeZone,
      asOf: new Date(report.asOfMs).toISOString(),
      columns: openDataColumns(report),
      schools,
    },
    null,
    2,
  )}\n`;
}
