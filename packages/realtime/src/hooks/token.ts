/**
 * The hook's view of a token: what identifies it (so an equal token given on every render does not
 * reconnect), what `refreshToken()` may return, and whether its JWT has already expired (so the hook
 * asks for a fresh one instead of opening a connection that would be refused).
 */
import { jwtExpiresAt } from '../subscribe/jwt-expiry.js';
import type { HookToken } from './types.js';

export interface ResolvedToken {
  key?: string | undefined;
  channel: string | { name: string };
  topics: readonly string[];
}

function channelName(channel: unknown): string | undefined {
  if (typeof channel === 'string') return channel;
  const name = (channel as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** Equal for tokens that subscribe to the same thing with the same key. */
export function tokenIdentity(token: HookToken | null | undefined): string {
  if (!token) return '';
  const t = token as ResolvedToken;
  return JSON.stringify([channelName(t.channel) ?? null, [...(t.topics ?? [])], t.key ?? null]);
}

/**
 * What a `refreshToken()` result means: a token; or a bare key (a string, or `{ key }`), which keeps
 * the channel and topics of the token it replaces; or nothing.
 */
export function fromRefresh(
  result: unknown,
  previous: ResolvedToken | undefined,
  given: HookToken | null | undefined,
): ResolvedToken | undefined {
  if (!result) return undefined;
  const base = previous ?? (given as ResolvedToken | null | undefined) ?? undefined;
  if (typeof result === 'string') return base ? { ...base, key: result } : undefined;
  const t = result as Partial<ResolvedToken>;
  if (t.channel !== undefined && Array.isArray(t.topics)) return t as ResolvedToken;
  return base && typeof t.key === 'string' ? { ...base, key: t.key } : undefined;
}

/** True when the token's key is a JWT whose `exp` has passed (read without verifying it). */
export function expired(token: ResolvedToken, now = Date.now()): boolean {
  const expiresAt = token.key === undefined ? undefined : jwtExpiresAt(token.key);
  return expiresAt !== undefined && expiresAt <= now;
}
