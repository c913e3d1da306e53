import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter } from './rate-limiter.js';
import { Rate } from './token-bucket.js';

describe('Rate (token bucket)', () => {
  it('allows a burst, then one token per 1/rate seconds', () => {
    const rate = new Rate(5, 5);
    const b = rate.bucket(0);
    let taken = 0;
    for (let i = 0; i < 10; i++) if (rate.take(b, 0)) taken++;
    expect(taken).toBe(5);
    expect(rate.take(b, 199)).toBe(false); // 0.995 of a token
    expect(rate.take(b, 200)).toBe(true);
    expect(rate.take(b, 200)).toBe(false);
  });

  it('never holds more than the burst, however long it idled', () => {
    const rate = new Rate(10, 20);
    const b = rate.bucket(0);
    for (let i = 0; i < 20; i++) expect(rate.take(b, 0)).toBe(true);
    expect(rate.take(b, 0)).toBe(false);
    let taken = 0;
    for (let i = 0; i < 100; i++) if (rate.take(b, 3_600_000)) taken++;
    expect(taken).toBe(20);
  });

  it('says how long to wait, in whole seconds, at least 1', () => {
    const slow = new Rate(0.25, 1); // one every 4 s
    const b = slow.bucket(0);
    expect(slow.take(b, 0)).toBe(true);
    expect(slow.retryAfterSeconds(b, 0)).toBe(4);
    expect(slow.retryAfterSeconds(b, 3_500)).toBe(1);
    const fast = new Rate(100, 1);
    const f = fast.bucket(0);
    fast.take(f, 0);
    expect(fast.retryAfterSeconds(f, 0)).toBe(1);
  });

  it('refuses nonsense parameters', () => {
    expect(() => new Rate(0, 1)).toThrow(/positive/);
    expect(() => new Rate(1, 0)).toThrow(/at least 1/);
  });

  it('does not go backwards when the clock does', () => {
    const rate = new Rate(1, 1);
    const b = rate.bucket(1000);
    expect(rate.take(b, 1000)).toBe(true);
    expect(rate.take(b, 500)).toBe(false);
    expect(rate.take(b, 2000)).toBe(true);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one budget per key', () => {
    const l = new KeyedRateLimiter(2, 2);
    expect(l.take('a', 0).ok).toBe(true);
    expect(l.take('a', 0).ok).toBe(true);
    expect(l.take('a', 0)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(l.take('b', 0).ok).toBe(true);
    expect(l.take('a', 500).ok).toBe(true);
  });

  it('forgets keys whose bucket refilled, so idle publishers cost nothing', () => {
    const l = new KeyedRateLimiter(10, 10); // refills in 1 s
    for (let i = 0; i < 1000; i++) l.take(`k${i}`, 0);
    expect(l.size).toBe(1000);
    l.take('busy', 900);
    expect(l.size).toBe(1001); // not swept yet: less than a refill period since the last sweep
    l.take('busy', 1_000);
    expect(l.size).toBe(1); // only the busy key's bucket is not full
  });

  it('stays within maxKeys even when every request has a new key', () => {
    const l = new KeyedRateLimiter(1, 1, 100);
    for (let i = 0; i < 10_000; i++) l.take(`flood-${i}`, 0);
    expect(l.size).toBe(100);
    // The newest keys are the ones remembered.
    expect(l.take('flood-9999', 0).ok).toBe(false);
  });
});
