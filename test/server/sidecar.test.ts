/**
 * Sidecar mode (`--inngest-upstream`): Herald in front of an Inngest server, with a stand-in
 * upstream that records what reaches it. Herald keeps `/v1/realtime/*` at the root and its other
 * routes under `/herald/`; everything else is forwarded as it comes — any method, bodies streamed
 * both ways (the upstream sees a body's first piece before the client sent the rest; the client
 * sees an event before the upstream finished), status and end-to-end headers kept, hop-by-hop
 * headers dropped, X-Forwarded-* and Via set, WebSocket upgrades tunnelled. Failures answer JSON:
 * 502 upstream down, 504 no answer within --inngest-upstream-timeout, 408 a stalled client body,
 * 508 a loop; a response that stalls after it began is cut, never completed.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameCollector, mintToken, publish, refusedDial } from '../support/client.js';
import { type HeraldProcess, runCli, startHerald } from '../support/herald.js';
import { freePort } from '../support/redis.js';
import { readBody, StandInUpstream } from '../support/upstream.js';
import { eventually, metric, request, StreamingPublish, stopClean } from './helpers.js';

let upstream: StandInUpstream;
let herald: HeraldProcess;
/** Released by the streamed-response test once its client saw the first event. */
let releaseStream: () => void = () => {};

beforeAll(async () => {
  upstream = await StandInUpstream.start();
  upstream
    .route('/teapot', async (req, res, recorded) => {
      await readBody(req, recorded);
      res.writeHead(418, 'I am a stand-in', {
        'Content-Type': 'text/plain',
        'Set-Cookie': ['a=1; Path=/', 'b=2; Path=/'],
        'X-Upstream': 'yes',
        // Hop-by-hop, for this connection only: must not reach the client.
        Connection: 'X-Upstream-Hop',
        'X-Upstream-Hop': 'secret',
        'Keep-Alive': 'timeout=5',
      });
      res.end(`${recorded.method} ${recorded.body.toString()}`);
    })
    .route('/upload', async (req, res, recorded) => {
      // Answers once the body ended, with what arrived and in how many reads.
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const c of req) {
        hash.update(c as Buffer);
        bytes += (c as Buffer).length;
        recorded.body = Buffer.concat([recorded.body, (c as Buffer).subarray(0, 64)]);
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
    })
    .route('/events', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write('data: first\n\n');
      // The rest only once the client said it saw the first event: a proxy that buffered would deadlock.
      new Promise<void>((resolve) => {
        releaseStream = resolve;
      }).then(() => res.end('data: second\n\n'));
    })
    .websocket('/v0/connect', (ws, req) => {
      ws.send(JSON.stringify({ hello: req.url }));
      ws.on('message', (m, isBinary) => ws.send(isBinary ? (m as Buffer) : `echo:${m.toString()}`));
    });
  herald = await startHerald({
    args: ['--inngest-upstream', upstream.url, '--max-body', '1KiB', '--body-timeout', '1'],
  });
});

afterAll(async () => {
  await stopClean(herald);
  await upstream?.close();
});

describe('routing', () => {
  it("forwards the root, /health, /metrics and /dev: in sidecar mode they are the upstream's", async () => {
    for (const path of ['/', '/health', '/metrics', '/dev', '/v0/gql', '/v1/events', '/v1/admin/stats']) {
      const res = await request(`${herald.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.json(), path).toMatchObject(path === '/dev' ? { version: 'stand-in' } : { standIn: true });
      expect(upstream.to(path).length, path).toBeGreaterThan(0);
    }
  });

  it("serves Herald's own pages under /herald/", async () => {
    const health = await request(`${herald.url}/herald/health`);
    expect(health.json()).toMatchObject({ status: 'ok', mode: 'dev' });
    const metrics = await request(`${herald.url}/herald/metrics`);
    expect(metrics.text).toContain('herald_upstream_requests_total');
    expect(await metric(`${herald.url}/herald`, 'herald_upstream_requests_total')).toBeGreaterThan(0);
    const stats = await request(`${herald.url}/herald/v1/admin/stats`);
    expect(stats.json()).toMatchObject({ mode: 'dev', auth: 'off' });
    const page = await request(`${herald.url}/herald/`);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('<title>Herald inspector</title>');
    // Its files are relative to the page, so they load from /herald/assets/.
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    expect((await request(`${herald.url}/herald/${script}`)).status).toBe(200);
    // Without the slash the relative files would resolve outside /herald/.
    const bare = await request(`${herald.url}/herald?x=1`);
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/herald/?x=1');
  });

  it('keeps the realtime API at the root: publish, token and WebSocket are answered by Herald', async () => {
    const token = await mintToken(herald.url, 'sidecar', ['t']);
    const sub = await FrameCollector.connect(herald.wsUrl, token);
    const res = await publish(herald.url, 'sidecar', 't', JSON.stringify({ n: 1 }));
    expect(await res.json()).toMatchObject({ seq: 1, channel: 'sidecar', topic: 't' });
    const [frame] = await sub.waitFor(1);
    expect(frame).toMatchObject({ kind: 'data', channel: 'sidecar', topic: 't', data: { n: 1 } });
    sub.close();
    // An unknown realtime path is Herald's 404, not the upstream's.
    const unknown = await request(`${herald.url}/v1/realtime/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ status: 404, error: expect.stringContaining('no route') });
    // Herald's body limit and body timeout still apply to its own routes.
    const big = await publish(herald.url, 'sidecar', 't', JSON.stringify({ pad: 'x'.repeat(2048) }));
    expect(big.status).toBe(413);
  });

  it("never forwards a request for Herald's own routes", () => {
    const leaked = upstream.requests.filter((r) => /^\/(v1\/realtime|herald)(\/|$)/.test(r.path));
    expect(leaked).toEqual([]);
  });
});

describe('forwarding HTTP', () => {
  it('passes any method, the query, the body, status, reason and end-to-end headers both ways', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      const body = method === 'GET' ? undefined : `body of ${method}`;
      const res = await request(`${herald.url}/teapot?run=1&x=%20y`, {
        method,
        headers: {
          'Content-Type': 'text/plain',
          Authorization: 'Bearer app-key',
          'X-App': 'kept',
          // Node's client sends a DELETE body with no length at all unless told.
          ...(body === undefined ? {} : { 'Content-Length': String(body.length) }),
        },
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status, `${method}: ${res.text}`).toBe(418);
      expect(res.text).toBe(`${method} ${method === 'GET' ? '' : `body of ${method}`}`);
      expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      expect(res.headers['x-upstream']).toBe('yes');
      const seen = upstream.to('/teapot').at(-1);
      expect(seen).toMatchObject({ method, url: '/teapot?run=1&x=%20y' });
      expect(seen?.headers).toMatchObject({ authorization: 'Bearer app-key', 'x-app': 'kept' });
    }
  });

  it('drops hop-by-hop headers both ways and says who asked (X-Forwarded-*, Via)', async () => {
    const host = new URL(herald.url).host;
    const res = await request(`${herald.url}/teapot`, {
      method: 'POST',
      headers: {
        Connection: 'keep-alive, X-Client-Hop',
        'X-Client-Hop': 'secret',
        'Keep-Alive': 'timeout=5',
        TE: 'trailers',
        'Proxy-Authorization': 'Basic c2VjcmV0',
        // Not trusted (no --trust-proxy): replaced by what Herald saw.
        'X-Forwarded-For': '203.0.113.9',
        'X-Forwarded-Host': 'evil.example',
        'X-Forwarded-Proto': 'https',
        Forwarded: 'for=203.0.113.9',
      },
      body: 'hi',
    });
    expect(res.status).toBe(418);
    const seen = upstream.to('/teapot').at(-1)?.headers ?? {};
    for (const h of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization', 'forwarded'])
      expect(seen[h], h).toBeUndefined();
    expect(String(seen.connection ?? '')).not.toMatch(/x-client-hop/i);
    expect(seen).toMatchObject({
      host, // the client's, as if Herald were not there
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': host,
      'x-forwarded-proto': 'http',
      via: expect.stringMatching(/^1\.1 herald-[0-9a-f]{8}$/),
    });
    for (const h of ['x-upstream-hop', 'keep-alive']) expect(res.headers[h], h).toBeUndefined();
    expect(res.headers.connection).toBe('keep-alive');
    expect(res.headers.via).toMatch(/^1\.1 herald-[0-9a-f]{8}$/);
  });

  it('leaves CORS preflights to the upstream', async () => {
    const res = await request(`${herald.url}/fn/register`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.json()).toMatchObject({ standIn: true, method: 'OPTIONS' });
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
  });

  it("streams a request body to the upstream as it comes, past Herald's body limit", async () => {
    const before = upstream.to('/upload').length;
    const up = new StreamingPublish(`${herald.url}/upload`, { 'Content-Type': 'application/octet-stream' });
    await up.write('first piece;');
    // The upstream has the first piece while the client has not sent the rest.
    await eventually(
      () => upstream.to('/upload')[before]?.body.toString() === 'first piece;',
      'the first piece upstream',
    );
    // Then 3 MiB more: Herald's --max-body (1 KiB here) is for its own routes.
    const piece = Buffer.alloc(64 * 1024, 7);
    const hash = createHash('sha256').update('first piece;');
    for (let i = 0; i < 48; i++) {
      await up.write(piece);
      hash.update(piece);
    }
    const res = await up.end();
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ bytes: 12 + 48 * piece.length, sha256: hash.digest('hex') });
  });

  it('streams a response to the client as it comes (SSE event by event)', async () => {
    const events: string[] = [];
    const ended = new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
      http
        .get(`${herald.url}/events`, (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            events.push(d);
            // The first event arrived while the upstream still holds the response open.
            if (events.join('') === 'data: first\n\n') releaseStream();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    expect(await ended).toEqual({ status: 200, type: 'text/event-stream' });
    expect(events.join('')).toBe('data: first\n\ndata: second\n\n');
    expect(events[0]).toBe('data: first\n\n');
  });
});

describe('forwarding WebSockets', () => {
  it('tunnels an upgrade on a non-realtime path, both ways, text and binary', async () => {
    const ws = new WebSocket(`${herald.wsUrl}/v0/connect?worker=1`);
    const received: (string | Buffer)[] = [];
    ws.on('message', (m, isBinary) => received.push(isBinary ? (m as Buffer) : m.toString()));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const big = Buffer.alloc(512 * 1024, 3);
    ws.send('ping');
    ws.send(big);
    await eventually(() => received.length >= 3, 'three messages through the tunnel');
    expect(received[0]).toBe(JSON.stringify({ hello: '/v0/connect?worker=1' }));
    expect(received[1]).toBe('echo:ping');
    expect(Buffer.compare(received[2] as Buffer, big)).toBe(0);
    const seen = upstream.requests.filter((r) => r.upgrade && r.path === '/v0/connect').at(-1);
    expect(seen?.headers).toMatchObject({
      upgrade: 'websocket',
      'x-forwarded-for': '127.0.0.1',
      via: expect.stringMatching(/^1\.1 herald-/),
    });
    ws.close();
  });

  it("passes the upstream's refusal of an upgrade through, status and body", async () => {
    const { status, body } = await refusedDial(`${herald.wsUrl}/v0/elsewhere`);
    expect(status).toBe(404);
    expect(JSON.parse(body)).toMatchObject({ standIn: true });
  });

  it('refuses an upgrade to anything but WebSocket, in JSON', async () => {
    const res = await request(`${herald.url}/v0/connect`, {
      headers: { Connection: 'Upgrade', Upgrade: 'h2c' },
    });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ status: 400, error: expect.stringContaining('Only WebSocket') });
  });
});

describe('when the upstream fails', () => {
  let down: HeraldProcess;
  let slow: HeraldProcess;
  let slowUpstream: StandInUpstream;

  beforeAll(async () => {
    slowUpstream = await StandInUpstream.start();
    slowUpstream
      .route('/never', async (req, _res, recorded) => {
        await readBody(req, recorded); // and no answer
      })
      .route('/half', (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 100 });
        res.write('only part of it'); // and nothing more
      })
      .route('/trickle', async (_req, res) => {
        // Longer in total than the idle bound, but never quiet for as long.
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        for (let i = 0; i < 10; i++) {
          res.write(`data: ${i}\n\n`);
          await new Promise((r) => setTimeout(r, 300));
        }
        res.end();
      })
      .route('/drain', async (req, res) => {
        for await (const _ of req);
        res.end('drained');
      });
    [down, slow] = await Promise.all([
      // A port nothing listens on.
      freePort().then((port) => startHerald({ args: ['--inngest-upstream', `http://127.0.0.1:${port}`] })),
      // Configured through the environment, as a container would be; the client IP chain is trusted.
      startHerald({
        args: ['--trust-proxy'],
        env: {
          HERALD_INNGEST_UPSTREAM: slowUpstream.url,
          HERALD_INNGEST_UPSTREAM_TIMEOUT: '2',
        },
      }),
    ]);
  });

  afterAll(async () => {
    await stopClean(down, slow);
    await slowUpstream?.close();
  });

  it('answers 502 in JSON when the upstream cannot be reached, and Herald keeps serving', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await request(`${down.url}/fn/register`, {
        method,
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toMatchObject({
        status: 502,
        error: expect.stringMatching(/could not be reached \(ECONNREFUSED\); nothing was forwarded/),
        requestId: res.headers['x-request-id'],
      });
    }
    expect(
      await metric(`${down.url}/herald`, 'herald_http_errors_total', { route: 'upstream', status: '502' }),
    ).toBe(2);
    expect((await request(`${down.url}/herald/health`)).json()).toMatchObject({ status: 'ok' });
    expect((await publish(down.url, 'c', 't', '1')).status).toBe(200);
  });

  it('answers a WebSocket upgrade with 502 in JSON when the upstream cannot be reached', async () => {
    const { status, contentType, body } = await refusedDial(`${down.wsUrl}/v0/connect`);
    expect(status).toBe(502);
    expect(contentType).toBe('application/json');
    expect(JSON.parse(body)).toMatchObject({
      status: 502,
      error: expect.stringContaining('could not be reached'),
    });
  });

  it('answers 504 in JSON when the upstream does not answer within --inngest-upstream-timeout', async () => {
    const res = await request(`${slow.url}/never`, { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(504);
    expect(res.json()).toMatchObject({
      status: 504,
      error: expect.stringMatching(
        /did not answer within 2 s \(--inngest-upstream-timeout\); it may still act/,
      ),
    });
    // It did receive the request: the error says "may", not "not forwarded".
    expect(slowUpstream.to('/never')[0]?.body.toString()).toBe('{"a":1}');
  });

  it('answers 408 when the client stops sending its body, and closes the connection', async () => {
    const up = new StreamingPublish(`${slow.url}/drain`, { 'Content-Type': 'text/plain' });
    await up.write('a start, then nothing');
    const res = await up.response;
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe('close');
    expect(res.json()).toMatchObject({ status: 408, error: expect.stringContaining('stopped arriving') });
    up.abort();
  });

  it('cuts a response that stalls after it began: the client sees it incomplete', async () => {
    const outcome = await new Promise<string>((resolve) => {
      http
        .get(`${slow.url}/half`, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve(`complete: ${text}`));
          res.on('error', () => resolve(`cut after: ${text}`));
          res.on('aborted', () => resolve(`cut after: ${text}`));
        })
        .on('error', (err) => resolve(`cut: ${err.message}`));
    });
    expect(outcome).toBe('cut after: only part of it');
  });

  it('bounds quiet time, not total time: a stream that keeps talking outlives the bound', async () => {
    const res = await request(`${slow.url}/trickle`);
    expect(res.status).toBe(200);
    expect(res.text.match(/^data: \d$/gm)).toHaveLength(10);
  });

  it('with --trust-proxy, appends to the X-Forwarded-For chain and keeps the proxy’s host and scheme', async () => {
    await request(`${slow.url}/anything`, {
      headers: {
        'X-Forwarded-For': '203.0.113.9',
        'X-Forwarded-Host': 'app.example',
        'X-Forwarded-Proto': 'https',
      },
    });
    expect(slowUpstream.to('/anything').at(-1)?.headers).toMatchObject({
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
      'x-forwarded-host': 'app.example',
      'x-forwarded-proto': 'https',
    });
  });
});

describe('configuration', () => {
  it('refuses an upstream that points back at Herald (508, not a request storm)', async () => {
    const port = await freePort();
    const loop = await startHerald({ port, args: ['--inngest-upstream', `http://127.0.0.1:${port}`] });
    try {
      const res = await request(`${loop.url}/fn/register`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(508);
      expect(res.json()).toMatchObject({ status: 508, error: expect.stringContaining('Loop detected') });
    } finally {
      await stopClean(loop);
    }
  });

  it('refuses an upstream that is not an http(s) URL, naming the option', async () => {
    for (const [value, why] of [
      ['localhost:8290', /must be an http:\/\/ or https:\/\/ URL/],
      ['not a url', /is not a URL/],
      ['http://user:pw@127.0.0.1:8290', /must not carry credentials/],
    ] as const) {
      const { code, stderr } = await runCli(['dev', '--port', '0', '--inngest-upstream', value]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/--inngest-upstream/);
      expect(stderr).toMatch(why);
    }
    const env = await runCli(['dev', '--port', '0'], { HERALD_INNGEST_UPSTREAM: 'ftp://x' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/HERALD_INNGEST_UPSTREAM/);
  });

  it('ends forwarded WebSockets at shutdown instead of waiting out the grace period', async () => {
    const h = await startHerald({ args: ['--inngest-upstream', upstream.url, '--shutdown-grace', '120'] });
    const ws = new WebSocket(`${h.wsUrl}/v0/connect`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise((resolve) => ws.once('close', resolve));
    // With the tunnel left open, this would wait the 120 s grace and fail the test's time guard.
    expect(await h.stop(150_000)).toBe(0);
    await closed;
  }, 60_000);
});
