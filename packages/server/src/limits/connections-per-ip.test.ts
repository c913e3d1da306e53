import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientIp } from './client-ip.js';
import { ConnectionsPerIp } from './connections-per-ip.js';

describe('ConnectionsPerIp', () => {
  it('admits up to the cap per IP, and each release frees exactly one place', () => {
    const c = new ConnectionsPerIp(2);
    const a1 = c.acquire('10.0.0.1');
    const a2 = c.acquire('10.0.0.1');
    expect(a1).toBeDefined();
    expect(a2).toBeDefined();
    expect(c.acquire('10.0.0.1')).toBeUndefined();
    expect(c.acquire('10.0.0.2')).toBeDefined(); // another IP has its own count
    a1?.();
    a1?.(); // a second call (another way the same connection ended) changes nothing
    a1?.();
    expect(c.count('10.0.0.1')).toBe(1);
    expect(c.acquire('10.0.0.1')).toBeDefined();
    expect(c.acquire('10.0.0.1')).toBeUndefined();
  });

  it('returns to zero and forgets the IP once everything is released', () => {
    const c = new ConnectionsPerIp(3);
    const releases = [c.acquire('ip'), c.acquire('ip'), c.acquire('ip')];
    expect(c.acquire('ip')).toBeUndefined();
    for (const r of releases) {
      r?.();
      r?.();
    }
    expect(c.count('ip')).toBe(0);
    expect(c.ips).toBe(0);
    expect(c.acquire('ip')).toBeDefined();
  });

  it('with cap 0 counts nothing and refuses nothing', () => {
    const c = new ConnectionsPerIp(0);
    for (let i = 0; i < 10_000; i++) c.acquire('ip')?.();
    for (let i = 0; i < 10_000; i++) expect(c.acquire('ip')).toBeDefined();
    expect(c.ips).toBe(0);
  });
});

const req = (remoteAddress: string | undefined, xff?: string | string[]): IncomingMessage =>
  ({
    socket: { remoteAddress },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  }) as unknown as IncomingMessage;

describe('clientIp', () => {
  it("is the socket's address unless the proxy is trusted", () => {
    expect(clientIp(req('10.1.1.1', '6.6.6.6'), false)).toBe('10.1.1.1');
    expect(clientIp(req('::ffff:127.0.0.1'), false)).toBe('127.0.0.1');
    expect(clientIp(req('::1'), false)).toBe('::1');
    expect(clientIp(req(undefined), false)).toBe('unknown');
  });

  it('behind a trusted proxy, is the last hop of X-Forwarded-For (the one the proxy wrote)', () => {
    expect(clientIp(req('10.1.1.1', '6.6.6.6, 203.0.113.9'), true)).toBe('203.0.113.9');
    expect(clientIp(req('10.1.1.1', ['6.6.6.6', '198.51.100.4 ']), true)).toBe('198.51.100.4');
    expect(clientIp(req('10.1.1.1', '203.0.113.9, '), true)).toBe('203.0.113.9');
    expect(clientIp(req('10.1.1.1', '::ffff:192.0.2.1'), true)).toBe('192.0.2.1');
    // Without the header, the socket's address.
    expect(clientIp(req('10.1.1.1'), true)).toBe('10.1.1.1');
    expect(clientIp(req('10.1.1.1', ''), true)).toBe('10.1.1.1');
  });
});
