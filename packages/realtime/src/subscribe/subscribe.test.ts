/**
 * subscribe() against a real Herald: every way of reading, closing, validation on receipt, dynamic
 * channels, datastreams, encoded streams, errors, and the behaviours of 0.4.7's and v4's
 * TokenSubscription/subscribe tests that apply (inngest-client-api.md §3.4, §3.5).
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { drain, mintToken, rawPublish, take, uniqueChannel, until, withHerald } from '../../test/support.js';
import { ConnectionError, channel, Realtime, subscribe, topic, ValidationError } from '../index.js';

const herald = withHerald();
const opts = () => ({ apiBaseUrl: herald.current.url });

async function send(ch: string, t: string, data: unknown) {
  const res = await rawPublish(herald.current.url, ch, t, JSON.stringify(data));
  expect(res.status).toBe(200);
  return (await res.json()) as { seq: number };
}

describe('subscribe() — reading', () => {
  it('delivers data messages shaped as 0.4.7 emits them (for await)', async () => {
    const ch = uniqueChannel();
    const stream = await subscribe({ channel: ch, topics: ['a', 'b'], ...opts() });
    await send(ch, 'a', { n: 1 });
    await send(ch, 'c', 'not subscribed');
    await send(ch, 'b', 'two');
    const got: unknown[] = [];
    for await (const m of stream) {
      got.push(m);
      if (got.length === 2) break;
    }
    expect(got).toEqual([
      expect.objectContaining({
        kind: 'data',
        channel: ch,
        topic: 'a',
        data: { n: 1 },
        createdAt: expect.any(Date),
      }),
      expect.objectContaining({ kind: 'data', channel: ch, topic: 'b', data: 'two' }),
    ]);
    expect(Object.keys(got[0] as object).sort()).toEqual(
      ['channel', 'topic', 'data', 'fnId', 'createdAt', 'runId', 'kind', 'envId'].sort(),
    );
    stream.close();
  });

  it('reader, getJsonStream() and callback each get every message', async () => {
    const ch = uniqueChannel();
    const seen: unknown[] = [];
    const stream = await subscribe({ channel: ch, topics: ['t'], ...opts() }, (m) => {
      seen.push(m.data);
    });
    const json = stream.getJsonStream();
    // With a callback, the returned stream attaches when first read (no unread spare behind the
    // user's back, W1), so start reading it before publishing.
    const fromMain = take(stream, 2);
    await until(() => true);
    await send(ch, 't', 1);
    await send(ch, 't', 2);
    expect((await take(json, 2)).map((m) => m.data)).toEqual([1, 2]);
    expect((await fromMain).map((m) => m.data)).toEqual([1, 2]);
    await until(() => seen.length === 2, 'callback');
    expect(seen).toEqual([1, 2]);
    stream.close();
  });

  it('getEncodedStream() emits NDJSON by default and SSE on request', async () => {
    const ch = uniqueChannel();
    const stream = await subscribe({ channel: ch, topics: ['t'], ...opts() });
    const ndjson = stream.getEncodedStream();
    const sse = stream.getEncodedStream({ format: 'sse' });
    await send(ch, 't', { x: 'é' });
    const dec = new TextDecoder();
    const [line] = await take(ndjson, 1);
    const [event] = await take(sse, 1);
    const text = dec.decode(line);
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ kind: 'data', channel: ch, topic: 't', data: { x: 'é' } });
    const sseText = dec.decode(event);
    expect(sseText).toMatch(/^data: \{.*\}\n\n$/);
    expect(JSON.parse(sseText.slice(6))).toMatchObject({ data: { x: 'é' } });
    stream.close();
  });

  it('onMessage: one call per message, no spare stream, unsubscribe() returned', async () => {
    const ch = uniqueChannel();
    const seen: number[] = [];
    const sub = await subscribe({
      channel: ch,
      topics: ['t'],
      ...opts(),
      onMessage: async (m) => {
        // Awaited before the next message: order holds even with async work.
        await new Promise((r) => setTimeout(r, 1));
        seen.push(m.data as number);
      },
    });
    expect(typeof sub.unsubscribe).toBe('function');
    for (let i = 1; i <= 5; i++) await send(ch, 't', i);
    await until(() => seen.length === 5, 'onMessage');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    sub.unsubscribe();
  });

  it('a throwing callback goes to onError, once, and later messages still arrive', async () => {
    const ch = uniqueChannel();
    const errors: Error[] = [];
    const seen: number[] = [];
    const sub = await subscribe({
      channel: ch,
      topics: ['t'],
      ...opts(),
      onMessage: (m) => {
        if (m.data === 1) throw new Error('boom');
        seen.push(m.data as number);
      },
      onError: (e) => errors.push(e),
    });
    await send(ch, 't', 1);
    await send(ch, 't', 2);
    await until(() => seen.length === 1, 'second message');
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    sub.close();
  });

  it('subscribes to a dynamic channel by calling its definition', async () => {
    const user = channel((id: string) => `user/${id}-${process.pid}`).addTopic(
      topic('status').type<string>(),
    );
    const stream = await subscribe({ channel: user('42'), topics: ['status'], ...opts() });
    await send(`user/42-${process.pid}`, 'status', 'ok');
    await send(`user/43-${process.pid}`, 'status', 'other user');
    const [m] = await take(stream, 1);
    expect(m).toMatchObject({ channel: `user/42-${process.pid}`, topic: 'status', data: 'ok' });
    stream.close();
  });

  it('gets a token lazily through a Herald client, and with a token object', async () => {
    const ch = uniqueChannel();
    const rt = new Realtime({ baseUrl: herald.current.url });
    const token = await rt.getSubscriptionToken({ channel: ch, topics: ['t'] });
    expect(token).toEqual({ channel: ch, topics: ['t'], key: expect.any(String) });
    const viaToken = await subscribe({ ...token, apiBaseUrl: herald.current.url });
    const lazy = await rt.subscribe({ channel: ch, topics: ['t'] });
    await rt.publish({ channel: ch, topic: 't', data: 'hi' });
    expect((await take(viaToken, 1))[0]?.data).toBe('hi');
    expect((await take(lazy, 1))[0]?.data).toBe('hi');
    viaToken.close();
    lazy.close();
  });

  it('uses the WebSocket option, and ws when there is no global WebSocket (Node 20)', async () => {
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBeUndefined();
    const ch = uniqueChannel();
    let constructed = 0;
    class Counting extends WebSocket {
      constructor(url: string) {
        super(url);
        constructed++;
      }
    }
    const a = await subscribe({ channel: ch, topics: ['t'], ...opts() });
    const b = await subscribe({ channel: ch, topics: ['t'], ...opts(), WebSocket: Counting });
    expect(constructed).toBe(1);
    await send(ch, 't', 'x');
    expect((await take(a, 1))[0]?.data).toBe('x');
    expect((await take(b, 1))[0]?.data).toBe('x');
    a.close();
    b.close();
  });
});

describe('subscribe() — closing', () => {
  it('close() ends every stream normally; unsubscribe() ends the reader (§3.5.1)', async () => {
    const ch = uniqueChannel();
    const stream = await subscribe({ channel: ch, topics: ['t'], ...opts() });
    const json = stream.getJsonStream();
    expect(typeof stream.close).toBe('function');
    stream.unsubscribe();
    expect(await drain(stream)).toEqual({ items: [] });
    expect(await drain(json)).toEqual({ items: [] });
  });

  it('messages received before close are delivered (W2)', async () => {
    const ch = uniqueChannel();
    const stream = await subscribe({ channel: ch, topics: ['t'], ...opts() });
    const json = stream.getJsonStream();
    for (let i = 0; i < 10; i++) await send(ch, 't', i);
    // Every output gets each frame at once: when `json` has all 10, `stream` holds them unread.
    expect(await take(json, 10)).toHaveLength(10);
    stream.close();
    const all = await drain(stream);
    expect(all.error).toBeUndefined();
    expect(all.items.map((m) => m.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await drain(json)).toEqual({ items: [] });
  });

  it('with reconnect off, a server shutdown ends streams with a ConnectionError, not a normal end (W15)', async () => {
    const { startHerald } = await import('../../../../test/support/herald.js');
    const own = await startHerald({ args: ['--shutdown-grace', '0'] });
    try {
      const ch = uniqueChannel();
      const errors: Error[] = [];
      const stream = await subscribe({
        channel: ch,
        topics: ['t'],
        apiBaseUrl: own.url,
        onError: (e) => errors.push(e),
        reconnect: false,
      });
      await rawPublish(own.url, ch, 't', '"last"');
      const [first] = await take(stream, 1);
      expect(first?.data).toBe('last');
      await own.stop();
      const rest = await drain(stream);
      expect(rest.error).toBeInstanceOf(ConnectionError);
      expect((rest.error as ConnectionError).code).toBe('connection_lost');
      // After its `closing` frame the server closes with 1001: reconnect, elsewhere.
      expect((rest.error as ConnectionError).closeCode).toBe(1001);
      expect((rest.error as ConnectionError).action).toBe('reconnect');
      expect(errors[0]).toBe(rest.error);
    } finally {
      await own.stop();
    }
  });
});

describe('subscribe() — connecting', () => {
  it('rejects with an Error when the socket closes before opening (bad token, W7/W8, §3.4.1)', async () => {
    const err = await subscribe({ channel: 'x', topics: ['t'], key: 'not-a-jwt', ...opts() }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toMatch(/before opening|failed/);
  });

  it('rejects after connectTimeoutMs when the server never answers the upgrade (W7)', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const err = await subscribe({
        channel: 'x',
        topics: ['t'],
        key: 'k',
        apiBaseUrl: `http://127.0.0.1:${port}`,
        connectTimeoutMs: 200,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.code).toBe('connect_timeout');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('refuses a channel definition that was not called, at runtime too', async () => {
    const def = channel('c');
    const err = await subscribe({ channel: def as never, topics: ['t'], ...opts() }).catch((e) => e);
    expect(err.message).toMatch(/call it first/);
  });

  it('without key or reachable token endpoint, rejects and creates no streams (§3.5.3)', async () => {
    const err = await subscribe({ channel: 'x', topics: ['t'], apiBaseUrl: 'http://127.0.0.1:9' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/token/);
  });
});

describe('subscribe() — validation on receipt', () => {
  const typed = channel('validated').addTopic(topic('n').schema(z.object({ message: z.string() })));

  it('reports an invalid message to onError and drops it; valid ones arrive as the schema output', async () => {
    const ch = typed();
    const errors: Error[] = [];
    const stream = await subscribe({ channel: ch, topics: ['n'], ...opts(), onError: (e) => errors.push(e) });
    await send('validated', 'n', { message: 123 });
    await send('validated', 'n', { message: 'ok', extra: 1 });
    const [m] = await take(stream, 1);
    expect(m?.data).toEqual({ message: 'ok' });
    expect(errors[0]).toBeInstanceOf(ValidationError);
    expect(errors[0]?.message).toMatch(/channel "validated" topic "n"/);
    stream.close();
  });

  it('without onError, an invalid message ends the streams with a ValidationError', async () => {
    const stream = await subscribe({ channel: typed(), topics: ['n'], ...opts() });
    await send('validated', 'n', { message: 'fine' });
    await send('validated', 'n', { message: 123 });
    const r = await drain(stream);
    expect(r.items.map((m) => m.data)).toEqual([{ message: 'fine' }]);
    expect(r.error).toBeInstanceOf(ValidationError);
  });

  it('validate: false passes data through untouched (§3.4.4)', async () => {
    const stream = await subscribe({ channel: typed(), topics: ['n'], ...opts(), validate: false });
    await send('validated', 'n', { message: 123 });
    expect((await take(stream, 1))[0]?.data).toEqual({ message: 123 });
    stream.close();
  });

  it('ignores messages for other channels (§3.4.5)', async () => {
    const ch = uniqueChannel();
    const token = await mintToken(herald.current.url, ch, ['t']);
    const stream = await subscribe({ channel: ch, topics: ['t'], key: token, ...opts() });
    await send(`${ch}-other`, 't', 'no');
    await send(ch, 't', 'yes');
    expect((await take(stream, 1))[0]?.data).toBe('yes');
    stream.close();
  });
});

describe('subscribe() — datastreams', () => {
  it('each consumer reads its own stream of a published async iterable, multi-byte text intact (W3, W27)', async () => {
    const ch = uniqueChannel();
    const rt = new Realtime({ baseUrl: herald.current.url });
    const stream = await rt.subscribe({ channel: ch, topics: ['tokens'] });
    const json = stream.getJsonStream();
    const pieces = ['Hé', 'llo ', '🌍', ' wörld', '!'];
    async function* tokens() {
      for (const p of pieces) yield p;
    }
    const ack = await rt.publishStream(ch, 'tokens', tokens());
    expect(ack).toMatchObject({ channel: ch, topic: 'tokens', streamId: expect.any(String) });
    for (const s of [stream, json]) {
      const [start] = await take(s, 1);
      expect(start).toMatchObject({ kind: 'datastream-start', streamId: ack.streamId, data: ack.streamId });
      if (start?.kind !== 'datastream-start') throw new Error('expected a start');
      const text = (await drain(start.stream)).items.join('');
      expect(text).toBe(pieces.join(''));
    }
    const rest = await take(stream, ack.chunks + 1);
    expect(rest.at(-1)).toMatchObject({ kind: 'datastream-end', streamId: ack.streamId });
    expect(rest.slice(0, -1).every((m) => m.kind === 'chunk')).toBe(true);
    stream.close();
  });

  it('close() ends open datastream streams so their readers do not hang', async () => {
    const ch = uniqueChannel();
    const rt = new Realtime({ baseUrl: herald.current.url });
    const stream = await rt.subscribe({ channel: ch, topics: ['s'] });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* slow() {
      yield 'first';
      await gate;
      yield 'second';
    }
    const publishing = rt.publishStream(ch, 's', slow());
    const [start] = await take(stream, 1);
    if (start?.kind !== 'datastream-start') throw new Error('expected a start');
    const reader = start.stream.getReader();
    expect((await reader.read()).value).toBe('first');
    stream.close();
    expect((await reader.read()).done).toBe(true);
    release();
    await publishing;
  });
});

/**
 * A real `ws` socket to the real Herald whose incoming frames are rewritten before the SDK sees them:
 * the way to reproduce what Herald never sends on its own (a replayed frame, Inngest's bare chunks).
 */
function rewritingWebSocket(rewrite: (frame: Record<string, unknown>) => Record<string, unknown>[]) {
  return class extends WebSocket {
    // biome-ignore lint/suspicious/noExplicitAny: matches ws's overloads loosely, as the SDK's WebSocketLike does.
    override addEventListener(type: any, listener: any): void {
      if (type !== 'message') {
        super.addEventListener(type, listener);
        return;
      }
      super.addEventListener('message', (event: { data: unknown }) => {
        const frames = rewrite(JSON.parse(String(event.data)) as Record<string, unknown>);
        for (const f of frames) listener({ data: JSON.stringify(f) });
      });
    }
  };
}

describe('subscribe() — positions', () => {
  it('drops a frame at or below the last delivered seq of its channel (replay overlap)', async () => {
    const ch = uniqueChannel();
    const twice = rewritingWebSocket((f) => [f, f]);
    const stream = await subscribe({ channel: ch, topics: ['t'], ...opts(), WebSocket: twice });
    for (let i = 1; i <= 3; i++) await send(ch, 't', i);
    await send(ch, 't', 'end');
    const got = await take(stream, 4);
    expect(got.map((m) => m.data)).toEqual([1, 2, 3, 'end']);
    stream.close();
    expect((await drain(stream)).items).toEqual([]);
  });

  it("routes chunk frames without channel/topic (Inngest's format) by stream id", async () => {
    const ch = uniqueChannel();
    const bare = rewritingWebSocket((f) => {
      if (f.kind !== 'chunk') return [f];
      const { channel: _c, topic: _t, ...rest } = f;
      return [rest];
    });
    const rt = new Realtime({ baseUrl: herald.current.url });
    const stream = await rt.subscribe({ channel: ch, topics: ['s'], WebSocket: bare });
    await rt.publishStream(ch, 's', ['a', 'b']);
    const [start] = await take(stream, 1);
    if (start?.kind !== 'datastream-start') throw new Error('expected a start');
    expect((await drain(start.stream)).items.join('')).toBe('ab');
    stream.close();
  });
});
