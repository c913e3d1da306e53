/**
 * The system Chromium (Debian's `chromium` package) for browser tests, driven by playwright-core.
 * Without it a test run locally skips its browser tests and says so; under CI they fail, so a CI
 * image that lost Chromium cannot pass silently (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

/** Whether Chromium can run here; throws under CI when it cannot. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set HERALD_CHROMIUM`;
  if (process.env.CI) throw new Error(`${message}; browser tests cannot be skipped in CI`);
  console.warn(`\n*** SKIPPING BROWSER TESTS: ${message} ***\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
