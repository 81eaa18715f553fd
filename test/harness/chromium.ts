// Debian's Chromium, headless, driven by playwright-core (no browser download: the package's binary).
import { rmSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { requireBinary, tempDir } from './daemon.ts';

export interface ChromiumHandle {
  browser: BrowserContext;
  close(): Promise<void>;
}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** A fresh profile each time, so no cache, cookie or stored token leaks from one test to the next. */
export async function startChromium(
  opts: { viewport?: { width: number; height: number } } = {},
): Promise<ChromiumHandle> {
  const executablePath = requireBinary('chromium');
  const profile = tempDir('chromium');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ARGS,
      viewport: opts.viewport ?? { width: 1600, height: 900 },
      timeout: 60_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    browser: context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser };
