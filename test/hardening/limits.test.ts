/**
 * Every configured limit, against real Herald processes started with small limits: each is pushed
 * past its limit and must refuse with its documented status or close code and JSON body, keep what
 * was already accepted (subscribers still receive, a refused publish published nothing), and
 * recover (after closing, after the bucket refills). The counts are printed and written to
 * test-results/hardening/limits.json.
 *
 * No assertion depends on speed: rates are pushed far past their burst, and waits are polls with
 * failure guards.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  claims,
  eventually,
  frameWhere,
  healthReaches,
  JWT_SECRET,
  metric,
  publishUrl,
  type RawResponse,
  request,
  SIGNING_KEY,
  SseClient,
  StreamingPublish,
  signJwt,
  stopClean,
} from '../server/helpers.js';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';

// ---------------------------------------------------------------------------------------------
// The counted summary: per limit, how many attempts went over it and how many were refused with
// the expected status or close code.

interface Tally {
  expected: string;
  /** Attempts within the limit that were accepted (rates: the burst and what refilled). */
  accepted: number;
  over: number;
  refusedAsExpected: number;
  other: string[];
}
const tallies = new Map<string, Tally>();

function tally(limit: string, expected: number | string): Tally {
  let t = tallies.get(limit);
  if (t === undefined) {
    t = { expected: String(expected), accepted: 0, over: 0, refusedAsExpected: 0, other: [] };
    tallies.set(limit, t);
  }
  return t;
}

function count(limit: string, expected: number | string, got: number | string | undefined): void {
  const t = tally(limit, expected);
  t.over++;
  if (String(got) === String(expected)) t.refusedAsExpected++;
  else t.other.push(String(got));
}

/** Records attempts of a rate that were within it (accepted). */
function countAccepted(limit: string, expected: number | string, accepted: number): void {
  tally(limit, expected).accepted += accepted;
}

function writeSummary(): void {
  const rows = [...tallies].map(([limit, t]) => ({ limit, ...t }));
  console.log('\nlimits: attempts over the limit → refused with the expected status / close code');
  console.table(
    rows.map((r) => ({
      limit: r.limit,
      expected: r.expected,
      'accepted (within)': r.accepted,
      'over limit': r.over,
      refused: r.refusedAsExpected,
      other: r.other.join(' ') || '—',
    })),
  );
  mkdirSync('test-results/hardening', { recursive: true });
  const totals = rows.reduce(
    (a, r) => ({ over: a.over + r.over, refused: a.refused + r.refusedAsExpected }),
    {
      over: 0,
      refused: 0,
    },
  );
  writeFileSync(
    'test-results/hardening/limits.json',
    `${JSON.stringify({ suite: 'limits', at: new Date().toISOString(), totals, limits: rows }, null, 2)}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Processes

const DEV_LIMITS = [
  '--max-connections-per-ip',
  '3',
  '--max-subscriptions-per-connection',
  '3',
  '--max-channels-per-token',
  '2',
  '--max-client-frames',
  '10',
  '--max-body',
  '1KiB',
  '--body-timeout',
  '1',
  '--stream-idle-timeout',
  '1',
  '--headers-timeout',
  '1',
  '--max-header-bytes',
  '4KiB',
];

let dev: HeraldProcess; // the limits above, auth off
let prod: HeraldProcess; // herald start with a signing key and --publish-rate 5
let proxied: HeraldProcess; // --trust-proxy, one connection per IP
let openRate: HeraldProcess; // herald dev with --publish-rate 5: publishers are told apart by IP

beforeAll(async () => {
  [dev, prod, proxied, openRate] = await Promise.all([
    startHerald({ args: DEV_LIMITS }),
    startHerald({
      mode: 'start',
      args: ['--signing-key', SIGNING_KEY, '--jwt-secret', JWT_SECRET, '--publish-rate', '5'],
    }),
    startHerald({ args: ['--trust-proxy', '--max-connections-per-ip', '1'] }),
    startHerald({ args: ['--publish-rate', '5'] }),
  ]);
});

afterAll(async () => {
  writeSummary();
  await stopClean(dev, prod, proxied, openRate);
});

let n = 0;
const uniqueChannel = () => `limits-${process.pid}-${++n}`;

const ok = async (res: Response | RawResponse) => {
  expect(res.status, 'text' in res && typeof res.text === 'string' ? res.text : '').toBe(200);
};

/** A WebSocket upgrade over plain HTTP, for reading a refusal's status, headers and JSON body. */
function upgradeRequest(
  base: HeraldProcess,
  token: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return request(`${base.url}/v1/realtime/connect?token=${encodeURIComponent(token)}`, {
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
      ...headers,
    },
  });
}

/** Writes with `send`, collects everything the server answers until it closes the socket. */
function rawExchange(
  port: number,
  send: (s: net.Socket) => void,
  guardMs = 20_000,
): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const deadline = Date.now() + guardMs - 100;
    const s = net.connect(port, '127.0.0.1', () => send(s));
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString();
    });
    s.on('error', () => {});
    const guard = setTimeout(() => s.destroy(), guardMs);
    s.on('close', () => {
      clearTimeout(guard);
      resolve({ text, closedByServer: Date.now() < deadline });
    });
  });
}

/** Writes `piece` every `everyMs` until the socket closes. */
function trickle(s: net.Socket, piece: (i: number) => string, everyMs = 200): void {
  let i = 0;
  const timer = setInterval(() => {
    if (s.destroyed || !s.writable) clearInterval(timer);
    else s.write(piece(i++));
  }, everyMs);
  s.on('close', () => clearInterval(timer));
}

function parseRaw(text: string): {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
} {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: body ? (JSON.parse(body) as Record<string, unknown>) : {},
  };
}

/** Opens `count` WebSocket subscribers, retrying while the server still counts closed ones. */
async function openAll(base: HeraldProcess, token: string, count: number): Promise<FrameCollector[]> {
  return eventually(async () => {
    const open: FrameCollector[] = [];
    try {
      for (let i = 0; i < count; i++) open.push(await FrameCollector.connect(base.wsUrl, token));
      return open;
    } catch {
      for (const c of open) c.ws.terminate();
      await healthReaches(base.url, { connections: 0 });
      return undefined;
    }
  }, `${count} connections to be admitted again`);
}

// ---------------------------------------------------------------------------------------------

describe('connections per IP (--max-connections-per-ip 3, WebSocket and SSE together)', () => {
  it('refuses the 4th with 429 JSON and Retry-After, keeps the 3 open ones delivering, and recovers', async () => {
    const channel = uniqueChannel();
    const token = await mintToken(dev.url, channel, ['t']);
    const ws = [
      await FrameCollector.connect(dev.wsUrl, token),
      await FrameCollector.connect(dev.wsUrl, token),
    ];
    const sse = await SseClient.open(dev.url, token);
    expect(sse.status).toBe(200);

    for (let i = 0; i < 3; i++) {
      const refused = await upgradeRequest(dev, token);
      count('connections per IP (WebSocket)', 429, refused.status);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.json()).toMatchObject({
        status: 429,
        error: expect.stringContaining('--max-connections-per-ip'),
        retryAfterSeconds: Number(refused.headers['retry-after']),
      });
      const refusedSse = await SseClient.open(dev.url, token);
      await refusedSse.waitForEnd();
      count('connections per IP (SSE)', 429, refusedSse.status);
      expect(refusedSse.status).toBe(429);
      expect(refusedSse.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(refusedSse.text)).toMatchObject({ status: 429 });
    }
    // The ws client sees the refusal as a failed handshake.
    await expect(FrameCollector.connect(dev.wsUrl, token)).rejects.toThrow(/429/);
    count('connections per IP (WebSocket)', 429, 429);

    // Nothing already accepted was lost.
    await ok(await publish(dev.url, channel, 't', '"after the refusals"'));
    for (const c of ws) await frameWhere(c, (f) => f.data === 'after the refusals');
    await sse.waitForText((t) => t.includes('after the refusals'));
    expect(ws.map((c) => c.closeCode)).toEqual([undefined, undefined]);

    // Closed every way a connection can end; the count goes back to 0 each time.
    ws[0]?.close();
    ws[1]?.ws.terminate();
    sse.close();
    await healthReaches(dev.url, { connections: 0 });
    const again = await openAll(dev, token, 3);
    for (const c of again) c.ws.terminate();
    await healthReaches(dev.url, { connections: 0 });
  });

  it('counts refused handshakes (401, 400 subscription limit, malformed upgrade) only while they last', async () => {
    const token = await mintToken(dev.url, uniqueChannel(), ['t']);
    for (let i = 0; i < 10; i++) {
      expect((await upgradeRequest(dev, 'not-a-token')).status).toBe(401);
      expect((await upgradeRequest(dev, token, { 'Sec-WebSocket-Version': '99' })).status).toBe(400);
    }
    const sseRefused = await SseClient.open(dev.url, 'not-a-token');
    await sseRefused.waitForEnd();
    expect(sseRefused.status).toBe(401);
    // Were any of those still counted, a 3rd connection would be refused.
    const open = await openAll(dev, token, 3);
    expect((await upgradeRequest(dev, token)).status).toBe(429);
    count('connections per IP (WebSocket)', 429, 429);
    for (const c of open) c.close();
    await healthReaches(dev.url, { connections: 0 });
  });

  it('behind --trust-proxy, counts the last X-Forwarded-For hop (spoofed earlier hops do not help)', async () => {
    const token = await mintToken(proxied.url, uniqueChannel(), ['t']);
    const a = await FrameCollector.connect(proxied.wsUrl, token, {
      headers: { 'X-Forwarded-For': '192.0.2.1' },
    });
    for (const xff of ['192.0.2.1', '203.0.113.7, 192.0.2.1']) {
      const refused = await upgradeRequest(proxied, token, { 'X-Forwarded-For': xff });
      count('connections per IP (--trust-proxy)', 429, refused.status);
      expect(refused.status).toBe(429);
    }
    const b = await FrameCollector.connect(proxied.wsUrl, token, {
      headers: { 'X-Forwarded-For': '192.0.2.1, 198.51.100.2' },
    });
    a.close();
    b.close();
    await healthReaches(proxied.url, { connections: 0 });
  });
});

describe('subscriptions per connection (--max-subscriptions-per-connection 3)', () => {
  it('refuses a connect token that alone grants more with 400 JSON', async () => {
    const token = await mintToken(dev.url, uniqueChannel(), ['a', 'b', 'c', 'd']);
    const ws = await upgradeRequest(dev, token);
    count('subscriptions per connection (connect)', 400, ws.status);
    expect(ws.status).toBe(400);
    expect(ws.json()).toMatchObject({
      status: 400,
      field: 'token',
      error: expect.stringContaining('--max-subscriptions-per-connection'),
    });
    const sse = await SseClient.open(dev.url, token);
    await sse.waitForEnd();
    count('subscriptions per connection (connect)', 400, sse.status);
    expect(sse.status).toBe(400);
    await healthReaches(dev.url, { connections: 0, subscriptions: 0 });
  });

  it('refuses a sub frame that would go past it, changing nothing, and accepts one that fits', async () => {
    const channel = uniqueChannel();
    const c = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, channel, ['a', 'b']));
    c.ws.send(JSON.stringify({ kind: 'sub', data: await mintToken(dev.url, channel, ['c', 'd']), id: 1 }));
    const refused = await frameWhere(c, (f) => f.kind === 'sub' && f.id === 1);
    const data = refused.data as { ok: boolean; error: string };
    count('subscriptions per connection (sub frame)', 'ok:false', data.ok ? 'ok:true' : 'ok:false');
    expect(data).toEqual({ ok: false, error: expect.stringContaining('limit') });
    await healthReaches(dev.url, { connections: 1, subscriptions: 2 });
    // The existing subscriptions still deliver; the refused topics do not.
    await ok(await publish(dev.url, channel, 'c', '"refused topic"'));
    await ok(await publish(dev.url, channel, 'a', '"kept topic"'));
    await frameWhere(c, (f) => f.data === 'kept topic');
    expect(c.frames.some((f) => f.data === 'refused topic')).toBe(false);
    // Up to the limit is fine (a topic already held costs nothing).
    c.ws.send(JSON.stringify({ kind: 'sub', data: await mintToken(dev.url, channel, ['a', 'c']), id: 2 }));
    const accepted = await frameWhere(c, (f) => f.kind === 'sub' && f.id === 2);
    expect(accepted.data).toMatchObject({ ok: true });
    await healthReaches(dev.url, { connections: 1, subscriptions: 3 });
    c.close();
    await healthReaches(dev.url, { connections: 0, subscriptions: 0 });
  });
});

describe('channels per token (--max-channels-per-token 2)', () => {
  it('refuses a /token request for a 3rd distinct channel with 400 naming the field', async () => {
    const body = (channels: string[]) =>
      JSON.stringify(
        channels.flatMap((channel) => [
          { channel, name: 'x' },
          { channel, name: 'y' },
        ]),
      );
    const res = await request(`${dev.url}/v1/realtime/token`, {
      method: 'POST',
      body: body(['a', 'b', 'c']),
    });
    count('channels per token', 400, res.status);
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({
      status: 400,
      field: '[4].channel',
      error: expect.stringContaining('2'),
    });
    const fits = await request(`${dev.url}/v1/realtime/token`, { method: 'POST', body: body(['a', 'b']) });
    expect(fits.status).toBe(201);
  });
});

describe('client frames (--max-client-frames 10, burst 20; binary frames)', () => {
  it('closes a client that floods frames with 4029, counts it, and leaves others alone', async () => {
    const channel = uniqueChannel();
    const token = await mintToken(dev.url, channel, ['t']);
    const before = await metric(dev.url, 'herald_client_frame_rate_closes_total');
    const calm = await FrameCollector.connect(dev.wsUrl, token);
    // Within the burst: every frame is answered, nothing is closed.
    for (let i = 0; i < 15; i++) calm.ws.send(JSON.stringify({ kind: 'unsub', data: [], id: i }));
    await eventually(() => calm.frames.filter((f) => f.kind === 'unsub').length === 15, '15 unsub replies');
    for (let round = 0; round < 2; round++) {
      const flood = await FrameCollector.connect(dev.wsUrl, token);
      for (let i = 0; i < 400; i++)
        flood.ws.send(i % 2 ? 'not json' : JSON.stringify({ kind: 'unsub', data: [] }));
      const code = await flood.closed();
      count('client frame rate', 4029, code);
      expect(code).toBe(4029);
      expect(flood.closeReason).toMatch(/too many client frames/);
    }
    await eventually(
      async () => (await metric(dev.url, 'herald_client_frame_rate_closes_total')) === before + 2,
      'the metric to count both closes',
    );
    await ok(await publish(dev.url, channel, 't', '"calm still here"'));
    await frameWhere(calm, (f) => f.data === 'calm still here');
    expect(calm.closeCode).toBeUndefined();
    calm.close();
    await healthReaches(dev.url, { connections: 0 });
  });

  it('closes a client that sends a binary frame with 1003', async () => {
    const c = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, uniqueChannel(), ['t']));
    c.ws.send(Buffer.from([0xff, 0x00, 0x01]));
    const code = await c.closed();
    count('binary client frame', 1003, code);
    expect(code).toBe(1003);
    expect(c.closeReason).toBe('binary frames are not supported');
    await healthReaches(dev.url, { connections: 0 });
  });
});

describe('message size (--max-body 1KiB)', () => {
  it('refuses a larger publish with 413 JSON and publishes nothing', async () => {
    const channel = uniqueChannel();
    const c = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, channel, ['t']));
    for (let i = 0; i < 3; i++) {
      const res = await publish(dev.url, channel, 't', JSON.stringify('x'.repeat(2000)));
      count('body size', 413, res.status);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ status: 413, limit: 1024 });
    }
    await ok(await publish(dev.url, channel, 't', '"fits"'));
    await frameWhere(c, (f) => f.data === 'fits');
    expect(c.frames.filter((f) => f.kind === 'data')).toHaveLength(1);
    c.close();
  });
});

describe('slow clients (--body-timeout 1, --stream-idle-timeout 1, --headers-timeout 1, --max-header-bytes 4KiB)', () => {
  it('answers a trickled JSON publish body 408 JSON, closes the connection, and publishes nothing', async () => {
    const channel = uniqueChannel();
    const c = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, channel, ['t']));
    for (const path of [`/v1/realtime/publish?channel=${channel}&topic=t`, '/v1/realtime/token']) {
      const { text, closedByServer } = await rawExchange(dev.port, (s) => {
        s.write(
          `POST ${path} HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"`,
        );
        trickle(s, () => 'x');
      });
      const answer = parseRaw(text);
      count('body timeout', 408, answer.status);
      expect(answer.status).toBe(408);
      expect(answer.headers.connection).toBe('close');
      expect(answer.body).toMatchObject({ status: 408, error: expect.stringContaining('did not arrive') });
      expect(closedByServer).toBe(true);
    }
    await ok(await publish(dev.url, channel, 't', '"after the slow one"'));
    await frameWhere(c, (f) => f.data === 'after the slow one');
    expect(c.frames.filter((f) => f.kind === 'data')).toHaveLength(1);
    c.close();
  });

  it('ends a text/stream publish that goes quiet (408, truncated) and lets a slow but steady one run past every timeout', async () => {
    const channel = uniqueChannel();
    const c = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, channel, ['t']));
    const headers = { 'Content-Type': 'text/stream', 'Transfer-Encoding': 'chunked' };
    const quiet = new StreamingPublish(publishUrl(dev.url, { channel, topic: 't' }), headers);
    await quiet.write('hello ');
    const res = await quiet.response;
    count('stream idle timeout', 408, res.status);
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe('close');
    expect(res.json()).toMatchObject({ status: 408, truncated: true, reason: 'idle', chunks: 1, bytes: 6 });
    // Subscribers got a complete datastream.
    await frameWhere(c, (f) => f.kind === 'datastream-end');
    expect(c.frames.map((f) => f.kind)).toEqual(['datastream-start', 'chunk', 'datastream-end']);

    // Writes every 300 ms for 3 s: longer than --body-timeout and the idle timeout, never idle.
    const steady = new StreamingPublish(publishUrl(dev.url, { channel, topic: 't' }), headers);
    for (let i = 0; i < 10; i++) {
      await steady.write(`${i} `);
      await new Promise((r) => setTimeout(r, 300));
    }
    const done = await steady.end();
    expect(done.status).toBe(200);
    expect(done.json()).toMatchObject({ bytes: 20 });
    c.close();
  });

  it('ends a tee body that goes quiet with 408 and says how much was forwarded', async () => {
    const tee = new StreamingPublish(publishUrl(dev.url, { channel: uniqueChannel() }, 'publish/tee'), {
      'Content-Type': 'text/event-stream',
      'Transfer-Encoding': 'chunked',
    });
    await tee.write('data: 1\n\n');
    const res = await tee.response;
    count('stream idle timeout (tee)', 408, res.status);
    expect(res.status).toBe(408);
    expect(res.json()).toMatchObject({ status: 408, truncated: true, reason: 'idle', bytes: 9 });
  });

  it('drops a connection whose body keeps trickling after the answer (at most 5 s of lingering)', async () => {
    const exchanges = ['/nope', '/health', '/v1/realtime/publish'].map((target) =>
      rawExchange(dev.port, (s) => {
        s.write(`POST ${target} HTTP/1.1\r\nHost: herald\r\nContent-Length: 1000000\r\n\r\nabc`);
        trickle(s, () => 'x');
      }),
    );
    for (const { text, closedByServer } of await Promise.all(exchanges)) {
      // The answer came first (404, 405, 400 for missing names); then the connection was dropped.
      count('body trickled after the answer', 'dropped', closedByServer ? 'dropped' : 'kept');
      expect([404, 405, 400]).toContain(Number(text.split(' ')[1]));
      expect(closedByServer).toBe(true);
    }
  });

  it('answers trickled headers 408 JSON and closes the connection', async () => {
    for (let i = 0; i < 2; i++) {
      const { text, closedByServer } = await rawExchange(dev.port, (s) => {
        s.write('GET /health HTTP/1.1\r\nHost: herald\r\n');
        trickle(s, (j) => `X-Slow-${j}: 1\r\n`);
      });
      const answer = parseRaw(text);
      count('headers timeout', 408, answer.status);
      expect(answer.status).toBe(408);
      expect(answer.headers.connection).toBe('close');
      expect(answer.body).toMatchObject({ status: 408, error: expect.stringContaining('--headers-timeout') });
      expect(closedByServer).toBe(true);
    }
  });

  it('answers headers over --max-header-bytes 431 JSON, and unparseable requests 400 JSON', async () => {
    const big = await rawExchange(dev.port, (s) =>
      s.write(`GET /health HTTP/1.1\r\nHost: herald\r\nX-Big: ${'a'.repeat(8 * 1024)}\r\n\r\n`),
    );
    const answer = parseRaw(big.text);
    count('header size', 431, answer.status);
    expect(answer.status).toBe(431);
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toMatchObject({ status: 431, error: expect.stringContaining('--max-header-bytes') });
    const garbage = parseRaw((await rawExchange(dev.port, (s) => s.write('NOT HTTP AT ALL\r\n\r\n'))).text);
    expect(garbage.status).toBe(400);
    expect(garbage.body).toMatchObject({ status: 400 });
    // Headers just under the limit are fine.
    const fits = await request(`${dev.url}/health`, { headers: { 'X-Fits': 'a'.repeat(3 * 1024) } });
    expect(fits.status).toBe(200);
  });
});

describe('publish rate (--publish-rate 5, burst 5)', () => {
  it('refuses a publisher past its rate with 429 JSON and Retry-After, publishes nothing of it, and recovers', async () => {
    const channel = uniqueChannel();
    const key = bearer(SIGNING_KEY);
    const c = await FrameCollector.connect(prod.wsUrl, await mintToken(prod.url, channel, ['t'], key));
    // Far past the burst at once (messages, datastreams and tee bodies share the budget): however
    // slow the machine, most are refused.
    const messages = Array.from({ length: 60 }, (_, i) =>
      publish(prod.url, channel, 't', JSON.stringify(i), { headers: key }).then(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get('retry-after'),
        body: (await r.json()) as Record<string, unknown>,
      })),
    );
    const streams = Array.from({ length: 10 }, (_, i) =>
      request(publishUrl(prod.url, { channel, topic: 't' }), {
        method: 'POST',
        headers: { 'Content-Type': 'text/stream', ...key },
        body: `stream ${i}`,
      }),
    );
    const tees = Array.from({ length: 10 }, () =>
      request(publishUrl(prod.url, { channel }, 'publish/tee'), {
        method: 'POST',
        headers: key,
        body: 'data: x\n\n',
      }),
    );
    const [m, st, te] = await Promise.all([Promise.all(messages), Promise.all(streams), Promise.all(tees)]);
    const refused = [...m, ...st, ...te].filter((r) => r.status !== 200);
    for (const r of m) if (r.status !== 200) count('publish rate (message)', 429, r.status);
    for (const r of st) if (r.status !== 200) count('publish rate (text/stream)', 429, r.status);
    for (const r of te) if (r.status !== 200) count('publish rate (tee)', 429, r.status);
    countAccepted('publish rate (message)', 429, m.filter((r) => r.status === 200).length);
    countAccepted('publish rate (text/stream)', 429, st.filter((r) => r.status === 200).length);
    countAccepted('publish rate (tee)', 429, te.filter((r) => r.status === 200).length);
    expect(refused.length).toBeGreaterThan(50);
    expect(refused.every((r) => r.status === 429)).toBe(true);
    const first = m.find((r) => r.status === 429);
    expect(first?.retryAfter).toMatch(/^\d+$/);
    expect(first?.body).toMatchObject({
      status: 429,
      error: expect.stringContaining('--publish-rate'),
      retryAfterSeconds: Number(first?.retryAfter),
    });

    // Another publisher (a publish token) has its own budget.
    const publishToken = signJwt(claims({ publish: true }));
    await ok(
      await publish(prod.url, channel, 't', '"from a publish token"', { headers: bearer(publishToken) }),
    );

    // Recovers once the bucket refilled.
    const marker = await eventually(async () => {
      const r = await publish(prod.url, channel, 't', '"marker"', { headers: key });
      if (r.status !== 429) return r;
      await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after')) * 1000));
      return undefined;
    }, 'the bucket to refill');
    await ok(marker);
    // Exactly what was accepted was published (the marker came last, after everything before it).
    await frameWhere(c, (f) => f.data === 'marker');
    const accepted = (rs: { status: number }[]) => rs.filter((r) => r.status === 200).length;
    expect(c.frames.filter((f) => f.kind === 'data')).toHaveLength(accepted(m) + 2);
    expect(c.frames.filter((f) => f.kind === 'datastream-start')).toHaveLength(accepted(st));
    expect(c.frames.filter((f) => f.kind === 'datastream-end')).toHaveLength(accepted(st));
    c.close();
  });

  it('with auth off, keys publishers by client IP', async () => {
    const channel = uniqueChannel();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => publish(openRate.url, channel, 't', JSON.stringify(i))),
    );
    const refused = results.filter((r) => r.status !== 200);
    for (const r of refused) count('publish rate (by IP, auth off)', 429, r.status);
    countAccepted('publish rate (by IP, auth off)', 429, results.length - refused.length);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.status === 429)).toBe(true);
  });
});

describe('existing limits still hold', () => {
  it('a client frame over --max-frame (32 KiB) still closes with 1009', async () => {
    const c = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, uniqueChannel(), ['t']));
    c.ws.send('x'.repeat(40 * 1024));
    const code = await c.closed();
    count('client frame size', 1009, code);
    expect(code).toBe(1009);
    await healthReaches(dev.url, { connections: 0 });
  });
});
