/**
 * `subscribe({ since })` and `positionOf()` against a real Herald: starting from the oldest message
 * kept, or after a stored position — what a page reloaded mid-stream does — with nothing lost or
 * repeated, and an honest `recovered: false` when the position cannot be honoured.
 */
import { describe, expect, it } from 'vitest';
import { drain, rawPublish, take, uniqueChannel, until, withHerald } from '../../test/support.js';
import { positionOf, RealtimeError, subscribe } from '../index.js';
import type { StateInfo, SubscriptionState } from './subscription.js';

const herald = withHerald();
const opts = () => ({ apiBaseUrl: herald.current.url });

async function send(ch: string, i: number): Promise<{ epoch: string; seq: number }> {
  const res = await rawPublish(herald.current.url, ch, 't', JSON.stringify({ i }));
  expect(res.status).toBe(200);
  return (await res.json()) as { epoch: string; seq: number };
}

const numbers = (messages: { data: unknown }[]) => messages.map((m) => (m.data as { i: number }).i);

describe("subscribe({ since: 'oldest' })", () => {
  it('starts with the oldest message kept, then continues live, in order', async () => {
    const ch = uniqueChannel();
    for (let i = 1; i <= 3; i++) await send(ch, i);
    const stream = await subscribe({ channel: ch, topics: ['t'], since: 'oldest', ...opts() });
    const replayed = take(stream, 4);
    await send(ch, 4);
    expect(numbers(await replayed)).toEqual([1, 2, 3, 4]);
    stream.close();
  });

  it('gives a datastream published before subscribing whole, from its start', async () => {
    const ch = uniqueChannel();
    const res = await fetch(`${herald.current.url}/v1/realtime/publish?channel=${ch}&topic=t`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/stream' },
      body: 'Hello, streaming world',
    });
    expect(res.status).toBe(200);
    const stream = await subscribe({ channel: ch, topics: ['t'], since: 'oldest', ...opts() });
    const [start] = await take(stream, 1);
    expect(start?.kind).toBe('datastream-start');
    const chunks = (await drain((start as { stream: ReadableStream<string> }).stream)).items;
    expect(chunks.join('')).toBe('Hello, streaming world');
    stream.close();
  });
});

describe('subscribe({ since: position })', () => {
  it('continues after a position taken with positionOf(), without a gap or a repeat', async () => {
    const ch = uniqueChannel();
    for (let i = 1; i <= 5; i++) await send(ch, i);
    const first = await subscribe({ channel: ch, topics: ['t'], since: 'oldest', ...opts() });
    const seen = await take(first, 3);
    first.close();
    const last = positionOf(seen[2] as object);
    expect(last).toMatchObject({ seq: 3 });

    const states: [SubscriptionState, StateInfo][] = [];
    const errors: Error[] = [];
    const second = await subscribe({
      channel: ch,
      topics: ['t'],
      since: last,
      onStateChange: (s, info) => states.push([s, info]),
      onError: (e) => errors.push(e),
      ...opts(),
    });
    const rest = take(second, 3);
    await send(ch, 6);
    const got = await rest;
    expect(numbers(got)).toEqual([4, 5, 6]);
    expect(got.map((m) => positionOf(m as object)?.seq)).toEqual([4, 5, 6]);
    await until(() => states.some(([s, info]) => s === 'open' && info.recovered === true), 'recovered');
    expect(errors).toEqual([]);
    second.close();
  });

  it('says recovered: false when the position is not in the channel history, and goes on live', async () => {
    const ch = uniqueChannel();
    const ack = await send(ch, 1);
    const states: [SubscriptionState, StateInfo][] = [];
    const errors: Error[] = [];
    const stream = await subscribe({
      channel: ch,
      topics: ['t'],
      since: { epoch: `not-${ack.epoch}`, seq: 1 },
      onStateChange: (s, info) => states.push([s, info]),
      onError: (e) => errors.push(e),
      ...opts(),
    });
    await until(() => errors.length > 0, 'not_recovered');
    expect(errors[0]).toMatchObject({ code: 'not_recovered' });
    expect(states).toContainEqual(['open', { recovered: false }]);
    const next = take(stream, 1);
    await send(ch, 2);
    expect(numbers(await next)).toEqual([2]);
    stream.close();
  });

  it('refuses a malformed position before connecting', async () => {
    await expect(
      subscribe({ channel: 'c', topics: ['t'], since: { epoch: 'e', seq: -1 }, ...opts() }),
    ).rejects.toBeInstanceOf(RealtimeError);
    await expect(
      subscribe({ channel: 'c', topics: ['t'], since: 'newest' as 'oldest', ...opts() }),
    ).rejects.toThrow(/since must be/);
  });
});

describe('positionOf()', () => {
  it('gives each received message its channel position, and nothing for other objects', async () => {
    const ch = uniqueChannel();
    const stream = await subscribe({ channel: ch, topics: ['t'], ...opts() });
    const acks = [await send(ch, 1), await send(ch, 2)];
    const got = await take(stream, 2);
    expect(got.map((m) => positionOf(m as object))).toEqual(acks.map(({ epoch, seq }) => ({ epoch, seq })));
    // The message keeps 0.4.7's shape: the position is beside it, not on it.
    expect(Object.keys(got[0] as object)).not.toContain('seq');
    expect(positionOf({ ...(got[0] as object) })).toBeUndefined();
    stream.close();
  });
});
