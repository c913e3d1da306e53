/**
 * Reconnect and resume against a real Herald: cut connections (TCP proxy), half-open connections,
 * lost history, expired tokens. Every test counts what arrived: nothing lost, nothing twice, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type HeraldProcess, startHerald } from '../../../../test/support/herald.js';
import { freePort } from '../../../../test/support/redis.js';
import { TcpProxy } from '../../../../test/support/tcp-proxy.js';
import { mintToken, rawPublish, uniqueChannel, until } from '../../test/support.js';
import { subscribe } from './subscribe.js';
import type { StateInfo, SubscriptionState } from './subscription.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function herald(args: string[] = [], port?: number): Promise<HeraldProcess> {
  const h = await startHerald({ args, ...(port === undefined ? {} : { port }) });
  cleanup.push(() => h.stop());
  return h;
}

async function proxyTo(h: HeraldProcess): Promise<TcpProxy> {
  const p = await TcpProxy.start([h.port]);
  cleanup.push(() => p.close());
  return p;
}

interface Recorder {
  data: number[];
  states: [SubscriptionState, StateInfo][];
  errors: Error[];
}

function recorder(): Recorder {
  return { data: [], states: [], errors: [] };
}

async function collect(
  channel: string,
  baseUrl: string,
  r: Recorder,
  extra: Record<string, unknown> = {},
): Promise<{ close(): void }> {
  const stream = await subscribe({
    channel,
    topics: ['t'],
    apiBaseUrl: baseUrl,
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
    onStateChange: (s, info) => r.states.push([s, info]),
    onError: (e) => r.errors.push(e),
    onMessage: (m) => {
      r.data.push((m.data as { i: number }).i);
    },
    ...extra,
  });
  cleanup.push(async () => stream.close());
  return stream;
}

describe('reconnect and resume', () => {
  it('recovers every message across repeated connection cuts, in order, once', async () => {
    const h = await herald();
    const proxy = await proxyTo(h);
    const ch = uniqueChannel('cut');
    const r = recorder();
    await collect(ch, proxy.url, r);
    const total = 1500;
    for (let i = 0; i < total; i++) {
      await rawPublish(h.url, ch, 't', JSON.stringify({ i }));
      if (i % 300 === 150) proxy.dropAll();
    }
    await until(() => r.data.length >= total, `${total} messages (have ${r.data.length})`, 4000);
    expect(r.data).toEqual(Array.from({ length: total }, (_, i) => i));
    const reconnects = r.states.filter(([s]) => s === 'reconnecting').length;
    expect(reconnects).toBeGreaterThanOrEqual(5);
    expect(r.states.filter(([s, info]) => s === 'open' && info.recovered === true).length).toBe(reconnects);
    expect(r.errors).toEqual([]);
  });

  it('replaces a half-open connection after the heartbeat timeout and resumes', async () => {
    const h = await herald(['--ping-interval', '0.3', '--pong-timeout', '5']);
    const proxy = await proxyTo(h);
    const ch = uniqueChannel('frozen');
    const r = recorder();
    await collect(ch, proxy.url, r, { heartbeatTimeoutMs: 1500 });
    await rawPublish(h.url, ch, 't', '{"i":0}');
    await until(() => r.data.length === 1, 'first message');
    proxy.freezeAll();
    for (let i = 1; i <= 5; i++) await rawPublish(h.url, ch, 't', JSON.stringify({ i }));
    await until(() => r.data.length === 6, 'messages after the freeze', 4000);
    expect(r.data).toEqual([0, 1, 2, 3, 4, 5]);
    expect(r.states.some(([s, info]) => s === 'reconnecting' && info.closeCode === 4009)).toBe(true);
  });

  it('says when history was lost (server restarted): recovered false, not_recovered error, then live', async () => {
    const port = await freePort();
    let h = await startHerald({ port });
    const ch = uniqueChannel('lost');
    const r = recorder();
    await collect(ch, h.url, r);
    await rawPublish(h.url, ch, 't', '{"i":0}');
    await until(() => r.data.length === 1, 'first message');
    await h.stop();
    h = await herald([], port);
    await until(
      () => r.states.some(([s, info]) => s === 'open' && info.recovered === false),
      'not recovered',
      4000,
    );
    expect(r.errors.map((e) => (e as { code?: string }).code)).toEqual(['not_recovered']);
    await rawPublish(h.url, ch, 't', '{"i":1}');
    await until(() => r.data.length === 2, 'live message after the restart');
    expect(r.data).toEqual([0, 1]);
  });

  it('refreshes an expired token before reconnecting, once per need', async () => {
    const h = await herald(['--token-ttl', '2']);
    const proxy = await proxyTo(h);
    const ch = uniqueChannel('expired');
    const r = recorder();
    let refreshes = 0;
    await collect(ch, proxy.url, r, {
      key: await mintToken(h.url, ch, ['t']),
      refreshToken: async () => {
        refreshes++;
        return { key: await mintToken(h.url, ch, ['t']) };
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 3000)); // let the first token expire
    proxy.dropAll();
    await rawPublish(h.url, ch, 't', '{"i":7}');
    await until(() => r.data.length === 1, 'message after reconnecting with a fresh token', 4000);
    expect(r.data).toEqual([7]);
    expect(refreshes).toBe(1);
  });

  it('ends with a clear error, not a silent retry loop, when its fixed token expired and cannot be replaced', async () => {
    const h = await herald(['--token-ttl', '2']);
    const proxy = await proxyTo(h);
    const ch = uniqueChannel('dead-token');
    const r = recorder();
    await collect(ch, proxy.url, r, { key: await mintToken(h.url, ch, ['t']) });
    await new Promise((resolve) => setTimeout(resolve, 3000)); // let the token expire
    proxy.dropAll();
    await until(() => r.states.some(([s]) => s === 'closed'), 'closed after the refused reconnect', 4000);
    // One try with the old token (the server might still take it), then a terminal error.
    expect(r.states.filter(([s]) => s === 'connecting').length).toBe(2);
    expect(r.errors.at(-1)?.message).toMatch(/token expired or was refused and cannot be replaced/);
    const closed = r.states.find(([s]) => s === 'closed')?.[1];
    expect(closed?.error?.message).toMatch(/refreshToken/);
  });

  it('renews the token in band when the server warns, without reconnecting', async () => {
    const h = await herald(['--enforce-token-expiry', '--token-ttl', '3', '--ping-interval', '0.5']);
    const ch = uniqueChannel('inband');
    const r = recorder();
    let refreshes = 0;
    await collect(ch, h.url, r, {
      key: await mintToken(h.url, ch, ['t']),
      refreshToken: async () => {
        refreshes++;
        return mintToken(h.url, ch, ['t']);
      },
    });
    await until(() => refreshes >= 2, 'two in-band refreshes', 3000);
    await rawPublish(h.url, ch, 't', '{"i":1}');
    await until(() => r.data.length === 1, 'message on the same connection');
    expect(r.states.filter(([s]) => s === 'reconnecting')).toEqual([]);
  });

  it('stops on a terminal close and on close(), with no reconnect loop', async () => {
    const h = await herald();
    const ch = uniqueChannel('stop');
    const r = recorder();
    const s = await collect(ch, h.url, r);
    s.close();
    await until(() => r.states.some(([st]) => st === 'closed'), 'closed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.states.map(([st]) => st)).toEqual(['connecting', 'open', 'closed']);
  });
});
