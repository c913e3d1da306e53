/** Rates between two samples of the admin stats, on the server's clock. */
import { describe, expect, it } from 'vitest';
import type { ChannelInfo, Stats } from './api.js';
import { channelId, formatRate, ratesBetween } from './rates.js';

function sample(now: string, published: number, delivered: number, channels: Partial<ChannelInfo>[]): Stats {
  return {
    now,
    published,
    delivered: { messages: delivered, bytes: 0 },
    channelList: channels.map((c) => ({
      env: 'e',
      channel: 'c',
      subscribers: 1,
      topics: {},
      received: 0,
      epoch: 'x',
      seq: 0,
      ...c,
    })),
  } as Stats;
}

describe('ratesBetween', () => {
  it('divides what the counters grew by the seconds between the samples', () => {
    const a = sample('2026-01-01T00:00:00.000Z', 10, 20, [{ channel: 'a', received: 5 }, { channel: 'b' }]);
    const b = sample('2026-01-01T00:00:02.000Z', 30, 60, [{ channel: 'a', received: 9 }, { channel: 'new' }]);
    const r = ratesBetween(a, b);
    expect(r.published).toBe(10);
    expect(r.delivered).toBe(20);
    expect(r.channels.get(channelId({ env: 'e', channel: 'a' }))).toBe(2);
    // A channel seen for the first time has no rate yet.
    expect(r.channels.has(channelId({ env: 'e', channel: 'new' }))).toBe(false);
  });

  it('gives no rate for a counter that went down (a restart) or without a previous sample', () => {
    const a = sample('2026-01-01T00:00:00.000Z', 10, 20, [{ channel: 'a', received: 5 }]);
    const b = sample('2026-01-01T00:00:01.000Z', 2, 20, [{ channel: 'a', received: 1 }]);
    const r = ratesBetween(a, b);
    expect(r.published).toBeUndefined();
    expect(r.delivered).toBe(0);
    expect(r.channels.size).toBe(0);
    expect(ratesBetween(undefined, b).published).toBeUndefined();
  });

  it('formats rates short', () => {
    expect([undefined, 0, 0.25, 3, 12.4, 1520].map(formatRate)).toEqual(['–', '0', '0.3', '3', '12', '1.5k']);
  });
});
