/**
 * The fan-out and its bounded streams: 0.4.7's StreamFanout tests (inngest-client-api.md §3.3), plus
 * the bounds and end-of-stream guarantees that fix W1 and W2.
 */
import { describe, expect, it } from 'vitest';
import { drain, take } from '../../test/support.js';
import { BufferOverflowError } from '../errors.js';
import { BoundedStream } from './bounded-stream.js';
import { Fanout } from './fanout.js';

describe('Fanout (§3.3)', () => {
  it('1 starts with zero subscribers', () => {
    expect(new Fanout<string>().size()).toBe(0);
  });

  it('2 createStream increments subscriber count', () => {
    const f = new Fanout<string>();
    f.createStream();
    expect(f.size()).toBe(1);
    f.createStream();
    expect(f.size()).toBe(2);
  });

  it('3 broadcasts a chunk to all subscribers', async () => {
    const f = new Fanout<string>();
    const a = f.createStream();
    const b = f.createStream();
    f.write('hello');
    expect(await take(a, 1)).toEqual(['hello']);
    expect(await take(b, 1)).toEqual(['hello']);
  });

  it('4 supports transform functions per stream', async () => {
    const f = new Fanout<string>();
    const upper = f.createStream((s) => s.toUpperCase());
    f.write('hello');
    expect(await take(upper, 1)).toEqual(['HELLO']);
  });

  it('5 close terminates all streams', async () => {
    const f = new Fanout<string>();
    const a = f.createStream();
    f.close();
    expect((await a.getReader().read()).done).toBe(true);
    expect(f.size()).toBe(0);
  });

  it('6 delivers multiple chunks in order', async () => {
    const f = new Fanout<number>();
    const a = f.createStream();
    f.write(1);
    f.write(2);
    f.write(3);
    expect(await take(a, 3)).toEqual([1, 2, 3]);
  });

  it('7 new subscribers only receive future chunks', async () => {
    const f = new Fanout<string>();
    f.write('before');
    const a = f.createStream();
    f.write('after');
    expect(await take(a, 1)).toEqual(['after']);
  });

  it('8 handles mixed typed streams with identity transform', async () => {
    const f = new Fanout<{ id: number; name: string }>();
    const identity = f.createStream();
    const ids = f.createStream((m) => m.id);
    f.write({ id: 7, name: 'x' });
    expect(await take(identity, 1)).toEqual([{ id: 7, name: 'x' }]);
    expect(await take(ids, 1)).toEqual([7]);
  });
});

describe('bounds and endings (W1, W2, W15)', () => {
  it('an unread stream holds at most its limit, then fails with BufferOverflowError after delivering it', async () => {
    const f = new Fanout<number>();
    const unread = f.createStream(undefined, { maxBuffered: 100 });
    const read = f.createStream(undefined, { maxBuffered: 1000 });
    const reading = take(read, 1000);
    for (let i = 0; i < 1000; i++) f.write(i);
    // The overflowing stream is detached; the one being read is not affected.
    expect(f.size()).toBe(1);
    expect((await reading).length).toBe(1000);
    const r = await drain(unread);
    expect(r.items).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(r.error).toBeInstanceOf(BufferOverflowError);
    expect((r.error as Error).message).toMatch(/100 unread messages/);
  });

  it('close() delivers everything already written, in order (W2)', async () => {
    const f = new Fanout<number>();
    const a = f.createStream();
    for (let i = 0; i < 10; i++) f.write(i);
    f.close();
    expect(await drain(a)).toEqual({ items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
  });

  it('fail() delivers what was written, then errors (distinguishable from an end, W15)', async () => {
    const f = new Fanout<number>();
    const a = f.createStream();
    f.write(1);
    f.fail(new Error('socket lost'));
    const r = await drain(a);
    expect(r.items).toEqual([1]);
    expect((r.error as Error).message).toBe('socket lost');
  });

  it('a lazy stream attaches on first read and gets nothing before', async () => {
    const f = new Fanout<number>();
    const lazy = f.createStream(undefined, { lazy: true });
    f.write(1);
    expect(f.size()).toBe(0);
    const reading = take(lazy, 1);
    await Promise.resolve();
    expect(f.size()).toBe(1);
    f.write(2);
    expect(await reading).toEqual([2]);
  });

  it('cancelling a stream detaches it', async () => {
    const f = new Fanout<number>();
    const a = f.createStream();
    await a.cancel();
    expect(f.size()).toBe(0);
  });

  it('BoundedStream never holds more than its limit', () => {
    const s = new BoundedStream<number>(3, 'test');
    expect([1, 2, 3, 4].map((n) => s.push(n))).toEqual([true, true, true, false]);
    expect(s.size).toBe(3);
    expect(s.accepting).toBe(false);
  });
});
