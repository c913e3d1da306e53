/** Helpers for the SDK's tests: a real Herald per test file, raw publishing, and stream reading. */
import { afterAll, beforeAll } from 'vitest';
import { type HeraldProcess, type StartOptions, startHerald } from '../../../test/support/herald.js';
import { Realtime, runLifecycleOf, subscribe } from '../src/index.js';

export { mintToken, publish as rawPublish } from '../../../test/support/client.js';

/** Starts Herald before the file's tests and stops it after; read `.current` inside tests. */
export function withHerald(options: StartOptions = {}): { current: HeraldProcess } {
  const ref = {} as { current: HeraldProcess };
  beforeAll(async () => {
    ref.current = await startHerald(options);
  });
  afterAll(async () => {
    await ref.current?.stop();
  });
  return ref;
}

/** Reads `n` items from a stream (and releases it). */
export async function take<T>(stream: ReadableStream<T>, n: number): Promise<T[]> {
  const reader = stream.getReader();
  const out: T[] = [];
  try {
    while (out.length < n) {
      const { done, value } = await reader.read();
      if (done) break;
      out.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return out;
}

/** Reads a stream to its end; resolves with the items and, if it errored, the error. */
export async function drain<T>(stream: ReadableStream<T>): Promise<{ items: T[]; error?: unknown }> {
  const reader = stream.getReader();
  const items: T[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { items };
      items.push(value);
    }
  } catch (error) {
    return { items, error };
  }
}

/** Resolves once `check()` is true, polling on the event loop (no wall-clock assertion). */
export async function until(check: () => boolean, what = 'condition', limit = 2_000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}

let counter = 0;
/** A channel name no other test uses. */
export function uniqueChannel(prefix = 'ch'): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A real HTTP server in front of Herald that records each request and can answer some itself
 * (e.g. a 503 from an overloaded load balancer); the rest are forwarded unchanged.
 */
export async function startProxy(
  target: string,
  intercept: (req: SeenRequest, index: number) => number | undefined = () => undefined,
): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const http = await import('node:http');
  const seen: SeenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const r: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    seen.push(r);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const status = intercept(r, seen.length - 1);
    if (status !== undefined) {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'injected by the test proxy', status }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection')
        headers[k] = v;
    const upstream = await fetch(new URL(r.url, target), {
      method: r.method,
      headers,
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SeenRun {
  status: string | undefined;
  data: unknown;
  runId: string | undefined;
}

/**
 * Watches a channel's run lifecycle messages; `frames()` resolves with those published before it
 * was called (it publishes a marker after them and waits for it: one order per channel).
 */
export async function watchRunFrames(
  baseUrl: string,
  channel: string,
): Promise<{ frames(): Promise<SeenRun[]> }> {
  const seen: SeenRun[] = [];
  const isMarker = (s: SeenRun) => (s.data as { marker?: unknown }).marker === true;
  const sub = await subscribe({
    channel,
    topics: ['anything'],
    runLifecycle: true,
    apiBaseUrl: baseUrl,
    onMessage: (m) => {
      if (m.kind === 'run') seen.push({ status: runLifecycleOf(m).status, data: m.data, runId: m.runId });
    },
  });
  return {
    async frames() {
      await new Realtime({ baseUrl }).publishRun(channel, { status: 'cancelled', marker: true });
      await until(() => seen.some(isMarker), 'the marker after the run frames');
      sub.close();
      return seen.filter((s) => !isMarker(s));
    },
  };
}
