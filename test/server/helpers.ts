/**
 * Shared helpers for the end-to-end server suite: known keys and secrets, hand-made JWTs (for the
 * attack tests), an SSE client, a streaming publisher with controlled writes, and small readers for
 * /health and /metrics. Everything talks to a real Herald process over loopback.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { FrameCollector } from '../support/client.js';
import type { HeraldProcess } from '../support/herald.js';

/** Account and env ids Herald (like Inngest's dev server) uses for everything signing-key authenticated. */
export const DEFAULT_ACCOUNT = '00000000-0000-4000-a000-000000000000';
export const DEFAULT_ENV = '00000000-0000-4000-b000-000000000000';
/** The JWT secret of `herald dev` (Inngest's dev server uses the same bytes). */
export const DEV_JWT_SECRET = 'dev-mode-is-not-secret';

/** A signing key and its hash as the Inngest SDKs compute it (design.md, "Tested tips"). */
export const SIGNING_KEY = 'signkey-test-abc123def456';
export const SIGNING_KEY_HASHED =
  'signkey-test-3e0c020d16ae2fa8467cb0af8488907cbaec86257d6b26c54e60696bc475fc8c';
export const FALLBACK_KEY = 'signkey-prod-00112233445566778899aabbccddeeff';
/** A JWT secret passed with --jwt-secret, so tests can make their own (valid or hostile) tokens. */
export const JWT_SECRET = 'herald-e2e-jwt-secret';

export const bearer = (value: string): Record<string, string> => ({ Authorization: `Bearer ${value}` });

// ---------------------------------------------------------------------------------------------
// JWTs, made by hand so tests can forge exactly the token they need.

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

export interface JwtTopic {
  kind?: string;
  env_id?: string;
  channel: string;
  name: string;
}

/** Realtime claims as Herald mints them (§2.2), with overrides. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'rt.inngest.com',
    sub: DEFAULT_ACCOUNT,
    exp: now + 60,
    iat: now,
    jti: randomUUID(),
    env: DEFAULT_ENV,
    topics: [],
    publish: false,
    ...overrides,
  };
}

/** Topic objects for `channel` and `names`, as in a token's `topics` claim. */
export function topicsOf(channel: string, names: string[], env = DEFAULT_ENV): JwtTopic[] {
  return names.map((name) => ({ kind: 'run', env_id: env, channel, name }));
}

/** A compact JWS: HS256 over header and payload with `secret`, or unsigned when `alg` is `none`. */
export function signJwt(
  payload: Record<string, unknown>,
  options: { secret?: string; header?: Record<string, unknown> } = {},
): string {
  const header = options.header ?? { alg: 'HS256', typ: 'JWT' };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  if (header.alg === 'none') return `${input}.`;
  const sig = createHmac('sha256', options.secret ?? JWT_SECRET)
    .update(input)
    .digest();
  return `${input}.${b64url(sig)}`;
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h as string, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p as string, 'base64url').toString()) as Record<string, unknown>,
  };
}

// ---------------------------------------------------------------------------------------------
// Waiting without timing assertions: poll a condition; the timeout is only a failure guard.

export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Frame = FrameCollector['frames'][number];

/** Waits (on message events) until the collector holds a frame matching `pred`; returns it. */
export function frameWhere(
  c: FrameCollector,
  pred: (f: Frame) => boolean,
  what = 'a matching frame',
  timeoutMs = 15_000,
): Promise<Frame> {
  const found = c.frames.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      c.ws.off('message', check);
      c.ws.off('close', onClose);
    };
    // The collector's own listener was registered first, so the frame is already recorded here.
    const check = () => {
      const f = c.frames.find(pred);
      if (f) {
        done();
        resolve(f);
      }
    };
    const onClose = () => {
      done();
      reject(new Error(`socket closed (${c.closeCode}) while waiting for ${what}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${what}; got ${c.frames.length} frames`));
    }, timeoutMs);
    c.ws.on('message', check);
    c.ws.on('close', onClose);
  });
}

// ---------------------------------------------------------------------------------------------
// /health and /metrics

export interface Health {
  status: string;
  mode: string;
  engine: { ok: boolean; engine: string };
  connections: number;
  subscriptions: number;
  channels: number;
  uptimeSeconds: number;
}

export async function health(baseUrl: string): Promise<Health> {
  const res = await fetch(`${baseUrl}/health`);
  return (await res.json()) as Health;
}

/** Waits until /health reports `subscriptions` (and optionally `connections`) equal to the values given. */
export function healthReaches(
  baseUrl: string,
  want: Partial<Pick<Health, 'subscriptions' | 'connections' | 'channels'>>,
): Promise<Health> {
  return eventually(
    async () => {
      const h = await health(baseUrl);
      for (const [k, v] of Object.entries(want)) if (h[k as keyof Health] !== v) return undefined;
      return h;
    },
    `/health to report ${JSON.stringify(want)}`,
  );
}

/** The value of one sample of a Prometheus metric (labels matched exactly when given); 0 if absent. */
export async function metric(
  baseUrl: string,
  name: string,
  labels?: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const want = labels
    ? `{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`
    : '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (line.slice(0, sp) === `${name}${want}`) return Number(line.slice(sp + 1));
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP with full control over headers (no Content-Type unless given).

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Collects a response's text into a RawResponse. */
function readResponse(
  res: http.IncomingMessage,
  resolve: (r: RawResponse) => void,
  reject: (err: Error) => void,
): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => {
    text += d;
  });
  res.on('end', () =>
    resolve({
      status: res.statusCode ?? 0,
      headers: res.headers,
      text,
      json: <T>() => JSON.parse(text) as T,
    }),
  );
  res.on('error', reject);
}

export function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) =>
      readResponse(res, resolve, reject),
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * A streamed (chunked) publish whose writes the test controls: `write()` sends one piece of the
 * body, `end()` finishes it and resolves with the response.
 */
export class StreamingPublish {
  private readonly req: http.ClientRequest;
  readonly response: Promise<RawResponse>;

  constructor(url: string, headers: Record<string, string>) {
    this.req = http.request(url, { method: 'POST', headers });
    this.response = new Promise((resolve, reject) => {
      this.req.on('response', (res) => readResponse(res, resolve, reject));
      this.req.on('error', reject);
    });
    this.req.flushHeaders();
  }

  write(piece: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.req.write(piece, (err) => (err ? reject(err) : resolve())));
  }

  end(): Promise<RawResponse> {
    this.req.end();
    return this.response;
  }

  /** Drops the connection mid-body, as a crashed publisher would. */
  abort(): void {
    this.req.destroy();
  }
}

export function publishUrl(
  baseUrl: string,
  query: Record<string, string | string[]>,
  path = 'publish',
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
  return `${baseUrl}/v1/realtime/${path}?${q}`;
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events

export interface SseEvent {
  kind: string;
  data?: unknown;
  [k: string]: unknown;
}

/** A raw SSE subscriber over node:http: keeps every byte received and parses `data:` events. */
export class SseClient {
  text = '';
  ended = false;
  private readonly req: http.ClientRequest;
  private readonly res: http.IncomingMessage;

  private constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    req: http.ClientRequest,
    res: http.IncomingMessage,
  ) {
    this.req = req;
    this.res = res;
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      this.text += d;
    });
    const end = () => {
      this.ended = true;
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  /** Opens `/v1/realtime/sse`, with the token as `?token=` (default) or a Bearer header. */
  static open(
    baseUrl: string,
    token: string | undefined,
    options: { via?: 'query' | 'header'; headers?: Record<string, string>; agent?: http.Agent } = {},
  ): Promise<SseClient> {
    const via = options.via ?? 'query';
    const url =
      token !== undefined && via === 'query'
        ? `${baseUrl}/v1/realtime/sse?token=${encodeURIComponent(token)}`
        : `${baseUrl}/v1/realtime/sse`;
    const headers: Record<string, string> = { ...options.headers };
    if (token !== undefined && via === 'header') headers.Authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers, ...(options.agent ? { agent: options.agent } : {}) });
      req.on('response', (res) => resolve(new SseClient(res.statusCode ?? 0, res.headers, req, res)));
      req.on('error', reject);
    });
  }

  /** Every `data:` event so far, parsed (raw tee bytes that are not JSON events are skipped). */
  events(): SseEvent[] {
    const out: SseEvent[] = [];
    for (const block of this.text.split('\n\n')) {
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice('data: '.length));
      if (data.length === 0) continue;
      try {
        out.push(JSON.parse(data.join('\n')) as SseEvent);
      } catch {
        // not a JSON event (e.g. tee bytes); ignored here
      }
    }
    return out;
  }

  waitForText(pred: (text: string) => boolean, what = 'SSE text'): Promise<string> {
    return eventually(() => (pred(this.text) ? this.text : undefined), what);
  }

  waitForEvents(n: number): Promise<SseEvent[]> {
    return eventually(() => {
      const e = this.events();
      return e.length >= n ? e : undefined;
    }, `${n} SSE events`);
  }

  waitForEnd(): Promise<string> {
    return eventually(() => (this.ended ? this.text : undefined), 'the SSE response to end');
  }

  /** Stops reading the response (the socket's buffers fill up, as with a stalled client). */
  pause(): void {
    this.res.pause();
    this.req.socket?.pause();
  }

  resume(): void {
    this.req.socket?.resume();
    this.res.resume();
  }

  close(): void {
    this.req.destroy();
  }
}

export const sleepTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Error and fatal lines a Herald process logged (pino JSON, level ≥ 50). A clean run logs none:
 * every refusal in these tests is an expected 4xx, never a server error.
 */
export function serverErrors(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (!line.startsWith('{')) return false;
    try {
      return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 50;
    } catch {
      return false;
    }
  });
}

/** Stops each Herald (SIGTERM) and fails if one did not exit 0 or logged an error. */
export async function stopClean(...heralds: (HeraldProcess | undefined)[]): Promise<void> {
  const codes = await Promise.all(heralds.map((h) => h?.stop()));
  const problems: string[] = [];
  heralds.forEach((h, i) => {
    if (h === undefined) return;
    if (codes[i] !== 0) problems.push(`Herald on ${h.url} exited with ${codes[i]}`);
    problems.push(...serverErrors(h.output()));
  });
  if (problems.length > 0) throw new Error(`Herald did not stop cleanly:\n${problems.join('\n')}`);
}
