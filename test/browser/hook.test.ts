/**
 * The hook in a real browser: a page built with Vite (test/browser/hook-page) runs in headless
 * Chromium, subscribes to Herald through a TCP proxy, and shows what this Node test publishes —
 * in order, also across a forced reconnect (the proxy cuts the connection and refuses new ones
 * while more messages are published). Screenshots go to test-results/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionsReach, publishSequence } from '../../packages/realtime/test/hooks.js';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';
import { mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { serveFolder } from '../support/static-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const PAGE = fileURLToPath(new URL('./hook-page/', import.meta.url));
// Ignored by git (dist/) and Biome.
const BUILT = fileURLToPath(new URL('./hook-page/dist/', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe.skipIf(!chromiumAvailable())('useInngestSubscription in Chromium', () => {
  let herald: HeraldProcess;
  let proxy: TcpProxy;
  let site: Awaited<ReturnType<typeof serveFolder>>;
  let browser: Browser;

  beforeAll(async () => {
    await build({
      root: PAGE,
      configFile: false,
      logLevel: 'warn',
      plugins: [react()],
      build: { outDir: BUILT, emptyOutDir: true, minify: false },
    });
    herald = await startHerald();
    proxy = await TcpProxy.start([herald.port]);
    site = await serveFolder(BUILT);
    browser = await launchChromium();
    await mkdir(RESULTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await proxy?.close();
    await herald?.stop();
  });

  /** The numbers the page lists, in the order it lists them. */
  const listed = (page: Page) =>
    page.$$eval('#messages li', (items) => items.map((li) => Number(li.getAttribute('data-i'))));

  const range = (n: number) => Array.from({ length: n }, (_, k) => k);

  it('shows published messages, in order, across a forced reconnect', async () => {
    const channel = `browser-${Date.now()}`;
    const token = await mintToken(herald.url, channel, ['t']);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const query = new URLSearchParams({ herald: proxy.url, channel, token });
    await page.goto(`${site.url}/?${query}`);

    await page.waitForSelector('#state[data-state="active"]');
    // StrictMode mounts twice in development builds; this is a production build, but either way
    // Herald should see one connection.
    await connectionsReach(herald.url, 1);
    await publishSequence(herald.url, channel, 't', 5);
    await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 5);
    expect(await listed(page)).toEqual(range(5));
    await page.screenshot({ path: `${RESULTS}hook-page-before-drop.png` });

    proxy.setBackends([]);
    expect(proxy.dropAll()).toBe(1);
    await page.waitForSelector('#state[data-state="connecting"]');
    await connectionsReach(herald.url, 0);
    await publishSequence(herald.url, channel, 't', 5, 5);
    await page.screenshot({ path: `${RESULTS}hook-page-while-away.png` });
    expect(await page.textContent('#close-reason')).not.toBe('');

    proxy.setBackends([herald.port]);
    await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 10);
    await page.waitForSelector('#state[data-state="active"]');
    await publishSequence(herald.url, channel, 't', 2, 10);
    await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 12);
    expect(await listed(page)).toEqual(range(12));
    await page.screenshot({ path: `${RESULTS}hook-page-after-reconnect.png` });
    expect(pageErrors).toEqual([]);

    await page.close();
    await connectionsReach(herald.url, 0);
  });
});
