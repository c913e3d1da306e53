/**
 * A stand-in for the Inngest server behind Herald's sidecar mode (`--inngest-upstream`): the real
 * one cannot be installed here (its CLI downloads a binary). It records every request that reaches
 * it — method, target, headers, body as received — and answers the few endpoints the `inngest`
 * SDKs need the way Inngest's dev server does (`POST /fn/register`, `POST /e/<key>`, `GET /dev`);
 * tests add their own routes (streamed responses, status codes, slow answers) and WebSocket
 * handlers. Anything else gets a JSON echo of what arrived.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface Recorded {
  method: string;
  /** The request target as received, e.g. `/e/key?x=1`. */
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Raw header lines as received (names in their original case, repeats kept). */
  rawHeaders: string[];
  /** The body, whole (filled in when it ended). */
  body: Buffer;
  /** Whether a WebSocket upgrade. */
  upgrade: boolean;
}

/** A route of the stand-in: answers `res` itself (the body is not read for it). */
export type Route = (req: IncomingMessage, res: ServerResponse, recorded: Recorded) => void | Promise<void>;

const json = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

/** Reads the whole body into `recorded.body` (for routes that want it whole). */
export async function readBody(req: IncomingMessage, recorded: Recorded): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  recorded.body = Buffer.concat(chunks);
}

export class StandInUpstream {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly wsRoutes = new Map<string, (ws: WebSocket, req: IncomingMessage) => void>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
  ) {}

  static async start(): Promise<StandInUpstream> {
    let self!: StandInUpstream;
    // A client that goes away mid-body (tests do that on purpose) ends the exchange, nothing more.
    const server = createServer((req, res) => self.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new StandInUpstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', (s) => {
      self.sockets.add(s);
      s.once('close', () => self.sockets.delete(s));
    });
    server.on('upgrade', (req, socket, head) => {
      const recorded = self.record(req, true);
      self.requests.push(recorded);
      const handler = self.wsRoutes.get(recorded.path);
      if (handler === undefined) {
        const body = JSON.stringify({ standIn: true, error: `no WebSocket at ${recorded.path}` });
        socket.end(
          `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      self.wss.handleUpgrade(req, socket, head, (ws) => handler(ws, req));
    });
    return self;
  }

  /** Answers `path` (exact, without the query) with `route`. */
  route(path: string, route: Route): this {
    this.routes.set(path, route);
    return this;
  }

  /** Accepts WebSocket upgrades on `path` and hands each socket to `handler` (other paths get 404). */
  websocket(path: string, handler: (ws: WebSocket, req: IncomingMessage) => void): this {
    this.wsRoutes.set(path, handler);
    return this;
  }

  /** The requests to `path` (without the query) so far. */
  to(path: string): Recorded[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(req: IncomingMessage, upgrade: boolean): Recorded {
    const url = req.url ?? '/';
    return {
      method: req.method ?? 'GET',
      url,
      path: url.split('?')[0] as string,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      upgrade,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const recorded = this.record(req, false);
    this.requests.push(recorded);
    const route = this.routes.get(recorded.path);
    if (route !== undefined) {
      await route(req, res, recorded);
      return;
    }
    await readBody(req, recorded);
    // What Inngest's dev server answers to what the SDKs send.
    if (req.method === 'POST' && recorded.path === '/fn/register') {
      json(res, 200, { ok: true, modified: true });
      return;
    }
    if (req.method === 'POST' && recorded.path.startsWith('/e/')) {
      const parsed = JSON.parse(recorded.body.toString() || '[]') as unknown;
      const events = Array.isArray(parsed) ? parsed : [parsed];
      json(res, 200, { ids: events.map(() => randomUUID()), status: 200 });
      return;
    }
    if (req.method === 'GET' && recorded.path === '/dev') {
      json(res, 200, { version: 'stand-in', isSingleNodeService: false });
      return;
    }
    json(res, 200, {
      standIn: true,
      method: recorded.method,
      url: recorded.url,
      bytes: recorded.body.length,
    });
  }
}
