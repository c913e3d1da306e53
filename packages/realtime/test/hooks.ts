/**
 * Helpers for the hook's tests against a real Herald: its open-connection count (from /health),
 * publishing, and a proxy that swaps a placeholder token for a real one.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { mintToken, rawPublish } from './support.js';

/** The server's open connection count. */
export async function connections(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/health`);
  return ((await res.json()) as { connections: number }).connections;
}

/** Resolves once /health reports `n` open connections (the limit only guards against a hang). */
export async function connectionsReach(baseUrl: string, n: number, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last = -1;
  while (Date.now() < deadline) {
    last = await connections(baseUrl);
    if (last === n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the server kept ${last} open connections; expected ${n}`);
}

/** Publishes one JSON message and checks Herald accepted it. */
export async function publishJson(baseUrl: string, channel: string, topic: string, data: unknown) {
  const res = await rawPublish(baseUrl, channel, topic, JSON.stringify(data));
  if (!res.ok) throw new Error(`publish: ${res.status} ${await res.text()}`);
}

/** Publishes `{ i }` for i in [from, from + count), in order, without waiting for any subscriber. */
export async function publishSequence(
  baseUrl: string,
  channel: string,
  topic: string,
  count: number,
  from = 0,
) {
  for (let i = from; i < from + count; i++) await publishJson(baseUrl, channel, topic, { i });
}

/**
 * Publishes `{ i }` for i in [0, count) as one burst: `parallel` publishers at once, so messages
 * arrive faster than React renders.
 */
export async function publishBurst(
  baseUrl: string,
  channel: string,
  topic: string,
  count: number,
  parallel = 16,
) {
  let next = 0;
  const worker = async () => {
    while (next < count) await publishJson(baseUrl, channel, topic, { i: next++ });
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export interface UpgradeProxy {
  url: string;
  /** WebSocket upgrade requests received so far. */
  readonly upgrades: number;
  /** Resolves once `n` upgrade requests have arrived. */
  upgraded(n?: number): Promise<void>;
  /** Lets held upgrades through (see `hold`). */
  release(): void;
  close(): Promise<void>;
}

/**
 * A proxy in front of Herald for WebSocket upgrades (the hook makes no other request). It counts
 * them; with `swapToken`, it replaces a placeholder `token` (the seed's hard-coded `"my-token"`)
 * with a real one minted for the channel and topics given, so a component can run unedited; with
 * `hold`, it keeps each upgrade waiting until `release()`, so a test can act while a connect is in
 * flight.
 */
export async function startUpgradeProxy(
  heraldUrl: string,
  options: { swapToken?: { placeholder: string; channel: string; topics: string[] }; hold?: boolean } = {},
): Promise<UpgradeProxy> {
  const target = new URL(heraldUrl);
  const sockets = new Set<Socket | Duplex>();
  let upgrades = 0;
  let released = !options.hold;
  const waiting: (() => void)[] = [];
  const watchers: { n: number; resolve: () => void }[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  server.on('upgrade', async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    upgrades++;
    for (const w of watchers.splice(0))
      if (upgrades >= w.n) w.resolve();
      else watchers.push(w);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (!released) await new Promise<void>((resolve) => waiting.push(resolve));
    if (client.destroyed) return;
    const url = new URL(req.url ?? '/', heraldUrl);
    const swap = options.swapToken;
    if (swap && url.searchParams.get('token') === swap.placeholder)
      url.searchParams.set('token', await mintToken(heraldUrl, swap.channel, swap.topics));
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('connect', () => {
      const lines = [`${req.method} ${url.pathname}${url.search} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    get upgrades() {
      return upgrades;
    },
    upgraded: (n = 1) =>
      upgrades >= n ? Promise.resolve() : new Promise<void>((resolve) => watchers.push({ n, resolve })),
    release: () => {
      released = true;
      for (const go of waiting.splice(0)) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
