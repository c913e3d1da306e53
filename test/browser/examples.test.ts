/**
 * The examples, each started with the one command its README gives (`npm start` in its directory:
 * it compiles, builds its page, starts its own Herald and backend), and used in headless Chromium:
 * - job-progress: "Start import" ends at 100 %, with every log line of the worker, in order;
 * - ai-stream: the streamed text is exactly the generator's output — straight through, after a
 *   reload in the middle of the stream, and in a new tab that rebuilds it from Herald's history.
 * One file, examples started one after the other: both compile the shared plumbing (examples/shared).
 * Screenshots go to test-results/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAnswer } from '../../examples/ai-stream/src/generator.js';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';
import { type RunningExample, startExample } from '../support/example.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

describe.skipIf(!chromiumAvailable())('the examples in Chromium', () => {
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    await mkdir(RESULTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(url);
    return page;
  }

  describe('job-progress', () => {
    let example: RunningExample;
    beforeAll(async () => {
      // Short batches: the flow is the same, only quicker.
      example = await startExample('job-progress', { JOB_STEP_MS: '60' });
    }, 120_000);
    afterAll(() => example?.stop());

    it('shows the import going to 100 %, with every log line in order', async () => {
      const page = await open(example.url);
      await page.getByRole('button', { name: 'Start import' }).click();
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="pct"]')?.textContent?.replace('%', '')) >= 50,
      );
      await page.screenshot({ path: `${RESULTS}example-job-progress-running.png`, animations: 'disabled' });
      await page.waitForSelector('[data-testid="import"][data-done="true"]');
      await page.waitForFunction(() =>
        document.querySelector('[data-testid="log"] li:last-child')?.textContent?.startsWith('Done'),
      );
      expect(await page.textContent('[data-testid="pct"]')).toBe('100%');
      expect(await page.getAttribute('[role="progressbar"]', 'aria-valuenow')).toBe('100');
      const batches = Array.from({ length: 10 }, (_, i) => `Imported rows ${i * 240 + 1}–${(i + 1) * 240}`);
      expect(
        await page.$$eval('[data-testid="log"] li', (items) => items.map((li) => li.textContent)),
      ).toEqual(['Reading customers.csv: 2,400 rows', ...batches, 'Done: 2,400 customers imported']);
      await page.screenshot({ path: `${RESULTS}example-job-progress-done.png`, animations: 'disabled' });
      await page.close();
      expect(pageErrors).toEqual([]);
    });
  });

  describe('ai-stream', () => {
    let example: RunningExample;
    beforeAll(async () => {
      // 40 ms a token: about five seconds an answer, so a reload lands well inside it.
      example = await startExample('ai-stream', { TOKEN_MS: '40' });
    }, 120_000);
    afterAll(() => example?.stop());

    const answer = (page: Page) => page.textContent('[data-testid="answer"]');
    const complete = (page: Page) => page.waitForSelector('[data-testid="answer"][data-done="true"]');

    async function askOn(page: Page, prompt: string): Promise<string> {
      await page.fill('textarea[name="prompt"]', prompt);
      await page.getByRole('button', { name: 'Ask' }).click();
      await page.waitForFunction(() => location.hash.length > 1);
      return page.evaluate(() => location.hash.slice(1));
    }

    it('renders the streamed text as it arrives, exactly as generated', async () => {
      const page = await open(example.url);
      const prompt = 'What is a datastream?';
      await askOn(page, prompt);
      await page.waitForFunction(
        () => (document.querySelector('[data-testid="answer"]')?.textContent ?? '').length > 0,
      );
      await complete(page);
      expect(await answer(page)).toBe(fakeAnswer(prompt).join(''));
      await page.close();
    });

    it('continues the text after a reload mid-stream, and rebuilds it whole in a new tab', async () => {
      const page = await open(example.url);
      const prompt = 'How does Herald keep a streamed answer across a page reload?';
      const expected = fakeAnswer(prompt).join('');
      const id = await askOn(page, prompt);
      // A few tokens in, still writing: reload.
      await page.waitForFunction(
        () => (document.querySelector('[data-testid="answer"]')?.textContent ?? '').split(' ').length > 8,
      );
      expect(await page.getAttribute('[data-testid="answer"]', 'data-done')).toBe('false');
      const before = (await answer(page)) ?? '';
      expect(expected.startsWith(before)).toBe(true);
      await page.reload();
      // What was shown comes back at once from sessionStorage; the rest follows from Herald.
      expect(expected.startsWith((await answer(page)) ?? '')).toBe(true);
      await page.screenshot({ path: `${RESULTS}example-ai-stream-after-reload.png`, animations: 'disabled' });
      await complete(page);
      expect(await answer(page)).toBe(expected);
      expect(await page.textContent('[data-testid="status"]')).toMatch(/continued after message #\d+/);
      await page.screenshot({ path: `${RESULTS}example-ai-stream-done.png`, animations: 'disabled' });

      // Another tab has nothing kept: it subscribes from the oldest message and rebuilds it all.
      const context = await browser.newContext({ viewport: { width: 1100, height: 820 } });
      const fresh = await context.newPage();
      fresh.on('pageerror', (err) => pageErrors.push(err.message));
      await fresh.goto(`${example.url}#${id}`);
      await complete(fresh);
      expect(await answer(fresh)).toBe(expected);
      await context.close();
      await page.close();
      expect(pageErrors).toEqual([]);
    });
  });
});
