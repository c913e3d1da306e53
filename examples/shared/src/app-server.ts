/**
 * An example's own backend, in plain `node:http`: its JSON API under `/api/` and its built page.
 * Handlers get the query and the parsed JSON body and return what to answer as JSON; an `ApiError`
 * becomes an error answer with its status.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { extname, join } from 'node:path';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type ApiHandler = (request: { query: URLSearchParams; body: unknown }) => unknown;

export interface AppOptions {
  /** `0` picks a free port. */
  port: number;
  host?: string;
  /** The built page (index.html and assets/). */
  pageDir: string;
  /** `"POST /api/jobs"` → handler. */
  api: Record<string, ApiHandler>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 64 * 1024) throw new ApiError(413, 'body too large');
  }
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'the body must be JSON');
  }
}

export async function serveApp(o: AppOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://example.invalid');
    const handler = o.api[`${req.method} ${url.pathname}`];
    if (handler) {
      try {
        const result = await handler({ query: url.searchParams, body: await jsonBody(req) });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(result ?? {}));
      } catch (err) {
        const status = err instanceof ApiError ? err.status : 500;
        if (status === 500) console.error(err);
        res
          .writeHead(status, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ error: (err as Error).message }));
      }
      return;
    }
    // The page: index.html at /, Vite's files under /assets/ (plain names only).
    const file =
      url.pathname === '/'
        ? 'index.html'
        : /^\/assets\/[\w.-]+$/.test(url.pathname)
          ? url.pathname.slice(1)
          : undefined;
    const body =
      file === undefined ? undefined : await readFile(join(o.pageDir, file)).catch(() => undefined);
    if (req.method !== 'GET' || body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file as string)] ?? 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(o.port, o.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
