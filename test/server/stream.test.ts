/**
 * Datastreams: `POST /v1/realtime/publish` with `Content-Type: text/stream` becomes
 * `datastream-start`, chunks and `datastream-end` (§6). Herald's chunk frames carry channel, topic,
 * env_id and created_at (F1), never split a UTF-8 character (F16), and a stream over `--max-stream`
 * is ended with `datastream-end` and answered 413 saying it was cut (F3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import {
  bearer,
  claims,
  DEFAULT_ENV,
  eventually,
  frameWhere,
  JWT_SECRET,
  publishUrl,
  request,
  SIGNING_KEY,
  StreamingPublish,
  signJwt,
  stopClean,
} from './helpers.js';

const MAX_STREAM = 4096;
let dev: HeraldProcess;
let prod: HeraldProcess;
const open: FrameCollector[] = [];

beforeAll(async () => {
  [dev, prod] = await Promise.all([
    startHerald({ args: ['--max-stream', `${MAX_STREAM}`] }),
    startHerald({ mode: 'start', args: ['--signing-key', SIGNING_KEY, '--jwt-secret', JWT_SECRET] }),
  ]);
});
afterAll(async () => {
  for (const c of open) c.close();
  await stopClean(dev, prod);
});

let n = 0;
const uniqueChannel = () => `stream-${++n}-${Date.now()}`;

async function subscriber(h: HeraldProcess, channel: string, topics: string[], headers = {}) {
  const c = await FrameCollector.connect(h.wsUrl, await mintToken(h.url, channel, topics, headers));
  open.push(c);
  return c;
}

const streamHeaders = { 'Content-Type': 'text/stream' };

describe('text/stream publish', () => {
  it('sends exactly datastream-start, one chunk and datastream-end for a small body', async () => {
    // §7.25, §7.43
    const channel = 'user:123';
    const c = await subscriber(dev, channel, ['ai']);
    const res = await request(publishUrl(dev.url, { channel, topic: 'ai' }), {
      method: 'POST',
      headers: streamHeaders,
      body: 'test please',
    });
    expect(res.status).toBe(200);
    const ack = res.json<{ streamId: string; chunks: number; bytes: number; start: { seq: number } }>();
    expect(ack).toMatchObject({ channel, topic: 'ai', chunks: 1, bytes: 11 });
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    // Nothing else follows: a marker published next is the 4th frame.
    await request(publishUrl(dev.url, { channel, topic: 'ai' }), { method: 'POST', body: '"marker"' });
    const frames = await c.waitFor(4);
    expect(frames.map((f) => f.kind)).toEqual(['datastream-start', 'chunk', 'datastream-end', 'data']);
    const [start, chunk, end] = frames;
    expect(start).toMatchObject({ data: ack.streamId, channel, topic: 'ai', env_id: DEFAULT_ENV });
    expect(typeof start?.data).toBe('string');
    expect(chunk?.stream_id).toBe(start?.data); // §7.43: the chunk's stream_id is the start's data
    expect(end).toMatchObject({ data: ack.streamId, channel, topic: 'ai' });
    // Go's chunk frame is `{"kind":"chunk","stream_id":"<id>","data":"test please"}`; Herald's starts
    // the same and adds channel, topic, env_id, created_at and the position (F1).
    expect(c.raw[1]?.startsWith(`{"kind":"chunk","stream_id":"${ack.streamId}","data":"test please",`)).toBe(
      true,
    );
    expect(chunk).toEqual({
      kind: 'chunk',
      stream_id: ack.streamId,
      data: 'test please',
      channel,
      topic: 'ai',
      env_id: DEFAULT_ENV,
      created_at: expect.any(String),
      epoch: expect.any(String),
      seq: ack.start.seq + 1,
    });
    expect(frames.slice(0, 3).map((f) => f.seq)).toEqual([
      ack.start.seq,
      ack.start.seq + 1,
      ack.start.seq + 2,
    ]);
  });

  it('delivers datastream-start as a message first, then the chunk as it is written', async () => {
    // §7.18
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    const pub = new StreamingPublish(publishUrl(dev.url, { channel, topic: 't' }), streamHeaders);
    await frameWhere(c, (f) => f.kind === 'datastream-start');
    await pub.write('chunk data');
    const chunk = await frameWhere(c, (f) => f.kind === 'chunk');
    expect(c.frames[0]).toMatchObject({ kind: 'datastream-start', channel, topic: 't' });
    expect(chunk).toMatchObject({ kind: 'chunk', data: 'chunk data', channel, topic: 't' });
    expect((await pub.end()).status).toBe(200);
    await frameWhere(c, (f) => f.kind === 'datastream-end');
  });

  it('delivers chunks in order, start and end as messages with the same fields (and created_at)', async () => {
    // §7.53
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    const pub = new StreamingPublish(
      publishUrl(dev.url, { channel, topic: 't', run_id: 'run-7' }),
      streamHeaders,
    );
    await pub.write('a');
    await frameWhere(c, (f) => f.kind === 'chunk' && f.data === 'a');
    await pub.write('b');
    await frameWhere(c, (f) => f.kind === 'chunk' && f.data === 'b');
    const res = await pub.end();
    expect(res.status).toBe(200);
    const end = await frameWhere(c, (f) => f.kind === 'datastream-end');
    const [start, a, b] = c.frames;
    expect(c.frames.map((f) => [f.kind, f.data])).toEqual([
      ['datastream-start', start?.data],
      ['chunk', 'a'],
      ['chunk', 'b'],
      ['datastream-end', start?.data],
    ]);
    for (const f of [a, b])
      expect(f).toMatchObject({ stream_id: start?.data, run_id: 'run-7', channel, topic: 't' });
    const { kind: _k1, seq: _s1, ...startRest } = start as Record<string, unknown>;
    const { kind: _k2, seq: _s2, ...endRest } = end as Record<string, unknown>;
    expect(endRest).toEqual(startRest);
    expect(res.json()).toMatchObject({ chunks: 2, bytes: 2 });
  });

  it('never splits a UTF-8 character across chunks, even when a write ends inside one (F16)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    const text = 'ab👋🏽 héllo, 世界 — ünïcødé 🎉🚀 done';
    const bytes = Buffer.from(text);
    // Cut inside the 4-byte 👋 (after "ab" + 2 of its bytes), then inside 世 and inside 🎉.
    const cuts = [
      4,
      bytes.indexOf(Buffer.from('世')) + 1,
      bytes.indexOf(Buffer.from('🎉')) + 3,
      bytes.length,
    ];
    const pub = new StreamingPublish(publishUrl(dev.url, { channel, topic: 't' }), streamHeaders);
    let from = 0;
    for (const to of cuts) {
      await pub.write(bytes.subarray(from, to));
      from = to;
      // Wait until the server published every complete character so far, so each write is its own read.
      const complete = Buffer.byteLength(new TextDecoder().decode(bytes.subarray(0, to), { stream: true }));
      await eventually(() => sumChunkBytes(c) >= complete, `${complete} bytes of chunks`);
    }
    expect((await pub.end()).status).toBe(200);
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    const chunks = c.frames.filter((f) => f.kind === 'chunk').map((f) => f.data as string);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks[0]).toBe('ab'); // the partial 👋 waited for its remaining bytes
    for (const ch of chunks) expect(ch).not.toContain('\uFFFD');
    expect(chunks.join('')).toBe(text);
  });

  it('sends start and end with no chunk for an empty stream', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    const res = await request(publishUrl(dev.url, { channel, topic: 't' }), {
      method: 'POST',
      headers: streamHeaders,
      body: '',
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ chunks: 0, bytes: 0 });
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    expect(c.frames.map((f) => f.kind)).toEqual(['datastream-start', 'datastream-end']);
  });

  it('still ends the stream for subscribers when the publisher goes away mid-stream', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    const pub = new StreamingPublish(publishUrl(dev.url, { channel, topic: 't' }), streamHeaders);
    pub.response.catch(() => {}); // the request is aborted on purpose
    await pub.write('partial');
    await frameWhere(c, (f) => f.kind === 'chunk');
    pub.abort();
    const end = await frameWhere(c, (f) => f.kind === 'datastream-end');
    expect(end.data).toBe(c.frames[0]?.data);
    expect(c.frames.map((f) => [f.kind, f.kind === 'chunk' ? f.data : undefined])).toEqual([
      ['datastream-start', undefined],
      ['chunk', 'partial'],
      ['datastream-end', undefined],
    ]);
    // The server is fine afterwards.
    expect((await request(`${dev.url}/health`)).status).toBe(200);
  });

  it('treats text/stream with parameters as a stream too (Inngest requires the exact string)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    const res = await request(publishUrl(dev.url, { channel, topic: 't' }), {
      method: 'POST',
      headers: { 'Content-Type': 'text/stream; charset=utf-8' },
      body: 'x',
    });
    expect(res.status).toBe(200);
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    expect(c.frames.map((f) => f.kind)).toEqual(['datastream-start', 'chunk', 'datastream-end']);
  });

  it('ends a stream over --max-stream with datastream-end and answers 413 saying it was cut', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    const body = 'abcdefgh'.repeat(4 * MAX_STREAM); // 8× the limit
    const res = await request(publishUrl(dev.url, { channel, topic: 't' }), {
      method: 'POST',
      headers: streamHeaders,
      body,
    });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/json');
    const err = res.json<{ error: string; truncated: boolean; bytes: number; streamId: string }>();
    expect(err).toMatchObject({ status: 413, truncated: true, bytes: MAX_STREAM });
    expect(err.error).toMatch(/exceeded 4096 bytes; the stream was ended after 4096 bytes/);
    const end = await frameWhere(c, (f) => f.kind === 'datastream-end');
    expect(end.data).toBe(err.streamId);
    const joined = c.frames
      .filter((f) => f.kind === 'chunk')
      .map((f) => f.data)
      .join('');
    expect(joined).toBe(body.slice(0, MAX_STREAM));
  });

  it('answers 413 to a chunked publisher that keeps streaming past --max-stream', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(dev, channel, ['t']);
    let i = 0;
    const piece = new TextEncoder().encode('y'.repeat(16 * 1024));
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (i++ < 64) ctl.enqueue(piece);
        else ctl.close();
      },
    });
    const res = await fetch(publishUrl(dev.url, { channel, topic: 't' }), {
      method: 'POST',
      headers: streamHeaders,
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ truncated: true, bytes: MAX_STREAM });
    await frameWhere(c, (f) => f.kind === 'datastream-end');
  });

  it("forwards a teed upstream body (the executor's TeeStreamReaderToAPI) as start, 5 chunks, end", async () => {
    // §7.26: bare publish JWT in Authorization (no "Bearer ", F11), metadata, one read per event.
    const channel = uniqueChannel();
    const c = await subscriber(prod, channel, ['stream'], bearer(SIGNING_KEY));
    const publishJwt = signJwt(claims({ publish: true, topics: null }));
    const metadata = { source: 'gateway', attempt: 1 };
    const pub = new StreamingPublish(
      publishUrl(prod.url, { channel, topic: 'stream', metadata: JSON.stringify(metadata) }),
      { 'Content-Type': 'text/stream', Authorization: publishJwt },
    );
    for (let k = 0; k < 5; k++) {
      await pub.write(`data: Event ${k}\n\n`);
      await frameWhere(c, (f) => f.kind === 'chunk' && f.data === `data: Event ${k}\n\n`, `chunk ${k}`);
    }
    const res = await pub.end();
    expect(res.status, res.text).toBe(200);
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    expect(c.frames).toHaveLength(7);
    expect(c.frames[0]).toMatchObject({ kind: 'datastream-start', metadata });
    expect(c.frames[6]).toMatchObject({ kind: 'datastream-end', metadata });
    expect(c.frames.slice(1, 6).map((f) => f.data)).toEqual(
      [0, 1, 2, 3, 4].map((k) => `data: Event ${k}\n\n`),
    );
  });
});

function sumChunkBytes(c: FrameCollector): number {
  return c.frames
    .filter((f) => f.kind === 'chunk')
    .reduce((s, f) => s + Buffer.byteLength(f.data as string), 0);
}
