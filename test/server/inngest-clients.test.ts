/**
 * The real Inngest clients, unchanged, against `herald start --signing-key …`:
 * - inngest@3.54.2's InngestApi mints tokens with the hashed signing key (`getSubscriptionToken`
 *   from @inngest/realtime calls it) and publishes with `inngestApi.publish(...)` — the request
 *   `realtimeMiddleware()` sends, which a function run through @inngest/test also exercises;
 * - @inngest/realtime@0.4.7's `subscribe()` receives over WebSocket (Node 20 has no global
 *   WebSocket: `ws` provides it).
 * Datastreams are checked on a raw WebSocket: the 0.4.7 client throws a ReferenceError inside its
 * own `datastream-start` handler (it reads `stream` before assigning it), which would end the process.
 */
import type { Inngest as InngestClient } from 'inngest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameCollector } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import {
  DEFAULT_ENV,
  decodeJwt,
  eventually,
  frameWhere,
  publishUrl,
  SIGNING_KEY,
  SIGNING_KEY_HASHED,
  stopClean,
} from './helpers.js';

type Realtime = typeof import('@inngest/realtime');
type InngestModule = typeof import('inngest');

let herald: HeraldProcess;
let realtime: Realtime;
let inngest: InngestModule;
/** Requests the v3 client sent, seen through the `fetch` option it supports (passed straight to fetch). */
const sent: {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  status: number;
}[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  const headers = new Headers(init?.headers);
  const res = await fetch(input, init);
  sent.push({
    method: init?.method ?? 'GET',
    url: String(input),
    authorization: headers.get('authorization') ?? undefined,
    contentType: headers.get('content-type') ?? undefined,
    status: res.status,
  });
  return res;
};

let app: InngestClient;

beforeAll(async () => {
  herald = await startHerald({ mode: 'start', args: ['--signing-key', SIGNING_KEY] });
  // Both clients read their signing key from the environment; @inngest/realtime reads it when loaded.
  process.env.INNGEST_SIGNING_KEY = SIGNING_KEY;
  delete process.env.INNGEST_SIGNING_KEY_FALLBACK;
  for (const k of ['INNGEST_DEV', 'INNGEST_BASE_URL', 'INNGEST_API_BASE_URL']) delete process.env[k];
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
  [realtime, inngest] = await Promise.all([import('@inngest/realtime'), import('inngest')]);
  app = new inngest.Inngest({ id: 'herald-e2e', baseUrl: herald.url, fetch: recordingFetch });
});
afterAll(async () => {
  await stopClean(herald);
});

let n = 0;
const uniqueChannel = () => `clients-${++n}-${Date.now()}`;

/** The v3 SDK's own publish request (what realtimeMiddleware's `publish()` sends). */
async function sdkPublish(channel: string, topic: string, data: unknown, runId?: string) {
  const api = (
    app as unknown as { inngestApi: { publish(o: unknown, d: unknown): Promise<{ ok: boolean }> } }
  ).inngestApi;
  const result = await api.publish({ channel, topics: [topic], ...(runId ? { runId } : {}) }, data);
  expect(result.ok).toBe(true);
}

/** Reads `count` messages from a 0.4.7 subscription stream. */
async function read(stream: ReadableStream<unknown>, count: number): Promise<Record<string, unknown>[]> {
  const reader = stream.getReader();
  const out: Record<string, unknown>[] = [];
  const guard = setTimeout(() => reader.cancel('timed out'), 15_000);
  try {
    while (out.length < count) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended after ${out.length}/${count} messages`);
      out.push(value as Record<string, unknown>);
    }
  } finally {
    clearTimeout(guard);
    reader.releaseLock();
  }
  return out;
}

describe('inngest v3 + @inngest/realtime 0.4.7', () => {
  it('getSubscriptionToken(app, …) mints a token from Herald with the hashed signing key', async () => {
    const channel = uniqueChannel();
    const token = await realtime.getSubscriptionToken(app, { channel, topics: ['ai', 'status'] });
    expect(token).toMatchObject({ channel, topics: ['ai', 'status'], key: expect.any(String) });
    expect(sent.at(-1)).toEqual({
      method: 'POST',
      url: `${herald.url}/v1/realtime/token`,
      authorization: `Bearer ${SIGNING_KEY_HASHED}`,
      contentType: 'application/json',
      status: 201,
    });
    expect(decodeJwt(token.key as string).payload).toMatchObject({
      env: DEFAULT_ENV,
      publish: false,
      topics: [
        { kind: 'run', env_id: DEFAULT_ENV, channel, name: 'ai' },
        { kind: 'run', env_id: DEFAULT_ENV, channel, name: 'status' },
      ],
    });
  });

  it("subscribe() receives what the v3 SDK's publish sends", async () => {
    const channel = uniqueChannel();
    const token = await realtime.getSubscriptionToken(app, { channel, topics: ['ai', 'status'] });
    const stream = await realtime.subscribe({ ...token, app });
    const runId = '01K3ABCDEFGHJKMNPQRSTVWXYZ';
    const data: unknown[] = [{ hello: 'world' }, 'plain text', 42, [1, 'two'], { nested: { ok: true } }];
    for (const d of data) await sdkPublish(channel, 'ai', d, runId);
    await sdkPublish(channel, 'not-in-token', 'never delivered');
    await sdkPublish(channel, 'status', { done: true });
    const publishRequest = sent.find((s) => s.url.includes('/v1/realtime/publish'));
    expect(publishRequest).toMatchObject({
      method: 'POST',
      authorization: `Bearer ${SIGNING_KEY_HASHED}`,
      contentType: 'application/json',
      status: 200,
    });
    expect(new URL(publishRequest?.url as string).searchParams.get('run_id')).toBe(runId);

    const got = await read(stream as unknown as ReadableStream<unknown>, data.length + 1);
    expect(got.map((m) => [m.topic, m.data])).toEqual([
      ...data.map((d) => ['ai', d]),
      ['status', { done: true }],
    ]);
    expect(got[0]).toMatchObject({ kind: 'data', channel, topic: 'ai', runId, envId: DEFAULT_ENV });
    expect(got[0]?.createdAt).toBeInstanceOf(Date);
    await stream.cancel();
  });

  it('documents F4: the SDK sends a string unencoded, so "123" arrives as the number 123', async () => {
    const channel = uniqueChannel();
    const token = await realtime.getSubscriptionToken(app, { channel, topics: ['t'] });
    const stream = await realtime.subscribe({ ...token, app });
    await sdkPublish(channel, 't', '123');
    await sdkPublish(channel, 't', JSON.stringify('123')); // encode it yourself to keep a string
    const got = await read(stream as unknown as ReadableStream<unknown>, 2);
    expect(got.map((m) => m.data)).toEqual([123, '123']);
    await stream.cancel();
  });

  it('subscribe() without a key fetches its own token (raw signing key) and receives', async () => {
    const channel = uniqueChannel();
    const stream = await realtime.subscribe({ app, channel, topics: ['lazy'] });
    await sdkPublish(channel, 'lazy', { lazily: 'subscribed' });
    const [m] = await read(stream as unknown as ReadableStream<unknown>, 1);
    expect(m).toMatchObject({ channel, topic: 'lazy', data: { lazily: 'subscribed' } });
    await stream.cancel();
  });

  it('a function using realtimeMiddleware() publishes through Herald (run by @inngest/test)', async () => {
    const [{ realtimeMiddleware }, { InngestTestEngine }] = await Promise.all([
      import('@inngest/realtime/middleware'),
      import('@inngest/test'),
    ]);
    const withMiddleware = new inngest.Inngest({
      id: 'herald-e2e-middleware',
      baseUrl: herald.url,
      middleware: [realtimeMiddleware()],
    });
    const channel = uniqueChannel();
    const token = await realtime.getSubscriptionToken(withMiddleware, { channel, topics: ['progress'] });
    const stream = await realtime.subscribe({ ...token, app: withMiddleware });
    const fn = withMiddleware.createFunction(
      { id: 'import' },
      { event: 'app/import' },
      async ({ publish }) => {
        for (const pct of [10, 50, 100]) await publish({ channel, topic: 'progress', data: { pct } });
        return 'done';
      },
    );
    const { result } = await new InngestTestEngine({ function: fn as never }).execute();
    expect(result).toBe('done');
    const got = await read(stream as unknown as ReadableStream<unknown>, 3);
    expect(got.map((m) => m.data)).toEqual([{ pct: 10 }, { pct: 50 }, { pct: 100 }]);
    expect(got[0]).toMatchObject({ channel, topic: 'progress', runId: expect.any(String) });
    await stream.cancel();
  });

  it('retries with the fallback signing key after a 401 (client-side rotation)', async () => {
    const saved = {
      key: process.env.INNGEST_SIGNING_KEY,
      fallback: process.env.INNGEST_SIGNING_KEY_FALLBACK,
    };
    process.env.INNGEST_SIGNING_KEY = 'signkey-prod-0123456789abcdef'; // a new key Herald does not know yet
    process.env.INNGEST_SIGNING_KEY_FALLBACK = SIGNING_KEY;
    try {
      const rotating = new inngest.Inngest({
        id: 'herald-e2e-rotating',
        baseUrl: herald.url,
        fetch: recordingFetch,
      });
      const from = sent.length;
      const token = await realtime.getSubscriptionToken(rotating, {
        channel: uniqueChannel(),
        topics: ['t'],
      });
      expect(token.key).toEqual(expect.any(String));
      expect(sent.slice(from).map((s) => [s.status, s.authorization])).toEqual([
        [401, expect.stringMatching(/^Bearer signkey-prod-[0-9a-f]{64}$/)],
        [201, `Bearer ${SIGNING_KEY_HASHED}`],
      ]);
    } finally {
      process.env.INNGEST_SIGNING_KEY = saved.key;
      if (saved.fallback === undefined) delete process.env.INNGEST_SIGNING_KEY_FALLBACK;
      else process.env.INNGEST_SIGNING_KEY_FALLBACK = saved.fallback;
    }
  });
});

describe('datastreams (checked on a raw WebSocket)', () => {
  const text = 'Streaming 👋🏽 from the SDK: héllo, 世界! 🎉🚀 — fin.';

  async function rawSubscriber(channel: string) {
    const token = await realtime.getSubscriptionToken(app, { channel, topics: ['tokens'] });
    return FrameCollector.connect(herald.wsUrl, token.key as string);
  }

  function expectStream(c: FrameCollector, channel: string) {
    const kinds = c.frames.map((f) => f.kind);
    expect(kinds[0]).toBe('datastream-start');
    expect(kinds.at(-1)).toBe('datastream-end');
    const streamId = c.frames[0]?.data;
    expect(typeof streamId).toBe('string');
    const chunks = c.frames.slice(1, -1);
    expect(chunks.length).toBeGreaterThan(0);
    for (const ch of chunks)
      expect(ch).toMatchObject({
        kind: 'chunk',
        stream_id: streamId,
        channel,
        topic: 'tokens',
        env_id: DEFAULT_ENV,
      });
    expect(c.frames.at(-1)).toMatchObject({ data: streamId, channel, topic: 'tokens' });
    expect(chunks.map((ch) => ch.data).join('')).toBe(text);
    return chunks;
  }

  it('a text/stream publish arrives as start, chunks carrying channel and topic, end', async () => {
    const channel = uniqueChannel();
    const c = await rawSubscriber(channel);
    const res = await fetch(publishUrl(herald.url, { channel, topic: 'tokens' }), {
      method: 'POST',
      headers: { 'Content-Type': 'text/stream', Authorization: `Bearer ${SIGNING_KEY_HASHED}` },
      body: text,
    });
    expect(res.status).toBe(200);
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    expectStream(c, channel);
    c.close();
  });

  it("the v3 SDK's publish with a ReadableStream arrives whole, characters split across writes intact", async () => {
    const channel = uniqueChannel();
    const c = await rawSubscriber(channel);
    const bytes = new TextEncoder().encode(text);
    // Write boundaries inside 👋 (4 bytes), inside 世 (3 bytes) and inside 🚀 (4 bytes).
    const at = (s: string, plus: number) => Buffer.from(text).indexOf(Buffer.from(s)) + plus;
    const cuts = [at('👋', 2), at('世', 1), at('🚀', 3), bytes.length];
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        controller = ctl;
      },
    });
    // undici sends the request head with the first piece of the body, so nothing arrives before it.
    const published = sdkPublish(channel, 'tokens', body);
    published.catch(() => {}); // awaited below; a failure before that must not go unhandled
    let from = 0;
    for (const to of cuts) {
      controller.enqueue(bytes.slice(from, to));
      from = to;
      // Let the server publish what it can decode before the next write, so the writes stay separate reads.
      const complete = Buffer.byteLength(new TextDecoder().decode(bytes.slice(0, to), { stream: true }));
      await eventually(
        () =>
          c.frames
            .filter((f) => f.kind === 'chunk')
            .reduce((s, f) => s + Buffer.byteLength(f.data as string), 0) >= complete,
        `${complete} bytes of chunks`,
      );
    }
    controller.close();
    await published;
    const textStream = sent.at(-1);
    expect(textStream).toMatchObject({
      contentType: 'text/stream',
      authorization: `Bearer ${SIGNING_KEY_HASHED}`,
      status: 200,
    });
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    const chunks = expectStream(c, channel);
    expect(chunks.length).toBe(cuts.length);
    for (const ch of chunks) expect(ch.data).not.toContain('\uFFFD');
    c.close();
  });
});
