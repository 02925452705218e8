/**
 * Headless Chromium for the dashboard's browser tests: Debian's `chromium` at /usr/bin/chromium, driven by
 * playwright-core (which downloads no browser). Without it the tests fail, saying how to install it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's chromium package puts the browser (CHROMIUM_PATH moves it). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium is not installed. */
export class ChromiumMissingError extends Error {
  override readonly name: string = 'ChromiumMissingError';
}

/** A launched browser. */
export interface TestBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Launches headless Chromium (playwright-core gives each launch a fresh, temporary profile) with no background networking. */
export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new ChromiumMissingError(
      `the browser tests need Chromium at ${CHROMIUM_PATH}: install it with \`sudo apt-get install -y chromium\` (Debian's package), or set CHROMIUM_PATH`,
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}
