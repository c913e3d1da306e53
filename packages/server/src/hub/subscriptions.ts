/**
 * What a connection may subscribe to, and the `sub`/`unsub` control frames that change it (F14:
 * checked against the connection's env, and answered). Shared by every transport.
 */
import type { Authenticator } from '../auth/authenticate.js';
import type { RealtimeClaims } from '../auth/token.js';
import { type ClientFrame, replyFrame } from '../protocol/client-frame.js';
import { channelKey } from '../protocol/topic.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';

/** The (channel, topic) pairs a token grants, keyed for the hub. */
export function grantedTopics(claims: RealtimeClaims): { key: string; channel: string; topic: string }[] {
  return (claims.topics ?? []).map((t) => ({
    key: channelKey(t.env_id ?? claims.env, t.channel),
    channel: t.channel,
    topic: t.name,
  }));
}

/** Distinct (channel, topic) pairs a token grants: what subscribing with it alone costs. */
export function grantedCount(claims: RealtimeClaims): number {
  const pairs = new Set<string>();
  for (const t of grantedTopics(claims)) pairs.add(`${t.key}\u0000${t.topic}`);
  return pairs.size;
}

/** The refusal of a token that alone grants more than a connection may hold, or undefined. */
export function grantExceedsLimit(claims: RealtimeClaims, max: number): string | undefined {
  const n = grantedCount(claims);
  if (n <= max) return undefined;
  return `the token grants ${n} topics; a connection may subscribe to at most ${max} (--max-subscriptions-per-connection)`;
}

/**
 * Applies a client control frame and returns the reply frame to send. A `sub` that would take the
 * connection past `maxSubscriptions` (channel, topic) pairs is refused whole: nothing changes. A
 * refused `sub` token is also handed to `refused` (the transport logs and counts it).
 */
export async function applyControlFrame(
  hub: Hub,
  auth: Authenticator,
  c: Connection,
  frame: ClientFrame,
  maxSubscriptions: number,
  refused?: (err: unknown) => void,
): Promise<string> {
  if (frame.kind === 'sub') {
    let claims: RealtimeClaims;
    try {
      // The token must be of the connection's env (F14).
      claims = await auth.subscriber(frame.token, c.env);
    } catch (e) {
      refused?.(e);
      return replyFrame('sub', frame.id, { ok: false, error: (e as Error).message });
    }
    const granted = grantedTopics(claims);
    // Counted and subscribed in the same turn (hub.subscribe registers synchronously), so two
    // sub frames in flight cannot both slip under the limit.
    const added = new Set<string>();
    for (const t of granted)
      if (!c.subscriptions.get(t.key)?.includes(t.topic)) added.add(`${t.key}\u0000${t.topic}`);
    if (c.subscriptionCount + added.size > maxSubscriptions)
      return replyFrame('sub', frame.id, {
        ok: false,
        error: `subscription limit: this connection holds ${c.subscriptionCount} topics and the token adds ${added.size}; the limit is ${maxSubscriptions} (--max-subscriptions-per-connection)`,
      });
    c.presentedToken(claims.exp * 1000, claims.iat === undefined ? undefined : claims.iat * 1000);
    try {
      await Promise.all(granted.map((t) => hub.subscribe(c, t.key, t.topic)));
    } catch (e) {
      return replyFrame('sub', frame.id, { ok: false, error: `subscribe failed: ${(e as Error).message}` });
    }
    return replyFrame('sub', frame.id, {
      ok: true,
      topics: granted.map((t) => ({ channel: t.channel, name: t.topic })),
    });
  }
  const removed: { channel: string; name: string }[] = [];
  for (const t of frame.topics) {
    if (hub.unsubscribe(c, channelKey(c.env, t.channel), t.name))
      removed.push({ channel: t.channel, name: t.name });
  }
  return replyFrame('unsub', frame.id, { ok: true, topics: removed });
}
