/**
 * Server-side resume: a subscriber presents its last position and gets every later message of its
 * topics, in order, once, then live ones; or an explicit `recovered: false`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Frame, FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { type RedisProcess, redisAvailable, startRedis } from '../support/redis.js';
import { SseReader } from '../support/sse.js';

const engines = [{ engine: 'memory' }, ...(redisAvailable() ? [{ engine: 'redis' }] : [])];

describe.each(engines)('resume ($engine engine)', ({ engine }) => {
  let herald: HeraldProcess;
  let small: HeraldProcess;
  let redis: RedisProcess | undefined;
  beforeAll(async () => {
    redis = engine === 'redis' ? await startRedis() : undefined;
    const args = redis ? ['--redis-url', redis.url] : [];
    [herald, small] = await Promise.all([
      startHerald({ args }),
      startHerald({ args: [...args, '--history-size', '3', '--redis-prefix', 'small'] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([herald?.stop(), small?.stop()]);
    await redis?.stop();
  });

  let n = 0;
  const fresh = () => `resume-${Date.now()}-${n++}`;

  async function publishMany(base: string, channel: string, topic: string, count: number, from = 0) {
    const acks: { epoch: string; seq: number }[] = [];
    for (let i = 0; i < count; i++) {
      const res = await publish(base, channel, topic, JSON.stringify({ i: from + i }));
      acks.push((await res.json()) as { epoch: string; seq: number });
    }
    return acks;
  }

  async function connect(h: HeraldProcess, channel: string, topics: string[], since?: string) {
    const token = await mintToken(h.url, channel, topics);
    return FrameCollector.connect(h.wsUrl, token, {}, since === undefined ? {} : { since });
  }

  const seqs = (frames: Frame[]) => frames.filter((f) => f.kind === 'data').map((f) => f.seq);

  describe('resume over WebSocket', () => {
    it('replays what came after the position, then continues live', async () => {
      const ch = fresh();
      const acks = await publishMany(herald.url, ch, 'a', 5);
      const epoch = acks[0]?.epoch as string;
      const c = await connect(herald, ch, ['a'], `${epoch}:2`);
      await c.waitFor(4);
      expect(c.frames[0]).toEqual({
        kind: 'subscribed',
        channel: ch,
        topic: '',
        data: { epoch, seq: 2, recovered: true },
      });
      await publishMany(herald.url, ch, 'a', 1, 5);
      await c.waitFor(5);
      expect(seqs(c.frames)).toEqual([3, 4, 5, 6]);
      expect(c.frames.filter((f) => f.kind === 'data').map((f) => (f.data as { i: number }).i)).toEqual([
        2, 3, 4, 5,
      ]);
      c.close();
    });

    it('replays only the subscribed topics, keeping the channel order', async () => {
      const ch = fresh();
      for (let i = 0; i < 6; i++) await publish(herald.url, ch, i % 2 ? 'odd' : 'even', String(i));
      const epoch = ((await (await publish(herald.url, ch, 'odd', '6')).json()) as { epoch: string }).epoch;
      const c = await connect(herald, ch, ['even'], `${epoch}:0`);
      await c.waitFor(4);
      expect(seqs(c.frames)).toEqual([1, 3, 5]);
      c.close();
    });

    it('starts from the oldest kept message when asked', async () => {
      const ch = fresh();
      await publishMany(herald.url, ch, 't', 3);
      const c = await connect(herald, ch, ['t'], 'oldest');
      await c.waitFor(4);
      expect(c.frames[0]?.data).toMatchObject({ seq: 0, recovered: true });
      expect(seqs(c.frames)).toEqual([1, 2, 3]);
      c.close();
    });

    it('says recovered: false when the position left the history window, then continues live', async () => {
      const ch = fresh();
      const acks = await publishMany(small.url, ch, 't', 8);
      const epoch = acks[0]?.epoch as string;
      const c = await connect(small, ch, ['t'], `${epoch}:2`);
      await c.waitFor(1);
      expect(c.frames[0]?.data).toEqual({ epoch, seq: 8, recovered: false });
      await publishMany(small.url, ch, 't', 1);
      await c.waitFor(2);
      expect(seqs(c.frames)).toEqual([9]);
      c.close();
    });

    it('says recovered: false for an unknown epoch', async () => {
      const ch = fresh();
      await publishMany(herald.url, ch, 't', 2);
      const c = await connect(herald, ch, ['t'], 'gone-epoch:1');
      await c.waitFor(1);
      expect(c.frames[0]?.data).toMatchObject({ seq: 2, recovered: false });
      c.close();
    });

    it('gives the position with since=now, so a reconnect misses nothing', async () => {
      const ch = fresh();
      await publishMany(herald.url, ch, 't', 2);
      const first = await connect(herald, ch, ['t'], 'now');
      await first.waitFor(1);
      const pos = first.frames[0]?.data as { epoch: string; seq: number };
      expect(pos.seq).toBe(2);
      first.close();
      await first.closed();
      await publishMany(herald.url, ch, 't', 3);
      const again = await connect(herald, ch, ['t'], `${pos.epoch}:${pos.seq}`);
      await again.waitFor(4);
      expect(seqs(again.frames)).toEqual([3, 4, 5]);
      again.close();
    });

    it('has no gap and no duplicate at the seam while messages keep coming', async () => {
      const ch = fresh();
      const acks = await publishMany(herald.url, ch, 't', 200);
      const epoch = acks[0]?.epoch as string;
      const total = 600;
      const publishing = publishMany(herald.url, ch, 't', total - 200, 200);
      const c = await connect(herald, ch, ['t'], `${epoch}:50`);
      await publishing;
      await c.waitFor(1 + total - 50);
      expect(seqs(c.frames)).toEqual(Array.from({ length: total - 50 }, (_, i) => 51 + i));
      c.close();
    });

    it('refuses a malformed position with 400 naming since', async () => {
      const token = await mintToken(herald.url, fresh(), ['t']);
      const res = await fetch(`${herald.url}/v1/realtime/sse?token=${token}&since=nonsense`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ field: 'since' });
    });
  });

  describe('resume over SSE', () => {
    it('puts the position in event ids and resumes from Last-Event-ID', async () => {
      const ch = fresh();
      const token = await mintToken(herald.url, ch, ['t']);
      const first = await SseReader.open(`${herald.url}/v1/realtime/sse?token=${token}`);
      await publishMany(herald.url, ch, 't', 3);
      await first.waitFor(3);
      const last = first.events[2]?.id as string;
      expect(last).toMatch(/^.+:3$/);
      first.close();
      await publishMany(herald.url, ch, 't', 2, 3);
      const again = await SseReader.open(`${herald.url}/v1/realtime/sse?token=${token}`, {
        'Last-Event-ID': last,
      });
      await again.waitFor(3);
      const frames = again.json<Frame>();
      expect(frames[0]).toMatchObject({ kind: 'subscribed', data: { seq: 3, recovered: true } });
      expect(seqs(frames)).toEqual([4, 5]);
      expect(again.events[1]?.id).toBe(last.replace(/3$/, '4'));
      again.close();
    });
  });
});
