/** Small raw clients for end-to-end tests: mint tokens, publish, and collect WebSocket frames. */
import WebSocket from 'ws';

export async function mintToken(
  baseUrl: string,
  channel: string,
  topics: string[],
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/realtime/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(topics.map((name) => ({ channel, name, kind: 'run' }))),
  });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { jwt: string }).jwt;
}

export async function publish(
  baseUrl: string,
  channel: string,
  topic: string,
  body: string,
  init: { headers?: Record<string, string>; query?: Record<string, string> } = {},
): Promise<Response> {
  const q = new URLSearchParams({ channel, topic, ...init.query });
  return fetch(`${baseUrl}/v1/realtime/publish?${q}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...init.headers },
    body,
  });
}

export interface Frame {
  kind: string;
  data?: unknown;
  channel?: string;
  topic?: string;
  stream_id?: string;
  seq?: number;
  epoch?: string;
  [k: string]: unknown;
}

/** A WebSocket that records every frame it receives. */
export class FrameCollector {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private waiters: { n: number; resolve: () => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      try {
        this.frames.push(JSON.parse(text) as Frame);
      } catch {
        this.frames.push({ kind: '<raw>', data: text });
      }
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake(true);
    });
  }

  static async connect(
    wsUrl: string,
    token: string,
    options: WebSocket.ClientOptions = {},
    query: Record<string, string> = {},
  ): Promise<FrameCollector> {
    const q = new URLSearchParams({ token, ...query });
    const ws = new WebSocket(`${wsUrl}/v1/realtime/connect?${q}`, options);
    const c = new FrameCollector(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`unexpected response ${res.statusCode}`)),
      );
    });
    return c;
  }

  /** Resolves when at least `n` frames arrived (or rejects after `timeoutMs`). */
  async waitFor(n: number, timeoutMs = 10_000): Promise<Frame[]> {
    if (this.frames.length >= n) return this.frames;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out with ${this.frames.length}/${n} frames`)),
        timeoutMs,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
    return this.frames;
  }

  /** Resolves with the close code once the socket closed. */
  async closed(timeoutMs = 10_000): Promise<number> {
    if (this.closeCode !== undefined) return this.closeCode;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.closeCode ?? 1006;
  }

  close(): void {
    this.ws.close();
  }

  private wake(all = false): void {
    this.waiters = this.waiters.filter((w) => {
      if (all || this.frames.length >= w.n) {
        w.resolve();
        return false;
      }
      return true;
    });
  }
}

/** Dials and expects the upgrade to be refused; returns the HTTP answer. */
export function refusedDial(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; contentType: string | undefined; body: string }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => reject(new Error('upgrade unexpectedly succeeded')));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }),
      );
    });
  });
}
