// report.html opened in Debian's Chromium, and report.pdf printed by it and rendered by pdftoppm:
// the summary, one page per commune and the closing page, with their charts and page numbers.
// The figures come from the engine on the calendar (report/figures.ts); InfluxDB is the
// other test's business (report-november.test.ts).
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeReport, type Report } from '../../report/figures.ts';
import { reportHtml } from '../../report/html.ts';
import { printPdf } from '../../report/pdf.ts';
import type { ReportData, SchoolData } from '../../report/source.ts';
import { monthPeriod } from '../../shared/availability/index.ts';
import { at, CAL, DAY, H, outage, PARIS } from '../harness/availability.ts';
import { type ChromiumHandle, startChromium } from '../harness/chromium.ts';
import { requireBinary, tempDir } from '../harness/daemon.ts';

const OCT = monthPeriod(2026, 10, PARIS);
const NOV = monthPeriod(2026, 11, PARIS);
const PERIOD = { label: '2026-10_2026-11', startMs: OCT.startMs, endMs: NOV.endMs };

function fixture(): Report {
  const schools = [
    ['0690001B', 'École Jean Moulin', 'Villeurbanne', 'Orange', 100],
    ['0690002C', 'École des Tilleuls', 'Vaulx-en-Velin', 'Free', 50],
    ['0690003D', 'École Pasteur', 'Villeurbanne', 'Free', 50],
    ['0690004E', 'École du Parc', 'Bron', 'Orange', 100],
  ] as const;
  const measured: [number, number][] = [[PERIOD.startMs, PERIOD.endMs]];
  const speed = (mbps: number) =>
    Array.from({ length: 61 }, (_, i) => ({
      t: PERIOD.startMs + i * DAY + 10 * H,
      downBps: mbps * 1e6,
      upBps: mbps * 2e5,
    }));
  // Wi-Fi: three access points; at 0690001B one is off an hour a day.
  const wifi = (offPerHour: number) =>
    Array.from({ length: (PERIOD.endMs - PERIOD.startMs) / (5 * 60_000) }, (_, i) => {
      const t = PERIOD.startMs + i * 5 * 60_000;
      return { t, aps: 3, upAps: t % (24 * H) < offPerHour * H ? 2 : 3 };
    });
  const data: Record<string, SchoolData> = {
    '0690001B': {
      outages: [
        outage('2026-10-27T10:00', '2026-11-05T10:30', 'wan_cut'),
        outage('2026-11-13T16:00', '2026-11-16T09:00'),
      ],
      measured,
      pingSlots: [],
      speedTests: speed(92),
      wifiSlots: wifi(10),
    },
    '0690002C': {
      outages: [outage('2026-10-15T10:00', '2026-11-27T12:00', 'power_or_box')],
      measured,
      pingSlots: [],
      speedTests: speed(31),
    },
    '0690003D': {
      outages: [outage('2026-11-19T08:30', '2026-11-19T11:00', 'wan_cut')],
      measured,
      pingSlots: [],
      speedTests: speed(48),
      wifiSlots: wifi(0),
    },
    '0690004E': {
      outages: [],
      measured: [[PERIOD.startMs, at('2026-11-20T00:00')]],
      pingSlots: [],
      speedTests: speed(97),
    },
  };
  const reportData: ReportData = {
    schools: schools.map(([uai, name, commune, isp, down]) => ({
      uai,
      name,
      commune,
      isp,
      contractedDownMbps: down,
      contractedUpMbps: down / 5,
      hours: 'school',
    })),
    bySchool: new Map(Object.entries(data)),
    parts: [{ policy: 'raw', startMs: PERIOD.startMs, endMs: PERIOD.endMs }],
  };
  return computeReport({
    period: PERIOD,
    calendar: CAL,
    data: reportData,
    annotations: [
      {
        kind: 'reclassify',
        uai: '0690002C',
        outageStartMs: at('2026-10-15T10:00'),
        cause: 'power_or_box',
        author: 'M. Dupont',
        reason: 'coupure EDF confirmée',
      },
    ],
    asOfMs: PERIOD.endMs,
    nowMs: PERIOD.endMs,
  });
}

let chromium: ChromiumHandle;
beforeAll(async () => {
  chromium = await startChromium({ viewport: { width: 1000, height: 1400 } });
}, 120_000);
afterAll(async () => {
  await chromium?.close();
});

describe('report.html and report.pdf', () => {
  it('opens in Chromium (French, self-contained) and prints 1 + 3 communes + 1 pages, numbered', async () => {
    const report = fixture();
    const dir = tempDir('report-browser');
    const html = reportHtml(report, 'fr');
    const htmlFile = join(dir, 'report.html');
    writeFileSync(htmlFile, html);

    const page = await chromium.browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${htmlFile}`);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.locator('section.page').count()).toBe(5);
    expect(await page.locator('h2').first().textContent()).toContain('Synthèse');
    // Charts: two per group (fleet + 3 communes) and the ISP speed chart, all inline SVG.
    expect(await page.locator('svg').count()).toBe(9);
    expect(await page.locator('text=Villeurbanne').count()).toBeGreaterThan(0);
    expect(await page.locator('td.bad').count()).toBeGreaterThan(0);
    expect(await page.locator('text=coupure EDF confirmée').count()).toBe(1);
    // Wi-Fi access points: a KPI for the fleet and the communes with polls, a column per school ("—" without).
    expect(await page.locator('text=Disponibilité des bornes Wi-Fi en heures d’ouverture').count()).toBe(2);
    expect(report.fleet.wifi.apAvailabilityPct).toBeGreaterThan(0);
    expect(report.fleet.wifi.apAvailabilityPct).toBeLessThan(100);
    expect(await page.locator('th', { hasText: 'Wi-Fi (bornes)' }).count()).toBe(3);
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();

    const english = reportHtml(report, 'en');
    expect(english).toContain('Availability in school hours');
    expect(english).not.toContain('Synthèse');

    const pdf = await printPdf(html, 'fr');
    const pdfFile = join(dir, 'report.pdf');
    writeFileSync(pdfFile, pdf);
    execFileSync(requireBinary('pdftoppm'), ['-r', '50', '-png', pdfFile, join(dir, 'page')]);
    const pngs = readdirSync(dir).filter((f) => /^page-\d+\.png$/.test(f));
    expect(pngs.length, `pages rendered in ${dir}`).toBe(5);
    // Page numbers are in the PDF's text ("Page 1 sur 5").
    const text = execFileSync(requireBinary('pdftotext'), [pdfFile, '-']).toString();
    expect(text).toContain('Page 1 sur 5');
    expect(text).toContain('Page 5 sur 5');
    process.stderr.write(`report-browser: PDF pages in ${dir}\n`);
  }, 180_000);
});
