import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { AfterHost } from './cleanup';

/** Debian's chromium (apt-get install chromium); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * Headless Debian chromium with a fresh profile, no network services of its own (no sync, updates, QUIC or
 * background fetches: the pages under test are local). Closed, and its profile removed, after the test.
 */
export async function launchChromium(t: AfterHost): Promise<Browser> {
  // playwright-core gives every launch a fresh profile of its own in a temp folder (it refuses --user-data-dir).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  t.after(async () => {
    await browser.close().catch(() => undefined);
  });
  return browser;
}

/** Collects what a page logs as errors (console.error, uncaught exceptions, failed requests). */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return errors;
}
