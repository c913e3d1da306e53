/** The inspector's admin API: open in dev mode, signing key in start mode; what it counts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken, publish } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';

const KEY = 'signkey-test-abc123def456';
let dev: HeraldProcess;
let prod: HeraldProcess;
beforeAll(async () => {
  [dev, prod] = await Promise.all([
    startHerald(),
    startHerald({ mode: 'start', args: ['--signing-key', KEY] }),
  ]);
});
afterAll(async () => {
  await Promise.all([dev?.stop(), prod?.stop()]);
});

interface Stats {
  mode: string;
  connections: number;
  subscriptions: number;
  transports: { ws: number; sse: number };
  published: number;
  channelList: {
    channel: string;
    subscribers: number;
    topics: Record<string, number>;
    received: number;
    seq: number;
  }[];
}

describe('GET /v1/admin/stats', () => {
  it('is open in dev mode and counts connections, channels and messages', async () => {
    const token = await mintToken(dev.url, 'admin-demo', ['a', 'b']);
    const sub = await FrameCollector.connect(dev.wsUrl, token);
    await publish(dev.url, 'admin-demo', 'a', '1');
    await publish(dev.url, 'admin-demo', 'b', '2');
    await sub.waitFor(2);
    const res = await fetch(`${dev.url}/v1/admin/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Stats;
    expect(stats).toMatchObject({
      mode: 'dev',
      connections: 1,
      subscriptions: 2,
      transports: { ws: 1, sse: 0 },
    });
    expect(stats.published).toBeGreaterThanOrEqual(2);
    expect(stats.channelList).toContainEqual(
      expect.objectContaining({
        channel: 'admin-demo',
        subscribers: 1,
        topics: { a: 1, b: 1 },
        received: 2,
        seq: 2,
      }),
    );
    sub.close();
  });

  it('needs the signing key in start mode, and never accepts a token', async () => {
    expect((await fetch(`${prod.url}/v1/admin/stats`)).status).toBe(401);
    const token = await mintToken(prod.url, 'c', ['t'], { Authorization: `Bearer ${KEY}` });
    const withToken = await fetch(`${prod.url}/v1/admin/stats`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(withToken.status).toBe(401);
    expect(await withToken.json()).toMatchObject({ status: 401 });
    const ok = await fetch(`${prod.url}/v1/admin/stats`, { headers: { Authorization: `Bearer ${KEY}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Stats).mode).toBe('start');
  });
});
