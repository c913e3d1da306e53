/** Channel and topic definitions at runtime: W13 (publish validation rejects), W16, W17, immutability. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { channel, RealtimeError, topic, typeOnlyChannel, ValidationError } from './index.js';

const created = topic('created').schema(z.object({ id: z.string() }));
const counted = topic('counted').schema(z.string().transform((s) => s.length));

describe('topic functions', () => {
  it('reject invalid data with the issues, channel and topic (W13)', async () => {
    const ch = channel('c').addTopic(created);
    const err = await ch()
      .created({ id: 123 } as unknown as { id: string })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/channel "c" topic "created"/);
    expect(err.message).toMatch(/id/);
  });

  it('send the validated value (schema output)', async () => {
    const ch = channel('c').addTopic(counted);
    expect(await ch().counted('hello')).toEqual({ channel: 'c', topic: 'counted', data: 5 });
  });

  it('pass untyped data through', async () => {
    const ch = channel('c').addTopic(topic('any'));
    expect(await ch().any({ whatever: true })).toEqual({
      channel: 'c',
      topic: 'any',
      data: { whatever: true },
    });
  });
});

describe('channel definitions', () => {
  it('addTopic returns a new definition; the original is unchanged', () => {
    const base = channel('c').addTopic(created);
    const more = base.addTopic(counted);
    expect(Object.keys(base.topics)).toEqual(['created']);
    expect(Object.keys(more.topics)).toEqual(['created', 'counted']);
    expect('counted' in base()).toBe(false);
  });

  it('refuses topics named name, topics or then (W17)', () => {
    for (const name of ['name', 'topics', 'then']) {
      expect(() => channel('c').addTopic(topic(name))).toThrow(RealtimeError);
    }
  });

  it('a channel can be awaited and serialized', async () => {
    const ch = channel('c').addTopic(created)();
    expect(await Promise.resolve(ch)).toBe(ch);
    expect(JSON.parse(JSON.stringify(ch))).toEqual({ name: 'c', topics: { created: { name: 'created' } } });
  });

  it('a builder that returns no name is an error', () => {
    const bad = channel((() => '') as (id: string) => string);
    expect(() => bad('x')).toThrow(/not a channel name/);
  });
});

describe('typeOnlyChannel (W16)', () => {
  const def = channel('static').addTopic(created);

  it('can be awaited and returned from an async function without hanging', async () => {
    const ch = typeOnlyChannel<typeof def>('static');
    const fromAsync = async () => ch;
    expect(await fromAsync()).toBe(ch);
    expect(await ch).toBe(ch);
  });

  it('serializes with JSON.stringify', () => {
    expect(JSON.stringify(typeOnlyChannel<typeof def>('static'))).toBe('{"name":"static","topics":{}}');
  });

  it('builds messages for any topic, without validation', async () => {
    const ch = typeOnlyChannel<typeof def>('static');
    expect(ch.name).toBe('static');
    expect(ch.topics.created?.name).toBe('created');
    expect(await ch.created({ id: 'x' })).toEqual({ channel: 'static', topic: 'created', data: { id: 'x' } });
  });
});
