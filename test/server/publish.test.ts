/**
 * `POST /v1/realtime/publish` (single messages) against `herald dev`: the JSON acknowledgement,
 * how bodies become `data` (F4), and bad input — every refusal is a JSON error naming what was
 * wrong (413 over the body limit, F3; 400 naming the field for names and metadata, F15).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { frameWhere, publishUrl, request, stopClean } from './helpers.js';

const MAX_BODY = 512 * 1024;
let herald: HeraldProcess;
const open: FrameCollector[] = [];

beforeAll(async () => {
  herald = await startHerald();
});
afterAll(async () => {
  await stopClean(herald);
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

let n = 0;
const uniqueChannel = () => `pub-${++n}-${Date.now()}`;

async function subscriber(channel: string, topics: string[]) {
  const c = await FrameCollector.connect(herald.wsUrl, await mintToken(herald.url, channel, topics));
  open.push(c);
  return c;
}

interface ErrorBody {
  error: string;
  status: number;
  field?: string;
}

async function expectError(res: Response, status: number, field?: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  const body = JSON.parse(text) as ErrorBody;
  expect(body.status).toBe(status);
  expect(typeof body.error).toBe('string');
  if (field !== undefined) expect(body.field).toBe(field);
  return body;
}

describe('acknowledgement', () => {
  it('answers 200 with {id, epoch, seq, duplicate, channel, topic} after the message is accepted', async () => {
    const channel = uniqueChannel();
    const first = await publish(herald.url, channel, 'ai', '{"a":1}');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    const a = (await first.json()) as Record<string, unknown>;
    expect(a).toEqual({
      id: expect.any(String),
      epoch: expect.any(String),
      seq: 1,
      duplicate: false,
      channel,
      topic: 'ai',
    });
    // One sequence per channel, across its topics.
    const b = (await (await publish(herald.url, channel, 'other', '2')).json()) as Record<string, unknown>;
    expect(b).toMatchObject({ seq: 2, epoch: a.epoch, topic: 'other' });
    expect(b.id).not.toBe(a.id);
  });

  it('answers a retry with the same Idempotency-Key with the first acknowledgement, delivering once', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    const headers = { 'Idempotency-Key': 'order-42' };
    const a = await (await publish(herald.url, channel, 't', '"once"', { headers })).json();
    const b = await (await publish(herald.url, channel, 't', '"once"', { headers })).json();
    expect(b).toEqual({ ...a, duplicate: true });
    await publish(herald.url, channel, 't', '"marker"');
    await frameWhere(c, (f) => f.data === 'marker');
    expect(c.frames.map((f) => f.data)).toEqual(['once', 'marker']);
  });
});

describe('bodies become data', () => {
  it('keeps a JSON-encoded string a string: body "123" arrives as the string "123"', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    // What the SDKs send for `publish("123")` after JSON-encoding it.
    await publish(herald.url, channel, 't', JSON.stringify('123'));
    const [f] = await c.waitFor(1);
    expect(f?.data).toBe('123');
  });

  it('reads raw bodies as JSON when they parse, else as a string (F4, documented)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    const cases: [string, unknown][] = [
      ['123', 123],
      ['true', true],
      ['null', null],
      ['{"a":1}', { a: 1 }],
      ['[1,"x"]', [1, 'x']],
      ['hello', 'hello'],
      ['{"not json', '{"not json'],
      ['', ''],
      ['"<&>\u2028"', '<&>\u2028'],
      ['  {"spaced" : true }  ', { spaced: true }],
    ];
    for (const [body] of cases) expect((await publish(herald.url, channel, 't', body)).status).toBe(200);
    const frames = await c.waitFor(cases.length);
    expect(frames.map((f) => f.data)).toEqual(cases.map(([, v]) => v));
  });

  it('delivers a body of exactly the limit (512 KiB)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    const body = JSON.stringify('x'.repeat(MAX_BODY - 2));
    expect(Buffer.byteLength(body)).toBe(MAX_BODY);
    const res = await publish(herald.url, channel, 't', body);
    expect(res.status).toBe(200);
    const [f] = await c.waitFor(1);
    expect(f?.data).toBe('x'.repeat(MAX_BODY - 2));
  });

  it('keeps run_id as given (any non-empty string within the name limit)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    await publish(herald.url, channel, 't', '1', { query: { run_id: 'not-a-ULID run/7' } });
    await publish(herald.url, channel, 't', '2', { query: { run_id: '' } });
    const [a, b] = await c.waitFor(2);
    expect(a?.run_id).toBe('not-a-ULID run/7');
    expect(b).not.toHaveProperty('run_id');
  });

  it('carries a metadata JSON object on the frame', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    await publish(herald.url, channel, 't', '1', { query: { metadata: '{"step":"s1","n":[1]}' } });
    const [f] = await c.waitFor(1);
    expect(f?.metadata).toEqual({ step: 's1', n: [1] });
  });

  it('uses the first topic when several are given (as Inngest does, F18)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['a', 'b']);
    const res = await fetch(publishUrl(herald.url, { channel, topic: ['a', 'b'] }), {
      method: 'POST',
      body: '1',
    });
    expect(await res.json()).toMatchObject({ topic: 'a' });
    await publish(herald.url, channel, 'b', '"marker"');
    await frameWhere(c, (f) => f.data === 'marker');
    expect(c.frames.map((f) => [f.topic, f.data])).toEqual([
      ['a', 1],
      ['b', 'marker'],
    ]);
  });
});

describe('bad input', () => {
  it('refuses a body over 512 KiB with 413 and a JSON error, never truncating (F3)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    const body = JSON.stringify('x'.repeat(MAX_BODY - 1)); // one byte over
    const err = await expectError(await publish(herald.url, channel, 't', body), 413);
    expect(err.error).toMatch(/limit is 524288 bytes/);
    // Also when the length is not declared up front (chunked upload), and for far larger bodies.
    const piece = new TextEncoder().encode('y'.repeat(64 * 1024));
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (i++ < 64) ctl.enqueue(piece);
        else ctl.close();
      },
    });
    await expectError(
      await fetch(publishUrl(herald.url, { channel, topic: 't' }), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
      413,
    );
    await expectError(await publish(herald.url, channel, 't', 'z'.repeat(4 * 1024 * 1024)), 413);
    // Nothing of the refused bodies was published; the connection still works.
    await publish(herald.url, channel, 't', '"after"');
    const [f] = await c.waitFor(1);
    expect(f?.data).toBe('after');
  });

  it('refuses a missing or empty channel with 400 naming "channel"', async () => {
    await expectError(
      await fetch(`${herald.url}/v1/realtime/publish?topic=t`, { method: 'POST', body: '1' }),
      400,
      'channel',
    );
    await expectError(await publish(herald.url, '', 't', '1'), 400, 'channel');
    await expectError(
      await fetch(`${herald.url}/v1/realtime/publish?topic=t`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/stream' },
        body: 'x',
      }),
      400,
      'channel',
    );
  });

  it('refuses a missing or empty topic with 400 naming "topic"', async () => {
    await expectError(
      await fetch(`${herald.url}/v1/realtime/publish?channel=c`, { method: 'POST', body: '1' }),
      400,
      'topic',
    );
    await expectError(await publish(herald.url, 'c', '', '1'), 400, 'topic');
  });

  it('refuses names over the limit (256 characters) and with control characters, naming the field', async () => {
    const long = 'n'.repeat(257);
    const e1 = await expectError(await publish(herald.url, long, 't', '1'), 400, 'channel');
    expect(e1.error).toMatch(/257 characters long; the limit is 256/);
    await expectError(await publish(herald.url, 'c', long, '1'), 400, 'topic');
    await expectError(await publish(herald.url, 'c', 't', '1', { query: { run_id: long } }), 400, 'run_id');
    await expectError(await publish(herald.url, 'c\nx', 't', '1'), 400, 'channel');
    expect((await publish(herald.url, 'n'.repeat(256), 't', '1')).status).toBe(200);
  });

  it('refuses metadata that is not a JSON object with 400 naming "metadata" (F15)', async () => {
    const channel = uniqueChannel();
    const c = await subscriber(channel, ['t']);
    for (const metadata of ['{not json', '[1,2]', '42', '"text"', 'null']) {
      const err = await expectError(
        await publish(herald.url, channel, 't', '1', { query: { metadata } }),
        400,
        'metadata',
      );
      expect(err.error).toMatch(/metadata must be a JSON object/);
    }
    await publish(herald.url, channel, 't', '"marker"');
    const [f] = await c.waitFor(1);
    expect(f?.data).toBe('marker'); // none of the refused publishes was delivered
  });

  it('answers an unknown route with 404 and a wrong method with 405, both JSON', async () => {
    await expectError(await fetch(`${herald.url}/v1/realtime/nope`), 404);
    const err = await expectError(await fetch(`${herald.url}/v1/realtime/publish`), 405);
    expect(err.error).toMatch(/use POST/);
  });

  it('reads the whole request for errors answered before the body (keep-alive stays usable)', async () => {
    // A 400 answered before reading a large body must not poison the connection for the next request.
    const big = 'x'.repeat(256 * 1024);
    const r1 = await request(`${herald.url}/v1/realtime/publish?topic=t`, { method: 'POST', body: big });
    expect(r1.status).toBe(400);
    const r2 = await request(publishUrl(herald.url, { channel: uniqueChannel(), topic: 't' }), {
      method: 'POST',
      body: '1',
    });
    expect(r2.status).toBe(200);
  });
});
