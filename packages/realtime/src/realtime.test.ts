/**
 * The standalone `Realtime` client against a real Herald: publish acknowledgements, JSON encoding,
 * idempotent retries, validation before sending (W13), clear errors, hashed keys and fallback-key
 * retry, and tokens minted through an inngest client.
 */
import { Inngest } from 'inngest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type HeraldProcess, startHerald } from '../../../test/support/herald.js';
import * as server from '../../server/dist/index.js';
import { rawPublish, startProxy, take, uniqueChannel, withHerald } from '../test/support.js';
import {
  ApiError,
  channel,
  getSubscriptionToken,
  Realtime,
  subscribe,
  topic,
  ValidationError,
} from './index.js';

const herald = withHerald();

describe('Realtime.publish', () => {
  it("resolves to the server's acknowledgement", async () => {
    const ch = uniqueChannel();
    const rt = new Realtime({ baseUrl: herald.current.url });
    const a = await rt.publish({ channel: ch, topic: 't', data: { n: 1 } });
    const b = await rt.publish({ channel: ch, topic: 't', data: { n: 2 } });
    expect(a).toEqual({
      id: expect.any(String),
      epoch: expect.any(String),
      seq: 1,
      duplicate: false,
      channel: ch,
      topic: 't',
    });
    expect(b.seq).toBe(2);
    expect(b.epoch).toBe(a.epoch);
  });

  it('sends data JSON-encoded: the string "123" stays a string', async () => {
    const ch = uniqueChannel();
    const rt = new Realtime({ baseUrl: herald.current.url });
    const stream = await rt.subscribe({ channel: ch, topics: ['t'] });
    await rt.publish({ channel: ch, topic: 't', data: '123' });
    await rt.publish({ channel: ch, topic: 't', data: 123 });
    expect((await take(stream, 2)).map((m) => m.data)).toEqual(['123', 123]);
    stream.close();
  });

  it('an Idempotency-Key publishes once; a repeat gets the first ack with duplicate: true', async () => {
    const ch = uniqueChannel();
    const rt = new Realtime({ baseUrl: herald.current.url });
    const stream = await rt.subscribe({ channel: ch, topics: ['t'] });
    const first = await rt.publish({ channel: ch, topic: 't', data: 'once' }, { idempotencyKey: `k-${ch}` });
    const again = await rt.publish({ channel: ch, topic: 't', data: 'once' }, { idempotencyKey: `k-${ch}` });
    await rt.publish({ channel: ch, topic: 't', data: 'marker' });
    expect(again).toEqual({ ...first, duplicate: true });
    expect((await take(stream, 2)).map((m) => m.data)).toEqual(['once', 'marker']);
    stream.close();
  });

  it('retries a 503 with the same Idempotency-Key', async () => {
    const proxy = await startProxy(herald.current.url, (_r, i) => (i === 0 ? 503 : undefined));
    try {
      const rt = new Realtime({ baseUrl: proxy.url });
      const ack = await rt.publish({ channel: uniqueChannel(), topic: 't', data: 1 });
      expect(ack.duplicate).toBe(false);
      expect(proxy.seen).toHaveLength(2);
      const keys = proxy.seen.map((r) => r.headers['idempotency-key']);
      expect(keys[0]).toEqual(expect.any(String));
      expect(keys[1]).toBe(keys[0]);
    } finally {
      await proxy.close();
    }
  });

  it('gives up on network failures after maxAttempts with an ApiError', async () => {
    const rt = new Realtime({ baseUrl: 'http://127.0.0.1:9', maxAttempts: 2 });
    const err = await rt.publish({ channel: 'c', topic: 't', data: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/channel "c" topic "t" failed after 2 attempt/);
  });

  it('rejects invalid data before sending anything (W13)', async () => {
    const ch = uniqueChannel();
    const typed = channel(ch).addTopic(topic('p').schema(z.object({ pct: z.number().max(100) })));
    const rt = new Realtime({ baseUrl: herald.current.url });
    const stream = await rt.subscribe({ channel: typed(), topics: ['p'] });
    const err = await rt.publish(typed().p({ pct: 250 })).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(new RegExp(`channel "${ch}" topic "p": pct: `));
    await rt.publish(typed().p({ pct: 50 }));
    expect((await take(stream, 1))[0]?.data).toEqual({ pct: 50 });
    stream.close();
  });

  it('says what the server said: 413 for a body over the limit, 400 naming the field', async () => {
    const rt = new Realtime({ baseUrl: herald.current.url });
    const big = await rt.publish({ channel: 'c', topic: 't', data: 'x'.repeat(600 * 1024) }).catch((e) => e);
    expect(big).toBeInstanceOf(ApiError);
    expect(big.status).toBe(413);
    expect(big.message).toMatch(/channel "c" topic "t" failed with HTTP 413/);
    const bad = await rt.publish({ channel: '', topic: 't', data: 1 }).catch((e) => e);
    expect(bad.status).toBe(400);
    expect(bad.field).toBe('channel');
    // The id the server logged the refusal under, to quote when asking what happened.
    expect(bad.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(bad.message).toContain(`(request ${bad.requestId})`);
  });
});

describe('signing keys', () => {
  const KEY = 'signkey-test-abc123def456';
  const OLD = 'signkey-test-0011223344556677';
  let secured: HeraldProcess;
  beforeAll(async () => {
    secured = await startHerald({ mode: 'start', args: ['--signing-key', KEY] });
  });
  afterAll(async () => {
    await secured.stop();
  });

  it('sends the hashed key', async () => {
    const proxy = await startProxy(secured.url);
    try {
      await new Realtime({ baseUrl: proxy.url, signingKey: KEY }).publish({
        channel: 'c',
        topic: 't',
        data: 1,
      });
      expect(proxy.seen[0]?.headers.authorization).toBe(`Bearer ${server.hashSigningKey(KEY)}`);
    } finally {
      await proxy.close();
    }
  });

  it('retries with the fallback key after a 401, for publish and tokens', async () => {
    const proxy = await startProxy(secured.url);
    try {
      const rt = new Realtime({ baseUrl: proxy.url, signingKey: OLD, signingKeyFallback: KEY });
      await rt.publish({ channel: 'c', topic: 't', data: 1 });
      const token = await rt.getSubscriptionToken({ channel: 'c', topics: ['t'] });
      expect(token.key).toEqual(expect.any(String));
      expect(proxy.seen.map((r) => r.headers.authorization)).toEqual([
        `Bearer ${server.hashSigningKey(OLD)}`,
        `Bearer ${server.hashSigningKey(KEY)}`,
        `Bearer ${server.hashSigningKey(OLD)}`,
        `Bearer ${server.hashSigningKey(KEY)}`,
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('without a valid key, token and publish fail with the status', async () => {
    const rt = new Realtime({ baseUrl: secured.url, signingKey: OLD });
    const err = await rt.getSubscriptionToken({ channel: 'c', topics: ['t'] }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
  });

  it('getSubscriptionToken(inngestClient) mints through its InngestApi (hashed key)', async () => {
    const before = process.env.INNGEST_SIGNING_KEY;
    process.env.INNGEST_SIGNING_KEY = KEY;
    try {
      const app = new Inngest({ id: 'tok', baseUrl: secured.url });
      const ch = uniqueChannel();
      const token = await getSubscriptionToken(app, { channel: ch, topics: ['t'] });
      expect(token).toEqual({ channel: ch, topics: ['t'], key: expect.any(String) });
      const stream = await subscribe({ ...token, apiBaseUrl: secured.url });
      await rawPublish(secured.url, ch, 't', '"hi"', { headers: { Authorization: `Bearer ${KEY}` } });
      expect((await take(stream, 1))[0]?.data).toBe('hi');
      stream.close();
      // subscribe({ app }) without a key mints lazily with the app's key, at the app's base URL.
      const lazy = await subscribe({ app, channel: ch, topics: ['t'] });
      await rawPublish(secured.url, ch, 't', '"again"', { headers: { Authorization: `Bearer ${KEY}` } });
      expect((await take(lazy, 1))[0]?.data).toBe('again');
      lazy.close();
    } finally {
      if (before === undefined) delete process.env.INNGEST_SIGNING_KEY;
      else process.env.INNGEST_SIGNING_KEY = before;
    }
  });
});
