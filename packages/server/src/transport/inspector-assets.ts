/**
 * The inspector (packages/inspector, a React app built with Vite) served from its build directory:
 * - `GET /` answers its `index.html`, revalidated on every load (`no-cache`), so a rebuild shows at
 *   once. Only `/`: the inspector keeps its state in the URL's hash, so no other path needs to fall
 *   back to it, and `/v1/…`, `/health`, `/metrics` and `/dev` can never be shadowed.
 * - `GET /assets/<file>` answers Vite's content-hashed files, cached for a year (`immutable`): a new
 *   build has new names. Only plain file names in that one directory are served.
 * - The router serves both under `/herald/` too (only there in sidecar mode); the page refers to
 *   its files and to the admin API relatively, so it works at either place.
 * - Without a build (a checkout where `npm run build` has not run), `/` answers a plain status page
 *   that says how to build it.
 *
 * The build is found through the `@herald/inspector` package (a workspace, linked by `npm install`),
 * i.e. relative to this file's installed location, never to the process's working directory.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { sendJson } from './respond.js';

export const ASSETS_PREFIX = '/assets/';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** A file name Vite could have written (no path separators, no leading dot). */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** The inspector's build directory, or undefined when the package is not installed. */
export function findInspectorDist(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@herald/inspector/package.json');
    return join(dirname(pkg), 'dist');
  } catch {
    return undefined;
  }
}

const DIST = findInspectorDist();

async function readOrUndefined(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, body: Buffer, type: string, cacheControl: string): void {
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': body.length,
    'Cache-Control': cacheControl,
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/**
 * Answers `/` with the inspector's page; false (nothing sent) when there is no build, so the caller
 * can answer its fallback page.
 */
export async function sendInspectorPage(res: ServerResponse, dist = DIST): Promise<boolean> {
  const html = dist === undefined ? undefined : await readOrUndefined(join(dist, 'index.html'));
  if (html === undefined) return false;
  send(res, html, TYPES['.html'] as string, 'no-cache');
  return true;
}

/** Answers `/assets/<name>` with a built file, or a JSON 404. */
export async function sendInspectorAsset(res: ServerResponse, pathname: string, dist = DIST): Promise<void> {
  const name = pathname.slice(ASSETS_PREFIX.length);
  const body =
    dist !== undefined && ASSET_NAME.test(name)
      ? await readOrUndefined(join(dist, 'assets', name))
      : undefined;
  if (body === undefined) {
    // Answered here rather than thrown: a missing asset is not an API error worth a metric label.
    sendJson(res, 404, { error: `Not found: ${pathname} is not part of the inspector's build`, status: 404 });
    return;
  }
  send(res, body, TYPES[extname(name)] ?? 'application/octet-stream', 'public, max-age=31536000, immutable');
}

/** The notice the fallback page shows when the build is missing. */
export const MISSING_BUILD_NOTICE =
  'The inspector is not built (packages/inspector/dist is missing): run `npm run build` in the repository, then reload.';
