/**
 * `POST /v1/realtime/publish/tee` (§1.5): raw bytes forwarded verbatim to the channel's `$stream`
 * subscribers, against `herald start` with a signing key and a known JWT secret (§7.1–10).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import {
  bearer,
  claims,
  eventually,
  publishUrl,
  request,
  SIGNING_KEY,
  SIGNING_KEY_HASHED,
  SseClient,
  StreamingPublish,
  signJwt,
  stopClean,
  topicsOf,
} from './helpers.js';

const MAX_TEE = 1000 * 1024;
let herald: HeraldProcess;
const open: { close(): void }[] = [];

beforeAll(async () => {
  herald = await startHerald({
    mode: 'start',
    args: ['--signing-key', SIGNING_KEY, '--jwt-secret', 'tee-secret'],
  });
});
afterAll(async () => {
  await stopClean(herald);
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

const publishJwt = () => signJwt(claims({ publish: true, topics: null }), { secret: 'tee-secret' });
let n = 0;
const uniqueChannel = () => `tee-${++n}-${Date.now()}`;

async function streamSubscriber(channel: string, topics = ['$stream']) {
  const token = await mintToken(herald.url, channel, topics, bearer(SIGNING_KEY));
  const c = await FrameCollector.connect(herald.wsUrl, token);
  open.push(c);
  return c;
}

function tee(channel: string | undefined, body: string | Buffer, headers: Record<string, string>) {
  const q: Record<string, string> = channel === undefined ? {} : { channel };
  return request(publishUrl(herald.url, q, 'publish/tee'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
    body,
  });
}

/** Publishes a JSON marker on the channel's $stream topic and waits for it: everything teed before it arrived. */
async function untilMarker(c: FrameCollector, channel: string): Promise<string> {
  await publish(herald.url, channel, '$stream', '"--marker--"', { headers: bearer(SIGNING_KEY) });
  await eventually(() => c.frames.some((f) => f.kind === 'data' && f.data === '--marker--'), 'the marker');
  const i = c.frames.findIndex((f) => f.kind === 'data' && f.data === '--marker--');
  return c.raw.slice(0, i).join('');
}

describe('publish/tee', () => {
  it('forwards the body bytes to $stream subscribers, exactly once (publish JWT)', async () => {
    // §7.1
    const channel = uniqueChannel();
    const c = await streamSubscriber(channel);
    const res = await tee(channel, 'raw bytes, not JSON', bearer(publishJwt()));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ bytes: 19 });
    expect(await untilMarker(c, channel)).toBe('raw bytes, not JSON');
  });

  it('forwards a 10 KiB body complete (possibly over several frames)', async () => {
    // §7.2
    const channel = uniqueChannel();
    const c = await streamSubscriber(channel);
    const body = Array.from({ length: 10 * 1024 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    expect((await tee(channel, body, bearer(publishJwt()))).status).toBe(200);
    expect(await untilMarker(c, channel)).toBe(body);
  });

  it('gives each of two subscribers the body once', async () => {
    // §7.3
    const channel = uniqueChannel();
    const [a, b] = [await streamSubscriber(channel), await streamSubscriber(channel)];
    expect((await tee(channel, 'for both', bearer(publishJwt()))).status).toBe(200);
    await publish(herald.url, channel, '$stream', '"--marker--"', { headers: bearer(SIGNING_KEY) });
    for (const c of [a, b]) {
      await eventually(() => c.frames.some((f) => f.data === '--marker--'), 'the marker');
      expect(c.raw).toEqual(['for both', expect.stringContaining('--marker--')]);
    }
  });

  it('refuses a request without Authorization with 401', async () => {
    // §7.4
    const res = await tee(uniqueChannel(), 'x', {});
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ status: 401 });
  });

  it('refuses a missing or empty channel with 400 naming "channel"', async () => {
    // §7.5
    for (const channel of [undefined, '']) {
      const res = await tee(channel, 'x', bearer(publishJwt()));
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ status: 400, field: 'channel' });
    }
  });

  it('refuses "Bearer invalid-jwt" with 401', async () => {
    // §7.6
    const res = await tee(uniqueChannel(), 'x', bearer('invalid-jwt'));
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ status: 401 });
  });

  it('forwards an SSE-formatted body verbatim to an SSE subscriber', async () => {
    // §7.7, §7.30
    const channel = uniqueChannel();
    const token = await mintToken(herald.url, channel, ['$stream'], bearer(SIGNING_KEY));
    const sse = await SseClient.open(herald.url, token);
    open.push(sse);
    await sse.waitForText((t) => t.startsWith(':\n\n'), 'the first keepalive');
    const body = 'event: message\ndata: {"token":"Hello"}\n\ndata: [DONE]\n\n';
    expect((await tee(channel, body, bearer(publishJwt()))).status).toBe(200);
    await sse.waitForText((t) => t.includes('[DONE]'));
    expect(sse.text).toBe(`:\n\n${body}`);
  });

  it('accepts signing-key auth (no JWT) and forwards to the signing-key env', async () => {
    // §7.8
    const channel = uniqueChannel();
    const c = await streamSubscriber(channel);
    const res = await tee(channel, 'via signing key', bearer(SIGNING_KEY_HASHED));
    expect(res.status).toBe(200);
    expect(await untilMarker(c, channel)).toBe('via signing key');
  });

  it('refuses a body over 1,000 × 1,024 bytes with 413, forwarding at most the limit', async () => {
    // §7.9
    const channel = uniqueChannel();
    const c = await streamSubscriber(channel);
    const res = await tee(channel, Buffer.alloc(MAX_TEE + 1, 'z'), bearer(publishJwt()));
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ status: 413, truncated: true });
    const got = await untilMarker(c, channel);
    expect(got.length).toBeLessThanOrEqual(MAX_TEE);
    expect(got).toBe('z'.repeat(got.length));
  });

  it('refuses a subscription JWT with 401', async () => {
    // §7.10
    const channel = uniqueChannel();
    const sub = await mintToken(herald.url, channel, ['$stream'], bearer(SIGNING_KEY));
    const res = await tee(channel, 'x', bearer(sub));
    expect(res.status).toBe(401);
    expect(res.json<{ error: string }>().error).toMatch(/Not authenticated for publishing/);
  });

  it('reaches only the $stream topic of its own channel', async () => {
    // §7.58 (channel isolation, on one node)
    const channel = uniqueChannel();
    const mine = await streamSubscriber(channel, ['$stream', 'other']);
    const elsewhere = await streamSubscriber(`${channel}-b`);
    expect((await tee(channel, 'only here', bearer(publishJwt()))).status).toBe(200);
    expect(await untilMarker(mine, channel)).toBe('only here');
    expect(await untilMarker(elsewhere, `${channel}-b`)).toBe('');
  });

  it('never splits a UTF-8 character across frames, whatever the write boundaries (F16)', async () => {
    const channel = uniqueChannel();
    const c = await streamSubscriber(channel);
    const text = 'data: 👋 ünïcødé 世界\n\n';
    const bytes = Buffer.from(text);
    const pub = new StreamingPublish(
      publishUrl(herald.url, { channel }, 'publish/tee'),
      bearer(publishJwt()),
    );
    const cut = bytes.indexOf(Buffer.from('👋')) + 1;
    await pub.write(bytes.subarray(0, cut));
    await eventually(() => c.raw.length > 0, 'the first piece');
    await pub.write(bytes.subarray(cut));
    expect((await pub.end()).status).toBe(200);
    const got = await untilMarker(c, channel);
    expect(got).toBe(text);
    expect(c.raw[0]).toBe('data: ');
    for (const r of c.raw) expect(r).not.toContain('\uFFFD');
  });

  it('accepts a publish JWT whose topics claim names other channels (topics are not consulted)', async () => {
    const channel = uniqueChannel();
    const c = await streamSubscriber(channel);
    const token = signJwt(claims({ publish: true, topics: topicsOf('elsewhere', ['x']) }), {
      secret: 'tee-secret',
    });
    expect((await tee(channel, 'anywhere', bearer(token))).status).toBe(200);
    expect(await untilMarker(c, channel)).toBe('anywhere');
  });
});
