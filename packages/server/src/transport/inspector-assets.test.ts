/**
 * Serving the inspector's build: the page and its hashed assets with their types and caching, plain
 * file names only, and what happens when there is no build (the caller answers its fallback page).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS_PREFIX, sendInspectorAsset, sendInspectorPage } from './inspector-assets.js';

let dist: string;
let server: Server;
let base: string;
/** Which build directory the test server serves from (a missing one: no build). */
let serving: string | undefined;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'herald-inspector-'));
  await mkdir(join(dist, 'assets'));
  await writeFile(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
  await writeFile(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  await writeFile(join(dist, 'assets', 'index-abc123.css'), 'body{}');
  await writeFile(join(dist, 'secret.txt'), 'not an asset');
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.startsWith(ASSETS_PREFIX)) void sendInspectorAsset(res, path, serving);
    else
      void sendInspectorPage(res, serving).then((sent) => {
        if (!sent) res.writeHead(200, { 'Content-Type': 'text/plain' }).end('fallback');
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dist, { recursive: true, force: true });
});

describe('the inspector build', () => {
  it('serves index.html at /, revalidated on every load', async () => {
    serving = dist;
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('<div id="root">');
  });

  it('serves hashed assets with their content type, cached for good', async () => {
    serving = dist;
    const js = await fetch(`${base}/assets/index-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toBe('console.log(1)');
    const css = await fetch(`${base}/assets/index-abc123.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for anything but a file of the assets directory', async () => {
    serving = dist;
    for (const path of ['/assets/missing.js', '/assets/..%2Fsecret.txt', '/assets/.hidden', '/assets/']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ status: 404 });
    }
  });

  it('sends nothing at / without a build, so the caller answers its fallback', async () => {
    serving = join(dist, 'nowhere');
    expect(await (await fetch(`${base}/`)).text()).toBe('fallback');
    expect((await fetch(`${base}/assets/index-abc123.js`)).status).toBe(404);
  });
});
