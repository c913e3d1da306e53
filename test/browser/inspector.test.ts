/**
 * The inspector at `/`, as a newcomer meets it: the built page served by the built `herald dev`
 * (npm test builds both), in headless Chromium. It loads and shows what is connected, shows a
 * published message as it arrives, publishes from its form, shows a datastream growing in place,
 * mints a token that works, under `herald start` asks for the signing key first, and in sidecar
 * mode (`--inngest-upstream`) works under `/herald/` while the upstream has the root.
 * Screenshots go to test-results/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { StandInUpstream } from '../support/upstream.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const KEY = 'signkey-prod-0123456789abcdef0123456789abcdef';

describe.skipIf(!chromiumAvailable())('the inspector in Chromium', () => {
  let dev: HeraldProcess;
  let prod: HeraldProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [dev, prod, browser] = await Promise.all([
      startHerald(),
      startHerald({ mode: 'start', args: ['--signing-key', KEY] }),
      launchChromium(),
    ]);
    await mkdir(RESULTS, { recursive: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${dev.url}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([dev?.stop(), prod?.stop()]);
  });

  /** The feed's subscription (its own WebSocket, through the React hook) is open. */
  const feedLive = (p: Page) => p.waitForSelector('[data-testid="feed-state"][data-state="active"]');

  it('loads, subscribes its feed with the hook, and shows the overview updating live', async () => {
    expect(await page.title()).toBe('Herald inspector');
    await feedLive(page);
    // The overview polls the admin API: its count reaches the feed's own connection.
    await page.waitForFunction(
      () => document.querySelector('[data-testid="stat-connections"] .stat-value')?.textContent === '1',
    );
    expect(await page.textContent('[data-testid="mode"]')).toBe('dev mode');
    expect(await page.textContent('[data-testid="engine"]')).toContain('memory engine');
    expect(await page.textContent('[data-testid="auth"]')).toBe('auth off');
    await page.waitForSelector('tr[data-channel="demo"]');
    await page.screenshot({ path: `${RESULTS}inspector-loaded.png` });
  });

  it('shows a published message (pushed, not polled), with its kind, topic, seq and JSON', async () => {
    await feedLive(page);
    const sent = Date.now();
    const res = await publish(dev.url, 'demo', 'hello', JSON.stringify({ hi: 'there', n: 1 }));
    const { seq } = (await res.json()) as { seq: number };
    // The issue asks for "within a second"; this machine is shared, so the time is reported, not
    // asserted, and the wait is only a failure guard.
    await page.waitForSelector(`li[data-kind="data"][data-seq="${seq}"]`, { timeout: 10_000 });
    console.log(`[inspector] published message shown after ${Date.now() - sent} ms`);
    const item = await page.textContent(`li[data-kind="data"][data-seq="${seq}"]`);
    expect(item).toContain('data');
    expect(item).toContain('hello');
    expect(item).toContain(`#${seq}`);
    expect(item).toContain('"hi": "there"');
  });

  it('counts a channel’s message rate from what it received', async () => {
    const rate = () => page.textContent('tr[data-channel="demo"] [data-testid="rate"]');
    // Keep publishing until a poll sees messages between two samples (no assumption on timing).
    for (let i = 0; i < 200; i++) {
      await publish(dev.url, 'demo', 'hello', JSON.stringify({ tick: i }));
      const shown = await rate();
      if (shown !== '0' && shown !== '–') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Number(await rate())).toBeGreaterThan(0);
  });

  it('publishes from its form to Herald (an independent subscriber receives it)', async () => {
    await feedLive(page);
    const other = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, 'demo', ['hello']));
    await page.fill('textarea[name="data"]', '{"from": "the form"}');
    await page.getByRole('button', { name: 'Publish' }).click();
    const status = await page.waitForSelector('.result.ok');
    expect(await status.textContent()).toMatch(/^Published to demo · hello as #\d+$/);
    await page.waitForSelector('li[data-kind="data"]:has-text("the form")');
    const [frame] = await other.waitFor(1);
    expect(frame).toMatchObject({ kind: 'data', topic: 'hello', data: { from: 'the form' } });
    other.close();
  });

  it('shows a datastream as text growing in place, and streams from its button', async () => {
    await feedLive(page);
    // A backend's stream, piece by piece: each piece is shown, in the same row, before the next.
    const pieces = ['Streams ', 'grow ', 'in place.'];
    let push!: (piece: string | null) => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (piece) =>
          piece === null ? controller.close() : controller.enqueue(new TextEncoder().encode(piece));
      },
    });
    const done = fetch(`${dev.url}/v1/realtime/publish?channel=demo&topic=hello`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    const streamRow = 'li[data-kind="datastream"]';
    let expected = '';
    for (const piece of pieces) {
      push(piece);
      expected += piece;
      await page.waitForFunction(
        ({ sel, text }) => document.querySelector(`${sel} .stream-text`)?.textContent === text,
        { sel: streamRow, text: expected },
      );
      expect(await page.getAttribute(streamRow, 'data-ended')).toBe('false');
      expect(await page.locator(streamRow).count()).toBe(1);
    }
    await page.screenshot({ path: `${RESULTS}inspector-stream-growing.png` });
    push(null);
    expect((await done).status).toBe(200);
    await page.waitForSelector(`${streamRow}[data-ended="true"]`);
    expect(await page.textContent(`${streamRow} .stream-text`)).toBe('Streams grow in place.');

    await page.getByRole('button', { name: 'Stream text' }).click();
    await page.waitForFunction(
      () =>
        document.querySelectorAll('li[data-kind="datastream"][data-ended="true"]').length === 2 &&
        document
          .querySelector('li[data-kind="datastream"] .stream-text')
          ?.textContent?.startsWith('Herald streams'),
    );
    expect(await page.textContent('.result.ok')).toMatch(/^Streamed \d+ bytes in \d+ chunks? as #\d+–\d+/);
    await page.screenshot({ path: `${RESULTS}inspector-stream.png` });
  });

  it('mints a token that subscribes, and shows curl, SDK and React code with it', async () => {
    await page.fill('input[name="token-channel"]', 'token-demo');
    await page.fill('input[name="token-topics"]', 'a, b');
    await page.getByRole('button', { name: 'Mint token' }).click();
    const jwt = (await (await page.waitForSelector('[data-testid="jwt"]')).textContent()) ?? '';
    expect(await page.textContent('[data-testid="snippet"]')).toContain(`sse?token=${jwt}`);
    await page.getByRole('tab', { name: 'SDK' }).click();
    expect(await page.textContent('[data-testid="snippet"]')).toContain(`key: '${jwt}'`);
    await page.getByRole('tab', { name: 'React' }).click();
    const react = await page.textContent('[data-testid="snippet"]');
    expect(react).toContain('useInngestSubscription');
    expect(react).toContain(`topics: ['a', 'b']`);
    await page.screenshot({ path: `${RESULTS}inspector-token.png`, fullPage: true });

    const sub = await FrameCollector.connect(dev.wsUrl, jwt);
    await publish(dev.url, 'token-demo', 'b', '"via the minted token"');
    expect((await sub.waitFor(1))[0]).toMatchObject({ topic: 'b', data: 'via the minted token' });
    sub.close();
    expect(pageErrors).toEqual([]);
  });

  it('under herald start, asks for the signing key, then shows everything', async () => {
    const locked = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    locked.on('pageerror', (err) => errors.push(err.message));
    await locked.goto(`${prod.url}/`);
    await locked.waitForSelector('text=This Herald needs its signing key');
    await locked.screenshot({ path: `${RESULTS}inspector-locked.png` });

    await locked.fill('input[name="signing-key"]', 'signkey-prod-wrong');
    await locked.getByRole('button', { name: 'Unlock' }).click();
    await locked.waitForSelector('text=Herald refused that key.');

    await locked.fill('input[name="signing-key"]', KEY);
    await locked.getByRole('button', { name: 'Unlock' }).click();
    await feedLive(locked);
    expect(await locked.textContent('[data-testid="auth"]')).toBe('signing key required');
    const res = await publish(prod.url, 'demo', 'hello', '{"private":true}', {
      headers: { Authorization: `Bearer ${KEY}` },
    });
    const { seq } = (await res.json()) as { seq: number };
    await locked.waitForSelector(`li[data-kind="data"][data-seq="${seq}"]`);
    // The key stays in the tab: a reload does not ask again.
    await locked.reload();
    await feedLive(locked);
    await locked.screenshot({ path: `${RESULTS}inspector-start-mode.png` });
    expect(errors).toEqual([]);
    await locked.close();
  });

  it('in sidecar mode, lives under /herald/ while the Inngest server has the root', async () => {
    const upstream = await StandInUpstream.start();
    const sidecar = await startHerald({ args: ['--inngest-upstream', upstream.url] });
    const side = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    side.on('pageerror', (err) => errors.push(err.message));
    try {
      // The root is the upstream's (there, Inngest's dev server UI).
      await side.goto(`${sidecar.url}/`);
      expect(JSON.parse((await side.textContent('body')) ?? '{}')).toMatchObject({ standIn: true });
      // Without the trailing slash, redirected to it (its files are relative to the page).
      await side.goto(`${sidecar.url}/herald`);
      expect(new URL(side.url()).pathname).toBe('/herald/');
      await feedLive(side);
      await side.waitForFunction(
        () => document.querySelector('[data-testid="stat-connections"] .stat-value')?.textContent === '1',
      );
      // It publishes to Herald's realtime API at the root, and shows what arrives.
      await side.fill('textarea[name="data"]', '{"beside": "inngest"}');
      await side.getByRole('button', { name: 'Publish' }).click();
      await side.waitForSelector('li[data-kind="data"]:has-text("beside")');
      await side.screenshot({ path: `${RESULTS}inspector-sidecar.png` });
      // Its links go to Herald's health and metrics, beside it.
      const health = await side.getAttribute('a:has-text("health")', 'href');
      expect(new URL(health ?? '', side.url()).pathname).toBe('/herald/health');
      await side.click('a:has-text("health")');
      expect(JSON.parse((await side.textContent('body')) ?? '{}')).toMatchObject({ status: 'ok' });
      await side.goBack();
      await feedLive(side);
      expect(errors).toEqual([]);
      // None of the inspector's own requests went to the upstream (the browser's own favicon
      // requests for the JSON pages do: that path is the upstream's).
      expect(upstream.requests.map((r) => r.path).filter((p) => p !== '/favicon.ico')).toEqual(['/']);
    } finally {
      await side.close();
      await sidecar.stop();
      await upstream.close();
    }
  });
});
