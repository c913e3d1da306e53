/**
 * Two Herald nodes (separate OS processes) sharing one real `redis-server` (§7.57–60): what is
 * published on one node reaches subscribers on the other — messages, datastream chunks and raw tee
 * bytes — each only to its own channel, in one order per channel across both nodes. Both nodes run
 * `herald start` with the same signing key, so a token minted on one is valid on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { type RedisProcess, redisAvailable, startRedis } from '../support/redis.js';
import {
  bearer,
  DEFAULT_ENV,
  eventually,
  frameWhere,
  publishUrl,
  request,
  SIGNING_KEY,
  stopClean,
} from './helpers.js';

const auth = bearer(SIGNING_KEY);

describe.skipIf(!redisAvailable())('several nodes on one Redis', () => {
  let redis: RedisProcess;
  let a: HeraldProcess;
  let b: HeraldProcess;
  const open: FrameCollector[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const args = [
      '--signing-key',
      SIGNING_KEY,
      '--redis-url',
      redis.url,
      '--redis-prefix',
      `e2e${Date.now()}`,
    ];
    [a, b] = await Promise.all([startHerald({ mode: 'start', args }), startHerald({ mode: 'start', args })]);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await stopClean(a, b);
    await redis?.stop();
  });

  let n = 0;
  const uniqueChannel = () => `nodes-${++n}-${Date.now()}`;
  async function subscriber(node: HeraldProcess, channel: string, topics: string[], mintOn = node) {
    const c = await FrameCollector.connect(node.wsUrl, await mintToken(mintOn.url, channel, topics, auth));
    open.push(c);
    return c;
  }

  it('delivers a message published on node B to a subscriber on node A', async () => {
    // §7.57, data half (the run half: the next test)
    const channel = uniqueChannel();
    const c = await subscriber(a, channel, ['ai'], b); // token minted on B, used on A
    const res = await publish(b.url, channel, 'ai', '{"from":"b"}', { headers: auth });
    expect(res.status).toBe(200);
    const ack = (await res.json()) as { seq: number; epoch: string };
    const [f] = await c.waitFor(1);
    expect(f).toMatchObject({
      kind: 'data',
      data: { from: 'b' },
      channel,
      topic: 'ai',
      env_id: DEFAULT_ENV,
      seq: ack.seq,
      epoch: ack.epoch,
    });
  });

  it('delivers a run frame published on node B to every subscriber of the channel on node A, once', async () => {
    // §7.57, run half: Herald publishes run frames over HTTP (`kind=run`); Inngest has no way to.
    const channel = uniqueChannel();
    const both = await subscriber(a, channel, ['ai', 'log'], b);
    const res = await request(publishUrl(b.url, { channel, kind: 'run' }), {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{"status":"completed","output":"done"}',
    });
    expect(res.status).toBe(200);
    const ack = res.json<{ seq: number; epoch: string }>();
    await publish(b.url, channel, 'log', '"after"', { headers: auth });
    await frameWhere(both, (f) => f.data === 'after');
    expect(both.frames.map((f) => f.kind)).toEqual(['run', 'data']);
    expect(both.frames[0]).toMatchObject({
      kind: 'run',
      data: { status: 'completed', output: 'done' },
      channel,
      seq: ack.seq,
      epoch: ack.epoch,
    });
  });

  it('forwards tee bytes from node B only to the matching channel on node A', async () => {
    // §7.58, §7.60 (node B is a separate process with no local subscribers)
    const channel = uniqueChannel();
    const mine = await subscriber(a, channel, ['$stream']);
    const other = await subscriber(a, `${channel}-other`, ['$stream']);
    const res = await request(publishUrl(b.url, { channel }, 'publish/tee'), {
      method: 'POST',
      headers: auth,
      body: 'data: cross-node\n\n',
    });
    expect(res.status).toBe(200);
    await eventually(() => mine.raw.join('') === 'data: cross-node\n\n', 'the tee bytes on node A');
    // The other channel got nothing: a marker published to it arrives first.
    await publish(b.url, `${channel}-other`, '$stream', '"marker"', { headers: auth });
    await frameWhere(other, (f) => f.data === 'marker');
    expect(other.raw).toHaveLength(1);
  });

  it('delivers a datastream published on node B, chunks included, to node A', async () => {
    // §7.59
    const channel = uniqueChannel();
    const c = await subscriber(a, channel, ['tokens']);
    const text = 'chunks across nodes 👋🏽';
    const res = await request(publishUrl(b.url, { channel, topic: 'tokens' }), {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'text/stream' },
      body: text,
    });
    expect(res.status).toBe(200);
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    expect(c.frames.map((f) => f.kind)).toEqual(['datastream-start', 'chunk', 'datastream-end']);
    expect(c.frames[1]).toMatchObject({ kind: 'chunk', data: text, channel, topic: 'tokens' });
  });

  it('keeps one order per channel across nodes: subscribers on both see the same consecutive seqs', async () => {
    const channel = uniqueChannel();
    const onA = await subscriber(a, channel, ['x', 'y']);
    const onB = await subscriber(b, channel, ['x', 'y']);
    const seqs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const node = i % 2 === 0 ? a : b;
      const res = await publish(node.url, channel, i % 3 === 0 ? 'x' : 'y', String(i), { headers: auth });
      seqs.push(((await res.json()) as { seq: number }).seq);
    }
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    for (const c of [onA, onB]) {
      const frames = await c.waitFor(200);
      expect(frames.map((f) => f.seq)).toEqual(seqs);
      expect(frames.map((f) => f.data)).toEqual(seqs.map((_, i) => i));
    }
  });
});
