/**
 * Signing keys as Inngest's server accepts them (inngest-protocol.md §2.5–2.6; §7 items 62 and 64),
 * plus the fallback key (F21). The end-to-end counterpart is test/server/auth.test.ts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  assertValidSigningKey,
  hashNormalizedKey,
  hashSigningKey,
  normalizeSigningKey,
  SigningKeys,
} from './signing-key.js';

const KEY = 'signkey-test-abc123def456';
const KEY_HASHED = 'signkey-test-3e0c020d16ae2fa8467cb0af8488907cbaec86257d6b26c54e60696bc475fc8c';
const FALLBACK = 'signkey-prod-00112233445566778899aabbccddeeff';

describe('normalizeSigningKey', () => {
  it('strips a signkey-<word>- prefix, whatever the word', () => {
    // §7.64
    expect(normalizeSigningKey('signkey-test-abc123')).toBe('abc123');
    expect(normalizeSigningKey('signkey-prod-abc123')).toBe('abc123');
    expect(normalizeSigningKey('signkey-branch-abc123')).toBe('abc123');
    expect(normalizeSigningKey('signkey-my_env2-abc123')).toBe('abc123');
  });

  it('leaves keys without that prefix alone', () => {
    // §7.64
    expect(normalizeSigningKey('abc123')).toBe('abc123');
    expect(normalizeSigningKey('signkey--abc123')).toBe('signkey--abc123');
    expect(normalizeSigningKey('xsignkey-test-abc123')).toBe('xsignkey-test-abc123');
    expect(normalizeSigningKey('')).toBe('');
  });
});

describe('hashing', () => {
  it('matches the SDK test vector, keeping the prefix', () => {
    // §7.64
    expect(hashSigningKey(KEY)).toBe(KEY_HASHED);
  });

  it('is deterministic and independent of the prefix', () => {
    // §7.64
    expect(hashSigningKey(KEY)).toBe(hashSigningKey(KEY));
    expect(hashNormalizedKey('abc123def456')).toBe(KEY_HASHED.slice('signkey-test-'.length));
    expect(hashSigningKey('signkey-prod-abc123def456')).toBe(
      `signkey-prod-${hashNormalizedKey('abc123def456')}`,
    );
    expect(hashSigningKey('abc123def456')).toBe(hashNormalizedKey('abc123def456'));
  });

  it('hashes the hex-decoded bytes, case-insensitively', () => {
    // §7.64
    const expected = createHash('sha256')
      .update(Buffer.from([0xab, 0xcd]))
      .digest('hex');
    expect(hashNormalizedKey('abcd')).toBe(expected);
    expect(hashNormalizedKey('ABCD')).toBe(expected);
  });

  it('throws on a non-hex or odd-length key', () => {
    // §7.64
    expect(() => hashNormalizedKey('xyz')).toThrow(/hex/);
    expect(() => hashNormalizedKey('abc')).toThrow(/hex/);
    expect(() => hashSigningKey('signkey-test-not-hex')).toThrow(/hex/);
  });

  it('hashes the empty key to SHA-256 of empty input; the SDK helper maps empty to empty', () => {
    // §7.64
    expect(hashNormalizedKey('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hashSigningKey('')).toBe('');
    expect(hashSigningKey(undefined)).toBe('');
  });
});

describe('SigningKeys.verify', () => {
  const keys = new SigningKeys([KEY, undefined]);

  it.each([
    ['the plain key', KEY],
    ['the prefix-stripped key', 'abc123def456'],
    ['the hashed key', KEY_HASHED],
    ['the hashed key without prefix', KEY_HASHED.slice('signkey-test-'.length)],
    ['the hashed key with another prefix', `signkey-prod-${KEY_HASHED.slice('signkey-test-'.length)}`],
    ['the key with a different prefix', 'signkey-branch-abc123def456'],
  ])('accepts %s', (_what, presented) => {
    // §7.62
    expect(keys.verify(presented)).toBe(true);
  });

  it.each([
    ['a wrong key', 'signkey-test-abc123def457'],
    ['an empty key', ''],
    ['no key', undefined],
    ['the hash of the hash', hashSigningKey(KEY_HASHED)],
    ['the key with junk appended', `${KEY}00`],
    ['the prefix alone', 'signkey-test-'],
  ])('rejects %s', (_what, presented) => {
    // §7.62
    expect(keys.verify(presented)).toBe(false);
  });

  it('accepts the fallback key, raw or hashed, alongside the primary (rotation, F21)', () => {
    const rotating = new SigningKeys([KEY, FALLBACK]);
    for (const k of [KEY, KEY_HASHED, FALLBACK, hashSigningKey(FALLBACK), normalizeSigningKey(FALLBACK)])
      expect(rotating.verify(k)).toBe(true);
    expect(rotating.verify('signkey-prod-ffff')).toBe(false);
    expect(keys.verify(FALLBACK)).toBe(false);
  });

  it('is open (not configured) without keys, yet still verifies nothing', () => {
    // §7.63 (no key configured: the server lets requests through; see auth.test.ts)
    const none = new SigningKeys([undefined, '']);
    expect(none.configured).toBe(false);
    expect(none.verify(KEY)).toBe(false);
    expect(keys.configured).toBe(true);
  });
});

describe('assertValidSigningKey', () => {
  it('accepts even-length hex with or without a prefix', () => {
    expect(() => assertValidSigningKey('--signing-key', KEY)).not.toThrow();
    expect(() => assertValidSigningKey('--signing-key', 'abcdef0123')).not.toThrow();
  });

  it('names the option and says what is wrong', () => {
    expect(() => assertValidSigningKey('--signing-key', 'signkey-test-')).toThrow('--signing-key is empty');
    expect(() => assertValidSigningKey('--signing-key-fallback', 'not hex')).toThrow(
      /--signing-key-fallback must be an even-length hex string/,
    );
  });
});
