/**
 * Slow consumers (F6): a subscriber that stops reading overflows its bounded send queue
 * (`--send-queue 64KiB` here) and is closed with 4008, while a fast subscriber of the same channel
 * receives everything. The slow one observes the 4008 close (with its reason) once it reads again,
 * having received a gapless prefix of the channel, so it can resume from its last seq.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameCollector, mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { frameWhere, healthReaches, metric, publishUrl, request, SseClient, stopClean } from './helpers.js';

const QUEUE = 64 * 1024;
/** Failure guard: if no overflow happened after this much, something is wrong. */
const GIVE_UP_BYTES = 256 * 1024 * 1024;

let herald: HeraldProcess;
beforeAll(async () => {
  herald = await startHerald({ args: ['--send-queue', '64KiB'] });
});
afterAll(async () => {
  await stopClean(herald);
});

const socketOf = (c: FrameCollector) => (c.ws as unknown as { _socket: Socket })._socket;

/** Publishes 16 KiB messages until the slow-consumer counter reaches `until`; returns how many. */
async function publishUntilSlow(channel: string, until: number): Promise<number> {
  const payload = JSON.stringify('p'.repeat(16 * 1024));
  let count = 0;
  for (let bytes = 0; bytes < GIVE_UP_BYTES; bytes += payload.length) {
    const res = await request(publishUrl(herald.url, { channel, topic: 't' }), {
      method: 'POST',
      body: payload,
    });
    expect(res.status).toBe(200);
    count++;
    if (count % 8 === 0 && (await metric(herald.url, 'herald_slow_consumer_disconnects_total')) >= until)
      return count;
  }
  throw new Error(`no slow-consumer disconnect after ${count} messages`);
}

describe('slow consumer', () => {
  it('closes a WebSocket that stopped reading with 4008 while a fast one receives everything', async () => {
    const channel = `slow-ws-${Date.now()}`;
    const token = await mintToken(herald.url, channel, ['t']);
    const fast = await FrameCollector.connect(herald.wsUrl, token);
    const slow = await FrameCollector.connect(herald.wsUrl, token);
    socketOf(slow).pause(); // stops reading: the kernel buffers fill, then Herald's queue

    const before = await metric(herald.url, 'herald_slow_consumer_disconnects_total');
    const published = await publishUntilSlow(channel, before + 1);
    await request(publishUrl(herald.url, { channel, topic: 't' }), { method: 'POST', body: '"marker"' });
    const total = published + 1;

    // The fast subscriber got every message, in order, without a gap.
    const frames = await fast.waitFor(total, 60_000);
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(frames[total - 1]?.data).toBe('marker');
    expect(fast.closeCode).toBeUndefined();

    // Reading again, the slow one sees what was already on the wire, then the 4008 close frame.
    socketOf(slow).resume();
    expect(await slow.closed(30_000)).toBe(4008);
    expect(slow.closeReason).toMatch(new RegExp(`^slow consumer: more than ${QUEUE} bytes queued`));
    const got = slow.frames.map((f) => f.seq);
    expect(got.length).toBeLessThan(total);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1)); // a gapless prefix
    expect(await metric(herald.url, 'herald_slow_consumer_disconnects_total')).toBe(before + 1);
    fast.close();
    await healthReaches(herald.url, { connections: 0 });
  }, 120_000);

  it('drops an SSE subscriber that stopped reading while a WebSocket subscriber receives everything', async () => {
    const channel = `slow-sse-${Date.now()}`;
    const token = await mintToken(herald.url, channel, ['t']);
    const fast = await FrameCollector.connect(herald.wsUrl, token);
    const slow = await SseClient.open(herald.url, token);
    expect(slow.status).toBe(200);
    await healthReaches(herald.url, { connections: 2 });
    slow.pause();

    const before = await metric(herald.url, 'herald_slow_consumer_disconnects_total');
    const published = await publishUntilSlow(channel, before + 1);
    const frames = await fast.waitFor(published, 60_000);
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    // SSE has no close codes: the response is cut, and the server forgets the connection.
    await healthReaches(herald.url, { connections: 1 });
    slow.resume();
    await slow.waitForEnd();
    fast.close();
  }, 120_000);

  it('closes only the slow connection: a new subscriber of the channel works afterwards', async () => {
    const channel = `slow-after-${Date.now()}`;
    const token = await mintToken(herald.url, channel, ['t']);
    const c = await FrameCollector.connect(herald.wsUrl, token);
    await request(publishUrl(herald.url, { channel, topic: 't' }), { method: 'POST', body: '"fine"' });
    await frameWhere(c, (f) => f.data === 'fine');
    c.close();
  });
});
