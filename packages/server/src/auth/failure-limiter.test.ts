/** The auth-failure limit: counts per IP (IPv6 per /64), blocks until the window ends, bounded memory. */
import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter, clientKey } from './failure-limiter.js';

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

describe('AuthFailureLimiter', () => {
  it('blocks an IP once it reached the limit, for the rest of its window, then forgets it', () => {
    const c = clock();
    const l = new AuthFailureLimiter(3, 100, 60_000, c.now);
    expect(l.fail('10.0.0.1')).toBe(false);
    expect(l.fail('10.0.0.1')).toBe(false);
    expect(l.retryAfter('10.0.0.1')).toBe(0);
    expect(l.fail('10.0.0.1')).toBe(true);
    expect(l.retryAfter('10.0.0.1')).toBe(60);
    c.advance(45_500);
    expect(l.retryAfter('10.0.0.1')).toBe(15);
    // Other IPs are not affected.
    expect(l.retryAfter('10.0.0.2')).toBe(0);
    c.advance(14_500);
    expect(l.retryAfter('10.0.0.1')).toBe(0);
    expect(l.size).toBe(0);
    expect(l.fail('10.0.0.1')).toBe(false);
  });

  it('starts a new window when the last one ended without reaching the limit', () => {
    const c = clock();
    const l = new AuthFailureLimiter(2, 100, 60_000, c.now);
    l.fail('a');
    c.advance(60_000);
    expect(l.fail('a')).toBe(false);
    expect(l.fail('a')).toBe(true);
  });

  it('does nothing when off (limit 0)', () => {
    const l = new AuthFailureLimiter(0);
    expect(l.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect(l.fail('a')).toBe(false);
    expect(l.retryAfter('a')).toBe(0);
    expect(l.size).toBe(0);
  });

  it('keeps at most maxEntries IPs: expired windows go first, then the oldest', () => {
    const c = clock();
    const l = new AuthFailureLimiter(2, 3, 60_000, c.now);
    l.fail('old');
    l.fail('old'); // blocked
    c.advance(60_001);
    l.fail('a');
    l.fail('b');
    l.fail('c');
    l.fail('d'); // over the bound: the expired window and then the oldest live one are dropped
    expect(l.size).toBe(3);
    expect(l.retryAfter('old')).toBe(0);
    for (let i = 0; i < 10_000; i++) l.fail(`10.1.${i >> 8}.${i & 255}`);
    expect(l.size).toBe(3);
  });

  it('counts IPv6 addresses by their /64, and IPv4-mapped addresses as IPv4', () => {
    const l = new AuthFailureLimiter(2);
    l.fail('2001:db8:1:2::1');
    expect(l.fail('2001:db8:1:2:ffff::9')).toBe(true);
    expect(l.retryAfter('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd')).toBeGreaterThan(0);
    expect(l.retryAfter('2001:db8:1:3::1')).toBe(0);
    expect(clientKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
