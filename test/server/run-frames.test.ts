/**
 * Run lifecycle frames (`POST /v1/realtime/publish?kind=run`): a JSON object naming the run's
 * status, delivered as a `run` frame to every subscriber of the channel — once per connection,
 * whatever topics it holds — over WebSocket and SSE, sequenced in the channel's order and replayed
 * on resume; on both engines. Also who may publish one, and what is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Frame, FrameCollector, mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { type RedisProcess, redisAvailable, startRedis } from '../support/redis.js';
import { SseReader } from '../support/sse.js';
import {
  bearer,
  claims,
  DEFAULT_ENV,
  frameWhere,
  JWT_SECRET,
  publishUrl,
  request,
  SIGNING_KEY,
  signJwt,
  stopClean,
  topicsOf,
} from './helpers.js';

const auth = bearer(SIGNING_KEY);
const engines = [{ engine: 'memory' }, ...(redisAvailable() ? [{ engine: 'redis' }] : [])];

describe.each(engines)('run frames ($engine engine)', ({ engine }) => {
  let herald: HeraldProcess;
  let redis: RedisProcess | undefined;
  const open: FrameCollector[] = [];

  beforeAll(async () => {
    redis = engine === 'redis' ? await startRedis() : undefined;
    const args = ['--signing-key', SIGNING_KEY, '--jwt-secret', JWT_SECRET];
    if (redis) args.push('--redis-url', redis.url, '--redis-prefix', `run${Date.now()}`);
    herald = await startHerald({ mode: 'start', args });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await stopClean(herald);
    await redis?.stop();
  });

  let n = 0;
  const fresh = () => `run:${engine}-${Date.now()}-${n++}`;

  const post = (query: Record<string, string>, body: string, headers: Record<string, string> = auth) =>
    request(publishUrl(herald.url, query), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    });

  async function publishData(channel: string, topic: string, data: unknown) {
    const res = await post({ channel, topic }, JSON.stringify(data));
    expect(res.status).toBe(200);
    return res.json<{ epoch: string; seq: number }>();
  }

  async function publishRun(channel: string, data: unknown, query: Record<string, string> = {}) {
    const res = await post({ channel, kind: 'run', ...query }, JSON.stringify(data));
    expect(res.status, res.text).toBe(200);
    return res.json<{ epoch: string; seq: number; duplicate: boolean; channel: string; kind: string }>();
  }

  async function subscriber(channel: string, topics: string[], query: Record<string, string> = {}) {
    const token = await mintToken(herald.url, channel, topics, auth);
    const c = await FrameCollector.connect(herald.wsUrl, token, {}, query);
    open.push(c);
    return c;
  }

  const runFrames = (frames: Frame[]) => frames.filter((f) => f.kind === 'run');
  const sequenced = (frames: Frame[]) =>
    frames.filter((f) => f.seq !== undefined).map((f) => `${f.kind}:${f.seq}`);

  it('reaches every subscriber of the channel once, whatever its topics, in the channel order', async () => {
    const ch = fresh();
    const three = await subscriber(ch, ['a', 'b', 'c']);
    const one = await subscriber(ch, ['b']);
    const otherCh = fresh();
    const other = await subscriber(otherCh, ['a']);
    await publishData(ch, 'a', { i: 1 });
    const ack = await publishRun(
      ch,
      { status: 'completed', output: { url: 'https://example.test/r' }, extra: [1, 2] },
      { run_id: '01RUNLIFECYCLE' },
    );
    expect(ack).toMatchObject({ seq: 2, duplicate: false, channel: ch, kind: 'run' });
    await publishData(ch, 'b', { i: 3 });

    await frameWhere(three, (f) => f.seq === 3, 'the data message after the run frame');
    await frameWhere(one, (f) => f.seq === 3, 'the data message after the run frame');
    expect(sequenced(three.frames)).toEqual(['data:1', 'run:2', 'data:3']);
    expect(sequenced(one.frames)).toEqual(['run:2', 'data:3']);
    const frame = runFrames(three.frames)[0] as Frame;
    expect(frame).toEqual({
      kind: 'run',
      data: { status: 'completed', output: { url: 'https://example.test/r' }, extra: [1, 2] },
      created_at: expect.any(String),
      channel: ch,
      env_id: DEFAULT_ENV,
      run_id: '01RUNLIFECYCLE',
      epoch: ack.epoch,
      seq: 2,
    });
    // No topic: it is not a message of one topic (Inngest's clients read it without one).
    expect('topic' in frame).toBe(false);
    expect(runFrames(one.frames)).toEqual([frame]);

    // The other channel's subscriber got only its own channel's message.
    await publishData(otherCh, 'a', {});
    await frameWhere(other, (f) => f.seq === 1, "the other channel's message");
    expect(sequenced(other.frames)).toEqual(['data:1']);
  });

  it('reaches SSE subscribers, with the position as the event id', async () => {
    const ch = fresh();
    const token = await mintToken(herald.url, ch, ['a', 'b'], auth);
    const sse = await SseReader.open(`${herald.url}/v1/realtime/sse?token=${encodeURIComponent(token)}`);
    try {
      expect(sse.status).toBe(200);
      const ack = await publishRun(ch, { runStatus: 'running' });
      await publishData(ch, 'a', 'after');
      await sse.waitFor(2);
      const events = sse.json<Frame>();
      expect(events.map((e) => `${e.kind}:${e.seq}`)).toEqual(['run:1', 'data:2']);
      expect(events[0]).toMatchObject({ kind: 'run', channel: ch, data: { runStatus: 'running' } });
      expect(sse.events[0]?.id).toBe(`${ack.epoch}:1`);
    } finally {
      sse.close();
    }
  });

  it('is replayed once to a resuming subscriber of three topics, and from the oldest', async () => {
    const ch = fresh();
    const first = await publishData(ch, 'a', { i: 1 });
    await publishRun(ch, { status: 'running' });
    await publishData(ch, 'b', { i: 3 });
    await publishRun(ch, { status: 'failed', error: { name: 'Error', message: 'boom' } });
    await publishData(ch, 'z', { i: 5 }); // a topic nobody here subscribed to

    const resumed = await subscriber(ch, ['a', 'b', 'c'], { since: `${first.epoch}:0` });
    await frameWhere(resumed, (f) => f.seq === 4, 'the replayed failure');
    const late = await subscriber(ch, ['c'], { since: 'oldest' });
    await frameWhere(late, (f) => f.seq === 4, 'the replayed failure');

    // Then live: the run frame published now arrives once too.
    await publishRun(ch, { status: 'cancelled' });
    await frameWhere(resumed, (f) => f.seq === 6, 'the live run frame');
    await frameWhere(late, (f) => f.seq === 6, 'the live run frame');
    expect(sequenced(resumed.frames)).toEqual(['data:1', 'run:2', 'data:3', 'run:4', 'run:6']);
    expect(sequenced(late.frames)).toEqual(['run:2', 'run:4', 'run:6']);
    expect(runFrames(late.frames).map((f) => f.data)).toEqual([
      { status: 'running' },
      { status: 'failed', error: { name: 'Error', message: 'boom' } },
      { status: 'cancelled' },
    ]);
  });

  it('is replayed to an SSE subscriber resuming with Last-Event-ID', async () => {
    const ch = fresh();
    const first = await publishData(ch, 'a', 1);
    await publishRun(ch, { status: 'completed', output: 42 });
    const token = await mintToken(herald.url, ch, ['a', 'b', 'c'], auth);
    const sse = await SseReader.open(`${herald.url}/v1/realtime/sse?token=${encodeURIComponent(token)}`, {
      'Last-Event-ID': `${first.epoch}:1`,
    });
    try {
      await sse.waitFor(2);
      const events = sse.json<Frame>();
      expect(events[0]?.kind).toBe('subscribed');
      expect(events.slice(1).map((e) => `${e.kind}:${e.seq}`)).toEqual(['run:2']);
    } finally {
      sse.close();
    }
  });

  it('honours Idempotency-Key: a retry is answered with the first ack and not published again', async () => {
    const ch = fresh();
    const c = await subscriber(ch, ['a']);
    const body = JSON.stringify({ status: 'completed', output: 'x' });
    const headers = { ...auth, 'Idempotency-Key': `k-${ch}` };
    const one = await post({ channel: ch, kind: 'run' }, body, headers);
    const two = await post({ channel: ch, kind: 'run' }, body, headers);
    expect(one.json()).toMatchObject({ seq: 1, duplicate: false });
    expect(two.json()).toMatchObject({ seq: 1, duplicate: true, kind: 'run' });
    await publishData(ch, 'a', 'next');
    await frameWhere(c, (f) => f.seq === 2, 'the next message');
    expect(sequenced(c.frames)).toEqual(['run:1', 'data:2']);
  });

  it('may be published with a publish JWT; not with a subscription token or no credential', async () => {
    const ch = fresh();
    const publishJwt = signJwt(claims({ publish: true }));
    const subscribeJwt = signJwt(claims({ topics: topicsOf(ch, ['a']) }));
    const body = JSON.stringify({ status: 'running' });
    expect((await post({ channel: ch, kind: 'run' }, body, bearer(publishJwt))).status).toBe(200);
    expect((await post({ channel: ch, kind: 'run' }, body, bearer(subscribeJwt))).status).toBe(401);
    expect((await post({ channel: ch, kind: 'run' }, body, {})).status).toBe(401);
  });

  it('accepts the statuses inngest v4 reads, in any case and field', async () => {
    const ch = fresh();
    for (const data of [
      { status: 'SUCCEEDED', output: 1 },
      { state: 'in_progress' },
      { runStatus: 'Canceled' },
      { status: 'error', error: 'x' },
      // The first field that names a status counts, as in the hook.
      { runStatus: 7, status: 'complete', result: 'r' },
    ])
      expect((await post({ channel: ch, kind: 'run' }, JSON.stringify(data))).status).toBe(200);
  });

  it('refuses what is not a run frame with 400 naming the field, and publishes nothing', async () => {
    const ch = fresh();
    const refusals: [Record<string, string>, string, string, Record<string, string>?][] = [
      [{ kind: 'run' }, '{"status":', 'body'],
      [{ kind: 'run' }, '[{"status":"running"}]', 'body'],
      [{ kind: 'run' }, '"completed"', 'body'],
      [{ kind: 'run' }, '{"output":1}', 'body'],
      [{ kind: 'run' }, '{"status":"queued"}', 'body'],
      [{ kind: 'run' }, '{"status":"constructor"}', 'body'],
      [{ kind: 'run' }, '', 'body'],
      [{ kind: 'run', topic: 'a' }, '{"status":"running"}', 'topic'],
      [{ kind: 'step' }, '{"status":"running"}', 'kind'],
      [{ kind: 'run' }, '{"status":"running"}', 'kind', { 'Content-Type': 'text/stream' }],
    ];
    for (const [query, body, field, headers] of refusals) {
      const res = await post({ channel: ch, ...query }, body, { ...auth, ...headers });
      expect(res.status, `${JSON.stringify(query)} ${body}`).toBe(400);
      expect(res.json()).toMatchObject({ status: 400, field });
    }
    // Nothing of the refused requests took a position.
    expect(await publishRun(ch, { status: 'running' })).toMatchObject({ seq: 1 });
  });
});
