/**
 * Server-Sent-Events subscriptions (`GET /v1/realtime/sse`, §4) against `herald dev`: headers,
 * framing (`data: <json>\n\n`, plus `id:` positions when the token covers one channel), keepalive
 * comments, auth failures and cleanup (§7.11–15, §7.27–39).
 */
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import {
  claims,
  DEFAULT_ENV,
  healthReaches,
  metric,
  publishUrl,
  request,
  SseClient,
  signJwt,
  stopClean,
  topicsOf,
} from './helpers.js';

let herald: HeraldProcess;
let fastKeepalive: HeraldProcess;
const open: SseClient[] = [];

beforeAll(async () => {
  [herald, fastKeepalive] = await Promise.all([
    startHerald(),
    startHerald({ args: ['--ping-interval', '100ms'] }),
  ]);
});
afterAll(async () => {
  await stopClean(herald, fastKeepalive);
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await healthReaches(herald.url, { connections: 0, subscriptions: 0 });
});

let n = 0;
const uniqueChannel = () => `sse-${++n}-${Date.now()}`;

async function sse(channel: string, topics: string[], via: 'query' | 'header' = 'query', h = herald) {
  const token = await mintToken(h.url, channel, topics);
  const c = await SseClient.open(h.url, token, { via });
  open.push(c);
  expect(c.status).toBe(200);
  return c;
}

/** The event blocks after the initial keepalive, without keepalive comments. */
function blocks(c: SseClient): string[] {
  return c.text.split('\n\n').filter((b) => b !== '' && b !== ':');
}

describe('connection', () => {
  it('answers 200 with the SSE headers and registers the subscription (Bearer header)', async () => {
    // §7.11, §7.27, §7.36
    const c = await sse(uniqueChannel(), ['t'], 'header');
    expect(c.headers['content-type']).toBe('text/event-stream');
    expect(c.headers['cache-control']).toBe('no-cache');
    expect(c.headers.connection).toBe('keep-alive');
    expect(c.headers['access-control-allow-origin']).toBe('*');
    expect(c.headers['access-control-expose-headers']).toBe('Content-Type, X-Request-Id');
    await healthReaches(herald.url, { connections: 1, subscriptions: 1 });
    // §7.28, §7.29 (a stable connection of protocol "sse"): counted under transport="sse".
    expect(await metric(herald.url, 'herald_connections', { transport: 'sse' })).toBe(1);
    c.close();
    await healthReaches(herald.url, { connections: 0, subscriptions: 0 });
  });

  it('refuses a request without a token: 401 with a JSON body', async () => {
    // §7.13
    const res = await request(`${herald.url}/v1/realtime/sse`);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ status: 401, error: expect.stringMatching(/Not authenticated/) });
  });

  it('refuses an invalid JWT: 401', async () => {
    // §7.14
    for (const token of ['invalid', signJwt(claims({ topics: topicsOf('c', ['t']) }), { secret: 'nope' })]) {
      const c = await SseClient.open(herald.url, token);
      await c.waitForEnd();
      expect(c.status).toBe(401);
      expect(c.headers['content-type']).toBe('application/json');
    }
  });

  it('ends promptly when the client goes away, and forgets the subscription', async () => {
    // §7.15, §7.35
    const c = await sse(uniqueChannel(), ['t']);
    expect(c.headers['content-type']).toBe('text/event-stream');
    await healthReaches(herald.url, { subscriptions: 1 });
    c.close();
    await healthReaches(herald.url, { connections: 0, subscriptions: 0 });
    expect((await fetch(`${herald.url}/health`)).status).toBe(200);
  });

  it('forgets clients that leave while their token is being checked', async () => {
    const token = await mintToken(herald.url, uniqueChannel(), ['a', 'b']);
    for (let i = 0; i < 100; i++) {
      // Sends the request and hangs up at once, before Herald has answered.
      await new Promise<void>((resolve) => {
        const req = http.get(`${herald.url}/v1/realtime/sse?token=${token}`, { agent: false });
        req.on('socket', (s) => s.on('connect', () => setImmediate(() => req.destroy())));
        req.on('error', () => {});
        req.on('close', () => resolve());
      });
    }
    await healthReaches(herald.url, { connections: 0, subscriptions: 0, channels: 0 });
  });

  it('misses nothing published right after the headers arrived (subscribed before answering)', async () => {
    for (let i = 0; i < 10; i++) {
      const channel = uniqueChannel();
      const c = await sse(channel, ['t']);
      await publish(herald.url, channel, 't', String(i));
      const [e] = await c.waitForEvents(1);
      expect(e?.data).toBe(i);
      c.close();
    }
  });
});

describe('framing', () => {
  it('sends a published message as a data: event whose JSON equals the WebSocket frame', async () => {
    // §7.12, §7.31
    const channel = uniqueChannel();
    const c = await sse(channel, ['t']);
    const ack = await (await publish(herald.url, channel, 't', '{"msg":"test message"}')).json();
    await c.waitForText((t) => t.includes('test message'));
    const [e] = c.events();
    expect(e).toEqual({
      kind: 'data',
      data: { msg: 'test message' },
      created_at: expect.any(String),
      channel,
      env_id: DEFAULT_ENV,
      topic: 't',
      epoch: ack.epoch,
      seq: ack.seq,
    });
  });

  it('sends non-JSON data as a JSON string', async () => {
    // §7.32
    const channel = uniqueChannel();
    const c = await sse(channel, ['t']);
    await request(publishUrl(herald.url, { channel, topic: 't' }), { method: 'POST', body: 'invalid json' });
    const [e] = await c.waitForEvents(1);
    expect(e?.data).toBe('invalid json');
  });

  it('sends datastream frames, chunks included, as data: events', async () => {
    // §7.33
    const channel = uniqueChannel();
    const c = await sse(channel, ['t']);
    await request(publishUrl(herald.url, { channel, topic: 't' }), {
      method: 'POST',
      headers: { 'Content-Type': 'text/stream' },
      body: 'streamed',
    });
    const events = await c.waitForEvents(3);
    expect(events.map((e) => e.kind)).toEqual(['datastream-start', 'chunk', 'datastream-end']);
    expect(events[1]).toMatchObject({
      kind: 'chunk',
      stream_id: events[0]?.data,
      data: 'streamed',
      channel,
      topic: 't',
    });
  });

  it('frames each message as `data: <json>\\n\\n` (no id when the token spans channels)', async () => {
    // §7.37, §7.38, §7.39
    const a = uniqueChannel();
    const b = uniqueChannel();
    const res = await fetch(`${herald.url}/v1/realtime/token`, {
      method: 'POST',
      body: JSON.stringify([
        { channel: a, name: 't' },
        { channel: b, name: 't' },
      ]),
    });
    const { jwt } = (await res.json()) as { jwt: string };
    const c = await SseClient.open(herald.url, jwt);
    open.push(c);
    await publish(herald.url, a, 't', '"one"');
    await publish(herald.url, b, 't', '"two"');
    await c.waitForEvents(2);
    expect(c.text.startsWith(':\n\n')).toBe(true); // the first keepalive comes right after the headers
    const body = c.text.slice(3);
    const parts = body.split('\n\n');
    expect(parts).toHaveLength(3);
    expect(parts[2]).toBe('');
    for (const [i, part] of parts.slice(0, 2).entries()) {
      expect(part.startsWith('data: ')).toBe(true);
      expect(part).not.toContain('\n');
      expect(JSON.parse(part.slice(6))).toMatchObject({ data: ['one', 'two'][i], topic: 't' });
    }
  });

  it('adds an id: line with the position when the token covers one channel (Herald addition)', async () => {
    const channel = uniqueChannel();
    const c = await sse(channel, ['t']);
    const ack = await (await publish(herald.url, channel, 't', '"x"')).json();
    await c.waitForEvents(1);
    const [block] = blocks(c);
    const [idLine, dataLine] = (block ?? '').split('\n');
    expect(idLine).toBe(`id: ${ack.epoch}:${ack.seq}`);
    expect(JSON.parse((dataLine ?? '').slice('data: '.length))).toMatchObject({ data: 'x', seq: ack.seq });
  });

  it('sends the keepalive comment `:\\n\\n` first, then every --ping-interval', async () => {
    // §7.34
    const c = await sse(uniqueChannel(), ['t'], 'query', fastKeepalive);
    await c.waitForText((t) => t.startsWith(':\n\n'), 'the first keepalive');
    await c.waitForText((t) => t.startsWith(':\n\n:\n\n:\n\n'), 'two more keepalives');
    expect(c.text.replaceAll(':\n\n', '')).toBe('');
    c.close();
  });
});
