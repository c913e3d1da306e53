/**
 * The rest of the HTTP surface: `/health` (JSON), `/metrics` (Prometheus text with the herald_*
 * metrics, which move), `GET /dev` (JSON, so the inngest v3 SDK detects a dev server), CORS as
 * Inngest's dev server does it (§0.3), and the status page.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { bearer, frameWhere, healthReaches, metric, request, SIGNING_KEY, stopClean } from './helpers.js';

let dev: HeraldProcess;
let prod: HeraldProcess;
beforeAll(async () => {
  [dev, prod] = await Promise.all([
    startHerald(),
    startHerald({ mode: 'start', args: ['--signing-key', SIGNING_KEY] }),
  ]);
});
afterAll(async () => {
  await stopClean(dev, prod);
});

describe('/health', () => {
  it('answers JSON with status, mode, engine and counts', async () => {
    const res = await request(`${dev.url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({
      status: 'ok',
      mode: 'dev',
      engine: { ok: true, engine: 'memory' },
      connections: expect.any(Number),
      subscriptions: expect.any(Number),
      channels: expect.any(Number),
      uptimeSeconds: expect.any(Number),
    });
    expect((await request(`${prod.url}/health`)).json()).toMatchObject({ status: 'ok', mode: 'start' });
  });

  it('needs no auth, even with a signing key configured', async () => {
    expect((await request(`${prod.url}/health`)).status).toBe(200);
    expect((await request(`${prod.url}/metrics`)).status).toBe(200);
  });
});

describe('/metrics', () => {
  it('serves Prometheus text with every herald_* metric', async () => {
    const res = await request(`${dev.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'herald_connections',
      'herald_subscriptions',
      'herald_channels_subscribed',
      'herald_engine_info',
      'herald_messages_published_total',
      'herald_messages_delivered_total',
      'herald_bytes_delivered_total',
      'herald_slow_consumer_disconnects_total',
      'herald_pong_timeouts_total',
      'herald_client_frames_invalid_total',
      'herald_publish_duration_seconds',
      'herald_http_errors_total',
    ])
      expect(res.text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    expect(res.text).toContain('herald_engine_info{engine="memory"} 1');
    // Node process metrics (CPU, memory, event loop, GC): herald_process_*, herald_nodejs_*.
    expect(res.text).toMatch(/^# TYPE herald_process_cpu\w* counter/m);
    expect(res.text).toMatch(/^# TYPE herald_nodejs_eventloop_lag\w* gauge/m);
  });

  it('counts connections, subscriptions, publishes, deliveries and errors', async () => {
    const channel = `metrics-${Date.now()}`;
    const before = {
      published: await metric(dev.url, 'herald_messages_published_total', { kind: 'data' }),
      delivered: await metric(dev.url, 'herald_messages_delivered_total'),
      bytes: await metric(dev.url, 'herald_bytes_delivered_total'),
      errors: await metric(dev.url, 'herald_http_errors_total', {
        route: '/v1/realtime/publish',
        status: '400',
      }),
    };
    const c = await FrameCollector.connect(dev.wsUrl, await mintToken(dev.url, channel, ['a', 'b']));
    await healthReaches(dev.url, { connections: 1 });
    expect(await metric(dev.url, 'herald_connections', { transport: 'ws' })).toBe(1);
    expect(await metric(dev.url, 'herald_subscriptions')).toBe(2);
    expect(await metric(dev.url, 'herald_channels_subscribed')).toBe(1);
    await publish(dev.url, channel, 'a', '"one"');
    await publish(dev.url, channel, 'b', '"two"');
    await frameWhere(c, (f) => f.data === 'two');
    await publish(dev.url, '', 'a', '1'); // 400
    expect(await metric(dev.url, 'herald_messages_published_total', { kind: 'data' })).toBe(
      before.published + 2,
    );
    expect(await metric(dev.url, 'herald_messages_delivered_total')).toBe(before.delivered + 2);
    expect(await metric(dev.url, 'herald_bytes_delivered_total')).toBeGreaterThan(before.bytes);
    expect(
      await metric(dev.url, 'herald_http_errors_total', { route: '/v1/realtime/publish', status: '400' }),
    ).toBe(before.errors + 1);
    expect(
      await metric(dev.url, 'herald_publish_duration_seconds_count', { kind: 'data' }),
    ).toBeGreaterThanOrEqual(2);
    c.close();
    await healthReaches(dev.url, { connections: 0 });
    expect(await metric(dev.url, 'herald_connections', { transport: 'ws' })).toBe(0);
  });
});

describe('GET /dev', () => {
  it('answers JSON, so the inngest v3 SDK detects a dev server', async () => {
    const res = await request(`${dev.url}/dev`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ name: 'herald', isDevServer: true, mode: 'dev' });
    expect((await request(`${prod.url}/dev`)).json()).toMatchObject({ isDevServer: false, mode: 'start' });
  });
});

describe('CORS and common headers', () => {
  it('answers a preflight on any path with the allowed methods and headers', async () => {
    for (const path of ['/v1/realtime/publish', '/v1/realtime/token', '/v1/realtime/sse', '/anything']) {
      const res = await request(`${prod.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://app.example.com',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST, PUT, DELETE, OPTIONS');
      expect(res.headers['access-control-allow-headers']).toBe('authorization,content-type');
      expect(res.headers['access-control-max-age']).toBe('3600');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('reflects the Origin on ordinary responses, errors included, and exposes Inngest headers', async () => {
    const origin = { Origin: 'http://localhost:3000' };
    const ok = await request(`${prod.url}/health`, { headers: origin });
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(ok.headers['access-control-expose-headers']).toBe(
      'Link, Mcp-Session-Id, X-Request-Id, Retry-After',
    );
    const denied = await request(`${prod.url}/v1/realtime/token`, {
      method: 'POST',
      headers: origin,
      body: '[]',
    });
    expect(denied.status).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect((await request(`${prod.url}/health`)).headers['access-control-allow-origin']).toBe('*');
  });

  it('says which kind of server answered (X-Inngest-Server-Kind: dev or cloud)', async () => {
    expect((await request(`${dev.url}/health`)).headers['x-inngest-server-kind']).toBe('dev');
    expect((await request(`${prod.url}/health`)).headers['x-inngest-server-kind']).toBe('cloud');
  });

  it('lets a browser publish cross-origin with the signing key', async () => {
    const res = await publish(prod.url, 'c', 't', '1', {
      headers: { ...bearer(SIGNING_KEY), Origin: 'https://app.example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});

describe('other paths', () => {
  it('serves a status page at /', async () => {
    const res = await request(`${dev.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('Herald');
  });

  it('refuses a WebSocket upgrade on another path with 404', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${dev.wsUrl}/v1/realtime/nope`);
      ws.on('open', () => reject(new Error('upgraded')));
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    expect(status).toBe(404);
  });
});
