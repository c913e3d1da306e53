/**
 * Signing keys authenticate servers (publishers, token minters). Accepted exactly as Inngest's
 * server accepts them (inngest-protocol.md §2.6): raw or hashed, with or without a
 * `signkey-<env>-` prefix, compared in constant time. Herald also accepts a fallback key, so keys
 * can be rotated without downtime (F21).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const PREFIX = /^signkey-\w+-/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Strips the `signkey-<word>-` prefix. */
export function normalizeSigningKey(key: string): string {
  return key.replace(PREFIX, '');
}

/** SHA-256 of the hex-decoded key, as the Inngest SDKs send it. Throws on a non-hex key. */
export function hashNormalizedKey(normalized: string): string {
  if (!HEX.test(normalized)) throw new Error('signing key must be an even-length hex string');
  return createHash('sha256').update(Buffer.from(normalized, 'hex')).digest('hex');
}

/** The SDKs' `hashSigningKey`: the prefix is kept, the rest hashed. Empty → empty. */
export function hashSigningKey(key: string | undefined): string {
  if (!key) return '';
  const prefix = key.match(PREFIX)?.[0] ?? '';
  return prefix + hashNormalizedKey(key.slice(prefix.length));
}

/** Throws with a message saying what is wrong with a configured key. */
export function assertValidSigningKey(name: string, key: string): void {
  const n = normalizeSigningKey(key);
  if (n.length === 0) throw new Error(`${name} is empty`);
  if (!HEX.test(n))
    throw new Error(`${name} must be an even-length hex string, optionally prefixed with "signkey-<env>-"`);
}

// Compare digests, so the comparison is constant-time whatever the lengths.
function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

interface Accepted {
  raw: Buffer;
  hashed: Buffer;
}

export class SigningKeys {
  private readonly accepted: Accepted[];

  constructor(keys: (string | undefined)[]) {
    this.accepted = keys
      .filter((k): k is string => typeof k === 'string' && k.length > 0)
      .map((k) => {
        const n = normalizeSigningKey(k);
        return { raw: digest(n), hashed: digest(hashNormalizedKey(n)) };
      });
  }

  /** Whether any key is configured. Without one, server endpoints are open (dev mode). */
  get configured(): boolean {
    return this.accepted.length > 0;
  }

  /** True when the presented bearer value is one of the keys, raw or hashed, any prefix. */
  verify(presented: string | undefined): boolean {
    if (!presented) return false;
    const p = digest(normalizeSigningKey(presented));
    let ok = false;
    // Check every key, without short-circuit, so timing does not say which one matched.
    for (const k of this.accepted) {
      ok = timingSafeEqual(p, k.raw) || ok;
      ok = timingSafeEqual(p, k.hashed) || ok;
    }
    return ok;
  }
}
