// report.pdf: report.html printed by Debian's Chromium through playwright-core (no browser
// download). A4, the CSS page breaks of report/html.ts, page numbers in the footer.
import { chromium } from 'playwright-core';

/** The flags a headless Chromium needs here: no sandbox in containers, no network of its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_PATH = process.env['VIGIE_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * @param html a self-contained document (nothing is fetched: the page has no network use)
 * @returns the PDF bytes
 * @throws Error when Chromium cannot be started (its path is in the message)
 */
export async function printPdf(html: string, lang: 'fr' | 'en'): Promise<Buffer> {
  const browser = await chromium
    .launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 })
    .catch((err: Error) => {
      throw new Error(`Chromium (${CHROMIUM_PATH}) could not start for report.pdf: ${err.message}`);
    });
  try {
    const page = await browser.newPage();
    // Self-contained: any request would be a bug (or a link to follow), never fetched.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load', timeout: 60_000 });
    const of = lang === 'fr' ? 'sur' : 'of';
    return await page.pdf({
      format: 'A4',
      printBackground: true,
      preferCSSPageSize: true,
      displayHeaderFooter: true,
      headerTemplate: '<div></div>',
      footerTemplate: `<div style="font-size:8px;width:100%;text-align:center;color:#555;font-family:sans-serif">Page <span class="pageNumber"></span> ${of} <span class="totalPages"></span></div>`,
      margin: { top: '14mm', bottom: '16mm', left: '12mm', right: '12mm' },
    });
  } finally {
    await browser.close();
  }
}
