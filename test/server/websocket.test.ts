/**
 * WebSocket subscriptions (`GET /v1/realtime/connect`) against `herald dev`: the upgrade, frames,
 * delivery semantics (§7 WS and broadcaster items), `sub`/`unsub` answered (F14), the inbound
 * frame limit (1009) and malformed client frames.
 */

import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish, refusedDial } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import {
  bearer,
  claims,
  DEFAULT_ENV,
  DEV_JWT_SECRET,
  eventually,
  frameWhere,
  healthReaches,
  metric,
  request,
  signJwt,
  stopClean,
  topicsOf,
} from './helpers.js';

let herald: HeraldProcess;
const open: FrameCollector[] = [];

beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => {
  await stopClean(herald);
});
// Every test leaves the server as it found it: no connections, no subscriptions.
afterEach(async () => {
  for (const c of open.splice(0)) if (c.closeCode === undefined) c.close();
  await healthReaches(herald.url, { connections: 0, subscriptions: 0 });
});

let n = 0;
const uniqueChannel = (prefix = 'ws') => `${prefix}-${++n}-${Date.now()}`;

async function subscriber(channel: string, topics: string[], via: 'query' | 'header' = 'query') {
  const token = await mintToken(herald.url, channel, topics);
  const c =
    via === 'query'
      ? await FrameCollector.connect(herald.wsUrl, token)
      : await FrameCollector.connect(herald.wsUrl, '', { headers: bearer(token) });
  open.push(c);
  return c;
}

async function ok(res: Response): Promise<{ seq: number; epoch: string; id: string }> {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { seq: number; epoch: string; id: string };
}

/** Sends a control frame and waits for its answer (matched by `id`). */
async function control(c: FrameCollector, frame: Record<string, unknown>) {
  c.ws.send(JSON.stringify(frame));
  return frameWhere(c, (f) => f.kind === frame.kind && f.id === frame.id, `the ${String(frame.kind)} reply`);
}

describe('connect', () => {
  it('upgrades with the token in an Authorization: Bearer header and registers its subscription', async () => {
    // §7.16
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['ai'], 'header');
    const h = await healthReaches(herald.url, { connections: 1, subscriptions: 1 });
    expect(h.channels).toBe(1);
    const ack = await ok(await publish(herald.url, channel, 'ai', '"hi"'));
    const [f] = await c.waitFor(1);
    expect(f).toMatchObject({ kind: 'data', data: 'hi', seq: ack.seq });
  });

  it('refuses a dial without a token: 401 with a JSON error', async () => {
    // §7.19
    const r = await refusedDial(`${herald.wsUrl}/v1/realtime/connect`);
    expect(r.status).toBe(401);
    expect(r.contentType).toBe('application/json');
    expect(JSON.parse(r.body)).toMatchObject({
      status: 401,
      error: expect.stringContaining('Not authenticated'),
    });
  });

  it('refuses a dial with an invalid JWT: 401 with a JSON error', async () => {
    // §7.20
    for (const bad of ['not-a-jwt', 'a.b.c', signJwt(claims(), { secret: 'some-other-secret' })]) {
      const r = await refusedDial(`${herald.wsUrl}/v1/realtime/connect?token=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(401);
      expect(r.contentType).toBe('application/json');
      expect(JSON.parse(r.body).error).toMatch(/Not authenticated/);
    }
  });

  it('echoes a client close (1000, as the JS clients send it) and forgets the subscription', async () => {
    // §7.22
    const c = await subscriber(uniqueChannel(), ['ai', 'other']);
    await healthReaches(herald.url, { connections: 1, subscriptions: 2 });
    c.ws.close(1000, 'Userland closed connection');
    expect(await c.closed()).toBe(1000);
    expect(c.closeReason).toBe('Userland closed connection');
    await healthReaches(herald.url, { connections: 0, subscriptions: 0, channels: 0 });
  });

  it('answers a plain GET with a valid token with 426 Upgrade Required (§1.2)', async () => {
    const token = await mintToken(herald.url, uniqueChannel(), ['ai']);
    const res = await request(`${herald.url}/v1/realtime/connect?token=${token}`);
    expect(res.status).toBe(426);
    expect(res.json()).toMatchObject({ status: 426 });
  });

  it('subscribes before completing the upgrade: a publish right after open is never missed (F5)', async () => {
    for (let i = 0; i < 20; i++) {
      const channel = uniqueChannel('f5');
      const c = await subscriber(channel, ['t']);
      const ack = await ok(await publish(herald.url, channel, 't', String(i)));
      const [f] = await c.waitFor(1);
      expect(f).toMatchObject({ data: i, seq: ack.seq });
      c.close();
    }
  });
});

describe('frames', () => {
  it('delivers a published message with kind, data, channel and topic', async () => {
    // §7.17
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['ai']);
    await ok(await publish(herald.url, channel, 'ai', '{"hello":"world"}'));
    const [f] = await c.waitFor(1);
    expect(f).toMatchObject({ kind: 'data', data: { hello: 'world' }, channel, topic: 'ai' });
  });

  it('delivers a message equal in every field to what was published (token minted via /token, no auth)', async () => {
    // §7.23
    const channel = 'user:123';
    const c = await subscriber(channel, ['ai']);
    const ack = await ok(await publish(herald.url, channel, 'ai', '{"message":"hello","n":[1,2,3]}'));
    const [f] = await c.waitFor(1);
    expect(f).toEqual({
      kind: 'data',
      data: { message: 'hello', n: [1, 2, 3] },
      created_at: expect.any(String),
      channel,
      env_id: DEFAULT_ENV,
      topic: 'ai',
      epoch: ack.epoch,
      seq: ack.seq,
    });
    expect(Number.isNaN(new Date(f?.created_at as string).getTime())).toBe(false);
    // Frames never carry `null` in a field (Inngest's clients would drop the whole frame, F24).
    expect(c.raw[0]).not.toContain('null');
  });

  it('publishes a body without Content-Type and without auth as JSON text (body `test` → "test")', async () => {
    // §7.24
    const channel = 'user:123';
    const c = await subscriber(channel, ['ai']);
    const res = await request(`${herald.url}/v1/realtime/publish?channel=${channel}&topic=ai`, {
      method: 'POST',
      body: 'test',
    });
    expect(res.status).toBe(200);
    const [f] = await c.waitFor(1);
    expect(f).toMatchObject({ kind: 'data', data: 'test', channel, topic: 'ai' });
  });

  it('delivers several messages in publish order', async () => {
    // §7.21
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['ai']);
    for (const m of ['first', 'second', 'third'])
      await ok(await publish(herald.url, channel, 'ai', JSON.stringify(m)));
    const frames = await c.waitFor(3);
    expect(frames.map((f) => f.data)).toEqual(['first', 'second', 'third']);
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3]);
  });
});

describe('delivery', () => {
  it('delivers nothing published while nobody was subscribed to a later live subscriber', async () => {
    // §7.45
    const channel = uniqueChannel();
    const before = await ok(await publish(herald.url, channel, 'ai', '"unheard"'));
    expect(before.seq).toBe(1);
    const c = await subscriber(channel, ['ai']);
    await ok(await publish(herald.url, channel, 'ai', '"heard"'));
    const [f] = await c.waitFor(1);
    expect(f).toMatchObject({ data: 'heard', seq: 2 });
    expect(c.frames).toHaveLength(1);
  });

  it('delivers exactly one copy to a matching subscription', async () => {
    // §7.46
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['ai', 'other']);
    await ok(await publish(herald.url, channel, 'ai', '{"x":1}'));
    await ok(await publish(herald.url, channel, 'other', '"marker"'));
    const frames = await c.waitFor(2);
    expect(frames.map((f) => [f.topic, f.data])).toEqual([
      ['ai', { x: 1 }],
      ['other', 'marker'],
    ]);
  });

  it('subscribing twice to the same topic on one connection still delivers once', async () => {
    // §7.47
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['ai', 'end']);
    const again = await mintToken(herald.url, channel, ['ai']);
    const reply = await control(c, { kind: 'sub', data: again, id: 'again' });
    expect(reply.data).toMatchObject({ ok: true });
    await healthReaches(herald.url, { subscriptions: 2 });
    await ok(await publish(herald.url, channel, 'ai', '"once"'));
    await ok(await publish(herald.url, channel, 'end', '"marker"'));
    await frameWhere(c, (f) => f.data === 'marker');
    expect(c.frames.filter((f) => f.kind === 'data').map((f) => f.data)).toEqual(['once', 'marker']);
  });

  it('delivers nothing to a connection once it is closed, and forgets its subscriptions', async () => {
    // §7.48
    const channel = uniqueChannel();
    const a = await subscriber(channel, ['ai']);
    const b = await subscriber(channel, ['ai']);
    await healthReaches(herald.url, { subscriptions: 2 });
    a.close();
    expect(await a.closed()).toBe(1005);
    await healthReaches(herald.url, { connections: 1, subscriptions: 1 });
    await ok(await publish(herald.url, channel, 'ai', '"after"'));
    await b.waitFor(1);
    expect(a.frames).toHaveLength(0);
  });

  it('unsub removes a topic (answered), and nothing more of it is delivered', async () => {
    // §7.49 (and F14: unsub is answered)
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['ai', 'keep']);
    const reply = await control(c, { kind: 'unsub', id: 7, data: [{ kind: 'run', channel, name: 'ai' }] });
    expect(reply).toEqual({ kind: 'unsub', id: 7, data: { ok: true, topics: [{ channel, name: 'ai' }] } });
    await healthReaches(herald.url, { subscriptions: 1 });
    await ok(await publish(herald.url, channel, 'ai', '"dropped"'));
    await ok(await publish(herald.url, channel, 'keep', '"kept"'));
    await frameWhere(c, (f) => f.data === 'kept');
    expect(c.frames.filter((f) => f.kind === 'data').map((f) => f.data)).toEqual(['kept']);
  });

  it('gives each of 10 subscribers of one topic exactly one copy', async () => {
    // §7.50
    const channel = uniqueChannel();
    const subs = await Promise.all(Array.from({ length: 10 }, () => subscriber(channel, ['ai'])));
    await ok(await publish(herald.url, channel, 'ai', '"fan-out"'));
    await ok(await publish(herald.url, channel, 'ai', '"marker"'));
    for (const s of subs) {
      const frames = await s.waitFor(2);
      expect(frames.map((f) => f.data)).toEqual(['fan-out', 'marker']);
    }
  });

  it('counts topic references: 1 → 2 → 1 → none as two subscribers come and go', async () => {
    // §7.52
    const channel = uniqueChannel();
    const a = await subscriber(channel, ['ai']);
    await healthReaches(herald.url, { subscriptions: 1, channels: 1 });
    const b = await subscriber(channel, ['ai']);
    await healthReaches(herald.url, { subscriptions: 2, channels: 1 });
    a.close();
    await healthReaches(herald.url, { subscriptions: 1, channels: 1 });
    b.close();
    await healthReaches(herald.url, { subscriptions: 0, channels: 0 });
  });

  it('handles 50 concurrent subscriptions to one topic and removes the topic when all leave', async () => {
    // §7.55
    const channel = uniqueChannel();
    const subs = await Promise.all(Array.from({ length: 50 }, () => subscriber(channel, ['ai'])));
    await healthReaches(herald.url, { connections: 50, subscriptions: 50, channels: 1 });
    await ok(await publish(herald.url, channel, 'ai', '"all"'));
    for (const s of subs) expect((await s.waitFor(1))[0]?.data).toBe('all');
    for (const s of subs) s.close();
    await healthReaches(herald.url, { connections: 0, subscriptions: 0, channels: 0 });
  });

  it('leaves no topic behind after 20 connections × 100 interleaved sub/unsub cycles', async () => {
    // §7.56
    const channel = uniqueChannel();
    const extra = await mintToken(herald.url, channel, ['extra']);
    const conns = await Promise.all(Array.from({ length: 20 }, () => subscriber(channel, ['base'])));
    await Promise.all(
      conns.map(async (c, i) => {
        for (let k = 0; k < 100; k++) {
          const s = await control(c, { kind: 'sub', data: extra, id: `s${i}-${k}` });
          expect(s.data).toMatchObject({ ok: true });
          const u = await control(c, {
            kind: 'unsub',
            data: [{ kind: 'run', channel, name: 'extra' }],
            id: `u${i}-${k}`,
          });
          expect(u.data).toEqual({ ok: true, topics: [{ channel, name: 'extra' }] });
        }
      }),
    );
    await healthReaches(herald.url, { connections: 20, subscriptions: 20, channels: 1 });
    await ok(await publish(herald.url, channel, 'extra', '"nobody"'));
    await ok(await publish(herald.url, channel, 'base', '"everybody"'));
    for (const c of conns) {
      await frameWhere(c, (f) => f.data === 'everybody');
      expect(c.frames.some((f) => f.data === 'nobody')).toBe(false);
    }
  });
});

describe('no subscriber cap (F10)', () => {
  it('delivers to 5,002 subscribers of one topic (Inngest stops at 5,001)', async () => {
    const channel = uniqueChannel('crowd');
    const token = await mintToken(herald.url, channel, ['t']);
    const crowd: FrameCollector[] = [];
    while (crowd.length < 5002) {
      const batch = Math.min(250, 5002 - crowd.length);
      crowd.push(
        ...(await Promise.all(
          Array.from({ length: batch }, () => FrameCollector.connect(herald.wsUrl, token)),
        )),
      );
    }
    open.push(...crowd);
    await healthReaches(herald.url, { connections: 5002, subscriptions: 5002 });
    await ok(await publish(herald.url, channel, 't', '"to everyone"'));
    await Promise.all(
      crowd.map((c) => frameWhere(c, (f) => f.data === 'to everyone', 'the message', 60_000)),
    );
    expect(crowd.every((c) => c.frames.length === 1)).toBe(true);
  }, 120_000);
});

describe('sub and unsub frames (F14)', () => {
  it('sub adds the topics of another token and answers with them, echoing the id', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['a']);
    const more = await mintToken(herald.url, channel, ['b', 'c']);
    const reply = await control(c, { kind: 'sub', data: more, id: 'req-1' });
    expect(reply).toEqual({
      kind: 'sub',
      id: 'req-1',
      data: {
        ok: true,
        topics: [
          { channel, name: 'b' },
          { channel, name: 'c' },
        ],
      },
    });
    await ok(await publish(herald.url, channel, 'c', '"via sub"'));
    await frameWhere(c, (f) => f.data === 'via sub');
  });

  it('sub with an invalid token is answered with an error and changes nothing', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['a']);
    const reply = await control(c, { kind: 'sub', data: 'not.a.token', id: 2 });
    expect(reply.data).toMatchObject({ ok: false, error: expect.stringMatching(/Not authenticated/) });
    expect((await healthReaches(herald.url, { connections: 1 })).subscriptions).toBe(1);
  });

  it("sub with a token of another env than the connection's is refused", async () => {
    const otherEnv = '11111111-1111-4111-8111-111111111111';
    const channel = uniqueChannel();
    const token = signJwt(claims({ env: otherEnv, topics: topicsOf(channel, ['a'], otherEnv) }), {
      secret: DEV_JWT_SECRET,
    });
    const c = await FrameCollector.connect(herald.wsUrl, token);
    open.push(c);
    const mine = await mintToken(herald.url, channel, ['a']);
    const reply = await control(c, { kind: 'sub', data: mine, id: 'x' });
    expect(reply.data).toEqual({ ok: false, error: 'token is for another environment' });
    // The other env's subscriber does not see the default env's messages.
    await ok(await publish(herald.url, channel, 'a', '"default env"'));
    const d = await subscriber(channel, ['a']);
    await ok(await publish(herald.url, channel, 'a', '"marker"'));
    await d.waitFor(1);
    expect(c.frames.filter((f) => f.kind === 'data')).toHaveLength(0);
  });
});

describe('connections that leave', () => {
  // BUG (hub, reported; not fixed here because hub/* is being changed concurrently): a `sub` frame
  // whose token is still being verified when its connection closes subscribes the closed
  // connection afterwards — hub.remove() already ran, so those subscriptions (and the engine's
  // channel subscription) are never released. /health then reports subscriptions with 0
  // connections. Un-skip once `applyControlFrame`/`Hub.subscribe` refuse a connection that left.
  it('releases what a sub frame in flight subscribed when its connection closed', async () => {
    const channel = uniqueChannel();
    const extra = await mintToken(herald.url, channel, ['x', 'y', 'z']);
    for (let i = 0; i < 50; i++) {
      const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, channel, ['base']));
      c.ws.send(JSON.stringify({ kind: 'sub', data: extra }));
      c.ws.terminate();
    }
    await healthReaches(herald.url, { connections: 0, subscriptions: 0, channels: 0 });
  });

  it('answers a malformed handshake with a valid token 400, keeping nothing of it', async () => {
    const token = await mintToken(herald.url, uniqueChannel(), ['a', 'b']);
    const bad = [
      '', // no Sec-WebSocket-Key, no version
      'Sec-WebSocket-Version: 13\r\n', // no key
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99\r\n', // unknown version
    ];
    for (const headers of bad) {
      const answer = await new Promise<string>((resolve) => {
        const s = net.connect(herald.port, '127.0.0.1', () =>
          s.write(
            `GET /v1/realtime/connect?token=${token} HTTP/1.1\r\nHost: herald\r\n` +
              `Connection: Upgrade\r\nUpgrade: websocket\r\n${headers}\r\n`,
          ),
        );
        let out = '';
        s.on('data', (d: Buffer) => {
          out += d.toString();
        });
        s.on('close', () => resolve(out));
        s.on('error', () => {});
      });
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    }
    await healthReaches(herald.url, { connections: 0, subscriptions: 0, channels: 0 });
  });

  it('releases the subscriptions of connections that vanish without a close handshake', async () => {
    const channel = uniqueChannel();
    for (let i = 0; i < 50; i++) {
      const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, channel, ['a', 'b']));
      c.ws.terminate();
    }
    await healthReaches(herald.url, { connections: 0, subscriptions: 0, channels: 0 });
  });
});

describe('client frames', () => {
  it('closes with 1009 when a client frame exceeds 32 KiB', async () => {
    const c = await subscriber(uniqueChannel(), ['a']);
    c.ws.send('x'.repeat(32 * 1024 + 1));
    expect(await c.closed()).toBe(1009);
  });

  it('accepts a client frame of exactly 32 KiB (ignored as malformed, connection kept)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['a']);
    c.ws.send('x'.repeat(32 * 1024));
    await ok(await publish(herald.url, channel, 'a', '"still here"'));
    await frameWhere(c, (f) => f.data === 'still here');
    expect(c.closeCode).toBeUndefined();
  });

  it('ignores and counts malformed text frames, and never crashes', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['a']);
    const before = await metric(herald.url, 'herald_client_frames_invalid_total');
    const bad: string[] = [
      'not json',
      '[1,2,3]',
      'null',
      '{"kind":"bogus"}',
      '{"kind":"sub","data":42}',
      '{"kind":"sub"}',
      '{"kind":"unsub","data":"nope"}',
      '{"kind":"unsub","data":[{"channel":1}]}',
    ];
    for (const b of bad) c.ws.send(b);
    await eventually(
      async () => (await metric(herald.url, 'herald_client_frames_invalid_total')) === before + bad.length,
      'every malformed frame to be counted',
    );
    await ok(await publish(herald.url, channel, 'a', '"alive"'));
    await frameWhere(c, (f) => f.data === 'alive');
    expect(c.frames.filter((f) => f.kind !== 'data')).toHaveLength(0); // none was answered
    expect(c.closeCode).toBeUndefined();
    expect((await fetch(`${herald.url}/health`)).status).toBe(200);
  });

  it('closes a connection that sends a binary frame with 1003 (client frames are JSON text)', async () => {
    const c = await subscriber(uniqueChannel(), ['a']);
    c.ws.send(Buffer.from([0xff, 0x00, 0x01]));
    expect(await c.closed()).toBe(1003);
  });
});
