/**
 * The signing-key comparison is constant-time: every comparison is `timingSafeEqual` over two
 * SHA-256 digests (32 bytes each), whatever was presented, and every configured key is compared
 * (no early exit that would tell which key, or which form of it, matched).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: [number, number][] = [];

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return real.timingSafeEqual(a, b);
    },
  };
});

const { SigningKeys } = await import('./signing-key.js');

const KEY = 'signkey-test-abc123def456';
const FALLBACK = 'signkey-prod-00112233445566778899aabbccddeeff';

describe('SigningKeys.verify timing', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it.each([
    ['a short guess', 'ab'],
    ['a long guess', 'f'.repeat(4096)],
    ['the right key', KEY],
    ['a non-hex value', 'not a key at all'],
  ])('compares 32-byte digests, never raw strings: %s', (_what, presented) => {
    new SigningKeys([KEY, FALLBACK]).verify(presented);
    // Two keys, raw and hashed form each: four comparisons, all of equal-length digests.
    expect(calls).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
  });

  it('compares against every key even when the first one matches', () => {
    expect(new SigningKeys([KEY, FALLBACK]).verify(KEY)).toBe(true);
    expect(calls).toHaveLength(4);
  });
});
