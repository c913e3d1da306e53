/**
 * The hook's public types: the tokens it takes, the messages it infers from them, its options and
 * what it returns. For a token typed by its channel definition (what `getSubscriptionToken` returns)
 * the message type is exactly 0.4.7's; a plain `{ channel: "name", topics: [...] }` (the seed's
 * example, which 0.4.7's own types refuse) is accepted too, typed by its topic names.
 */
import type { Realtime } from '../realtime.js';
import type { BackoffOptions } from '../subscribe/backoff.js';
import type { Simplify } from '../util-types.js';
import type { InngestSubscriptionState } from './state.js';

/** A token naming its channel by a string, with topic names (data is untyped). */
export interface NamedToken {
  key?: string | undefined;
  channel: string;
  topics: readonly string[];
}

/** What `token` and `refreshToken` may give: a typed token, or one naming its channel by string. */
export type HookToken = Realtime.Subscribe.Token | NamedToken;

/** The message type for a token (0.4.7's inference for typed tokens). */
export type HookMessage<TToken extends HookToken> = TToken extends {
  channel: infer C extends string;
  topics: infer T extends readonly string[];
}
  ? Simplify<Realtime.Message<C, { [K in T[number]]: Realtime.Topic.Definition<K> }>>
  : TToken extends Realtime.Subscribe.Token
    ? Realtime.Subscribe.Token.InferMessage<TToken>
    : never;

/** Reconnect delays: exponential backoff with full jitter (the SDK's; defaults 250 ms and 10 s). */
export type ReconnectOptions = BackoffOptions;

export interface UseInngestSubscriptionOptions<TToken extends HookToken | null | undefined> {
  /**
   * The subscription token (from `getSubscriptionToken` on your server). Compared by value (channel
   * name, topics and key), so an inline object does not reconnect on every render; a different value
   * closes the current connection and opens a new one.
   */
  token?: TToken;
  /**
   * Returns a fresh token. Called when there is no token, and when the current one expired or was
   * refused — once per need, never in a loop. Its identity may change on every render.
   */
  refreshToken?: () => Promise<TToken>;
  /** Changing it closes the connection and opens a new one (as in 0.4.7; `data` is kept, see `reset`). */
  key?: string;
  /** `false` closes the connection (and opens none) until it is `true` again. Default `true`. */
  enabled?: boolean;
  /**
   * Milliseconds to gather messages before showing them (one render per batch). Default 0: every
   * message is shown as soon as it arrives (bursts still render once). Changing it, unmounting, or
   * the connection ending shows what was gathered.
   */
  bufferInterval?: number;
  /** Keep at most this many messages in `data` (the newest). Default: no limit, as in 0.4.7. */
  historyLimit?: number;
  /** Herald's URL. Default: from the environment, as `subscribe()` resolves it (`INNGEST_BASE_URL`, …). */
  apiBaseUrl?: string;
  /**
   * Reconnect after the connection drops or fails, resuming where it stopped so no message is lost
   * or repeated (default true); an object sets the backoff delays. `false`: stay closed, with why.
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * Herald: where the first connection starts: `'oldest'` (everything the server still keeps, e.g. a
   * page reloaded in the middle of a datastream) or a position from `positionOf(message)`. Read when
   * the connection is made; later reconnects resume by themselves. Default: new messages only.
   */
  since?: 'oldest' | { epoch: string; seq: number };
}

/** Why the last connection closed (kept until the next one is active). */
export interface CloseReason {
  /** The WebSocket close code, when there was one (1006: dropped without a close frame). */
  code?: number;
  /** What happened, in words. */
  reason: string;
  /** The hook is going to open a new connection (after a delay, or a token refresh). */
  willReconnect: boolean;
}

export interface InngestSubscription<TToken extends HookToken> {
  /** Every message since mount (or since `reset()`), oldest first; capped by `historyLimit`. */
  data: HookMessage<TToken>[];
  /** The newest message, or null. */
  latestData: HookMessage<TToken> | null;
  /**
   * The messages that arrived since the previous render showed new ones: every one of them, never
   * only the last of a burst. Its identity changes only when new messages arrive.
   */
  freshData: HookMessage<TToken>[];
  /** Why the connection failed, or null (cleared once a connection is active). */
  error: Error | null;
  state: InngestSubscriptionState;
  /** Why the last connection closed, or null while active (or before the first connection). */
  closeReason: CloseReason | null;
  /** Empties `data`, `latestData` and `freshData` (and anything gathered for `bufferInterval`). */
  reset(): void;
}
