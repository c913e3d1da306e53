import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisProcess, redisAvailable, startRedis } from '../../../../test/support/redis.js';
import { encodeBody } from '../protocol/message.js';
import { channelKey } from '../protocol/topic.js';
import { EngineUnavailableError } from './engine.js';
import { engineSuite } from './engine.suite.js';
import { RedisEngine } from './redis.js';

const available = redisAvailable();
let redis: RedisProcess;

describe.runIf(available)('redis engine', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  engineSuite(
    'redis',
    async (o) =>
      new RedisEngine({
        url: redis.url,
        historySize: o.historySize ?? 1000,
        historyTtlMs: o.historyTtlMs ?? 60_000,
        idempotencyWindowMs: o.idempotencyWindowMs ?? 60_000,
      }),
  );

  const make = () =>
    new RedisEngine({ url: redis.url, historySize: 100, historyTtlMs: 60_000, idempotencyWindowMs: 60_000 });
  const draft = (key: string, n: number) => ({
    channelKey: key,
    topic: 't',
    kind: 'data' as const,
    body: encodeBody({
      kind: 'data',
      env: 'e',
      channel: 'x',
      topic: 't',
      dataJson: String(n),
      createdAt: '',
    }),
  });

  it('shares one order per channel between nodes, and each node gets the live feed', async () => {
    const a = make();
    const b = make();
    const seen: number[] = [];
    await a.start({ onPublication: (p) => seen.push(p.seq), onRaw() {} });
    await b.start({ onPublication() {}, onRaw() {} });
    const key = channelKey('e', `shared-${Date.now()}`);
    await a.subscribe(key);
    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).publish(draft(key, i))),
    );
    expect(acks.map((x) => x.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (let i = 0; i < 200 && seen.length < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const h = await b.history(key, { since: { epoch: acks[0]?.epoch as string, seq: 10 } });
    expect(h.publications.map((p) => p.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    await Promise.all([a.close(), b.close()]);
  });

  it('starts a new epoch when the channel state is lost', async () => {
    const e = make();
    await e.start({ onPublication() {}, onRaw() {} });
    const key = channelKey('e', `lost-${Date.now()}`);
    const first = await e.publish(draft(key, 1));
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    await raw.flushall();
    await raw.quit();
    const next = await e.publish(draft(key, 2));
    expect(next.seq).toBe(1);
    expect(next.epoch).not.toBe(first.epoch);
    const h = await e.history(key, { since: { epoch: first.epoch, seq: 1 } });
    expect(h.recovered).toBe(false);
    await e.close();
  });

  it('refuses to publish while Redis is down (503), and works again after it comes back', async () => {
    const own = await startRedis();
    const e = new RedisEngine({
      url: own.url,
      historySize: 10,
      historyTtlMs: 60_000,
      idempotencyWindowMs: 60_000,
    });
    const lost: string[] = [];
    await e.start({ onPublication() {}, onRaw() {}, onFeedLost: (r) => lost.push(r) });
    const key = channelKey('e', 'down');
    await e.publish(draft(key, 1));
    await own.stop('SIGKILL');
    await expect(e.publish(draft(key, 2))).rejects.toBeInstanceOf(EngineUnavailableError);
    // The client notices the lost connection on its own schedule; health follows it.
    for (let i = 0; i < 100 && e.health().ok; i++) await new Promise((r) => setTimeout(r, 20));
    expect(e.health().ok).toBe(false);
    for (let i = 0; i < 100 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lost.length).toBeGreaterThan(0);
    const back = await own.restart();
    for (let i = 0; i < 300 && !e.health().ok; i++) await new Promise((r) => setTimeout(r, 20));
    expect(e.health().ok).toBe(true);
    expect((await e.publish(draft(key, 3))).seq).toBe(1);
    await e.close();
    await back.stop();
  });
});
