/**
 * Herald's HTTP API as the inspector calls it: on the page's own origin, with the signing key as a
 * Bearer header when the user gave one (`herald start`, or `herald dev --signing-key`). Errors carry
 * Herald's own message (`{"error": "…"}`), which already says what to do.
 *
 * The admin API is addressed relative to the page, which Herald serves at `/` and at `/herald/`
 * (only there in sidecar mode, where the root belongs to the Inngest server); the realtime API is
 * always at the origin root, where apps address it too.
 */

/** One channel as `GET /v1/admin/stats` lists it (channels with a subscriber on this node). */
export interface ChannelInfo {
  env: string;
  channel: string;
  /** Connections subscribed to any of its topics. */
  subscribers: number;
  /** Topic → subscribed connections. */
  topics: Record<string, number>;
  /** Messages this node received for the channel since it was first subscribed here. */
  received: number;
  epoch: string;
  seq: number;
}

export interface Stats {
  mode: 'dev' | 'start';
  engine: { ok: boolean; engine: string; detail?: string };
  uptimeSeconds: number;
  /** `off`: anyone who can reach the port may publish and mint tokens. */
  auth: 'off' | 'signing-key';
  connections: number;
  subscriptions: number;
  channels: number;
  transports: { ws: number; sse: number };
  delivered: { messages: number; bytes: number };
  published: number;
  slowConsumerDisconnects: number;
  history: { size: number; ttlSeconds: number };
  channelList: ChannelInfo[];
  /** The server's clock when it answered (rates are computed on it, not on the browser's). */
  now: string;
}

export interface PublishAck {
  id: string;
  epoch: string;
  seq: number;
  channel: string;
  topic: string;
}

export interface StreamAck {
  streamId: string;
  chunks: number;
  bytes: number;
  start: { seq: number };
  end: { seq: number };
}

/** A refused or failed request, with Herald's explanation. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function auth(key: string | undefined): Record<string, string> {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function call<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const error = (body as { error?: unknown } | undefined)?.error;
    throw new HttpError(res.status, typeof error === 'string' ? error : `HTTP ${res.status} ${text}`.trim());
  }
  return body as T;
}

export function fetchStats(key: string | undefined): Promise<Stats> {
  return call<Stats>('v1/admin/stats', { headers: auth(key), cache: 'no-store' });
}

/** A subscription token (JWT) for these topics of a channel. */
export async function mintToken(channel: string, topics: string[], key: string | undefined): Promise<string> {
  const body = JSON.stringify(topics.map((name) => ({ channel, name })));
  const { jwt } = await call<{ jwt: string }>('/v1/realtime/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth(key) },
    body,
  });
  return jwt;
}

function publishUrl(channel: string, topic: string): string {
  return `/v1/realtime/publish?${new URLSearchParams({ channel, topic })}`;
}

/** Publishes `json` (already JSON text) as one message. */
export function publishJson(
  channel: string,
  topic: string,
  json: string,
  key: string | undefined,
): Promise<PublishAck> {
  return call<PublishAck>(publishUrl(channel, topic), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth(key) },
    body: json,
  });
}

/**
 * Publishes text as one datastream (`Content-Type: text/stream`): Herald turns each read of the
 * request body into a chunk. Browsers stream a request body only over HTTP/2 or later (Chromium
 * refuses over HTTP/1.1, which is how Herald itself listens), so the pieces are streamed when the
 * page came over HTTP/2+ (e.g. behind a TLS proxy), and otherwise sent as one body, which arrives
 * as one chunk or a few.
 */
export function publishStream(
  channel: string,
  topic: string,
  pieces: string[],
  key: string | undefined,
  delayMs = 120,
): Promise<StreamAck> {
  const init: RequestInit & { duplex?: 'half' } = {
    method: 'POST',
    headers: { 'Content-Type': 'text/stream', ...auth(key) },
    body: pieces.join(''),
  };
  if (streamsRequestBodies()) {
    const encoder = new TextEncoder();
    let i = 0;
    init.body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i >= pieces.length) return controller.close();
        if (i > 0) await new Promise((r) => setTimeout(r, delayMs));
        controller.enqueue(encoder.encode(pieces[i++]));
      },
    });
    init.duplex = 'half';
  }
  return call<StreamAck>(publishUrl(channel, topic), init);
}

function streamsRequestBodies(): boolean {
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  return nav !== undefined && /^(h2|h3)/.test(nav.nextHopProtocol);
}
