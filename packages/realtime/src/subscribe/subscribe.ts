/**
 * `subscribe()` and `getSubscriptionToken()`: the public entry points of the subscribe side, with
 * 0.4.7's signatures (so its code compiles unchanged) plus v4's options (`onMessage`, `onError`,
 * `validate`, `close()`/`unsubscribe()`) and Herald's (`WebSocket`, `connectTimeoutMs`,
 * `maxBufferedMessages`, SSE-framed encoded streams).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type AppLike, inngestTokenCall, isHeraldApp, settingsFor } from '../app.js';
import { RealtimeError } from '../errors.js';
import type { Realtime } from '../realtime.js';
import { fetchSubscriptionJwt } from '../token.js';
import type { WebSocketConstructor } from '../websocket.js';
import type { BackoffOptions } from './backoff.js';
import type { OutMessage } from './delivery.js';
import { asyncIterable } from './iterable.js';
import type { Position } from './position.js';
import { type StateInfo, Subscription, type SubscriptionState } from './subscription.js';

export interface SubscribeOptions<TToken extends Realtime.Subscribe.Token = Realtime.Subscribe.Token> {
  /** An inngest or Herald client: where to fetch a token when there is no `key`, and the base URL. */
  app?: AppLike | undefined;
  /** A subscription JWT; without it one is fetched (needs a signing key: server side only). */
  key?: string | undefined;
  /**
   * Called for every message, one at a time and in order (an async callback is awaited). With it, the
   * returned stream starts receiving only when first read, so an unread stream costs nothing.
   */
  onMessage?:
    | Realtime.Subscribe.Callback<TToken>
    | ((message: Realtime.Subscribe.Token.InferMessage<TToken>) => Promise<void>);
  /**
   * Called with invalid messages (which are then dropped), callback errors and connection loss.
   * Without it, an invalid message or a lost connection ends the streams with that error.
   */
  onError?: (error: Error) => void;
  /** Validate each message against its topic's schema (default true). */
  validate?: boolean;
  /** Overrides the base URL from the app and the environment. */
  apiBaseUrl?: string;
  /** A WebSocket implementation, for runtimes without a global one (default: global, else `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Give up connecting after this long (default 10 000 ms). */
  connectTimeoutMs?: number;
  /**
   * Most messages any one stream holds unread (default 10 000). One more ends that stream with a
   * `BufferOverflowError` after it delivers what it holds; other streams are unaffected.
   */
  maxBufferedMessages?: number;
  /**
   * Reconnect after a lost connection and resume from the last message received, without a gap or
   * a duplicate (default true). An object sets the backoff: full jitter between 0 and
   * `min(maxDelayMs, minDelayMs × 2^attempt)` (defaults 250 ms and 10 s).
   */
  reconnect?: boolean | BackoffOptions;
  /**
   * Returns a fresh token (or its `key`) when the current one expired or was refused. Without it, a
   * subscription with a fixed `key` cannot outlive its token; one without a `key` fetches a new one.
   */
  refreshToken?: () => Promise<string | { key?: string | undefined }>;
  /** Called on every state change (`connecting`, `open`, `reconnecting`, `closed`) with why. */
  onStateChange?: (state: SubscriptionState, info: StateInfo) => void;
  /** A connection silent for this long is presumed dead and replaced (default 45 000 ms; 0: never). */
  heartbeatTimeoutMs?: number;
  /**
   * **Herald**: where the stream starts. Default: with the next message published. `'oldest'`: with
   * the oldest message the server still keeps for the channel (e.g. a page reloaded in the middle of
   * a datastream gets the whole stream again). A position (`positionOf(message)` of the last message
   * the app handled, e.g. kept in `sessionStorage`): with the message after it — if the server no
   * longer has everything since, `onStateChange('open', { recovered: false })` and an `onError`
   * `not_recovered` error say so, and the stream continues live.
   */
  since?: 'oldest' | Position;
  /**
   * **Herald**: also deliver the channel's run lifecycle messages (`{ kind: 'run', channel, data,
   * runId, createdAt, … }`, as `inngest` v4 delivers them; read them with `runLifecycleOf`), whatever
   * topics were asked for. Default false: @inngest/realtime 0.4.7 never delivered them, and code
   * written for it expects every message to have a topic.
   */
  runLifecycle?: boolean;
}

/** The messages of a subscription that asked for run lifecycle messages too. */
type WithRuns<TToken extends Realtime.Subscribe.Token> =
  | Realtime.Subscribe.Token.InferMessage<TToken>
  | Realtime.RunMessage<Realtime.Channel.InferId<Realtime.Subscribe.Token.InferChannel<TToken>>>;

function checkSince(since: unknown): 'oldest' | Position | undefined {
  if (since === undefined || since === 'oldest') return since;
  const p = since as Partial<Position> | null;
  if (typeof p?.epoch === 'string' && p.epoch !== '' && Number.isSafeInteger(p.seq) && (p.seq as number) >= 0)
    return { epoch: p.epoch, seq: p.seq as number };
  throw new RealtimeError(
    'invalid_argument',
    "since must be 'oldest' or a position { epoch, seq } (from positionOf(message))",
  );
}

function keyOf(t: string | { key?: string | undefined }): string {
  const key = typeof t === 'string' ? t : t?.key;
  if (!key) throw new RealtimeError('invalid_argument', 'refreshToken() must return a token or { key }');
  return key;
}

type ChannelLike = string | { name: string; topics?: Record<string, unknown> };

function channelName(channel: ChannelLike): string {
  // A definition is a function, whose `name` is the function's own: never a channel.
  if (typeof channel === 'function')
    throw new RealtimeError(
      'invalid_argument',
      'Pass a channel, not its definition: call it first (myChannel() or myChannel(id))',
    );
  const name = typeof channel === 'string' ? channel : channel?.name;
  if (typeof name !== 'string' || name.length === 0)
    throw new RealtimeError(
      'invalid_argument',
      'Channel ID is required: pass a channel name, or a channel (call the definition: myChannel(), not myChannel)',
    );
  return name;
}

function schemasOf(channel: ChannelLike, topics: readonly string[]): Map<string, StandardSchemaV1> {
  const out = new Map<string, StandardSchemaV1>();
  if (typeof channel === 'string' || !channel.topics) return out;
  for (const t of topics) {
    const def = channel.topics[t] as { getSchema?: () => StandardSchemaV1 | undefined } | undefined;
    const schema = typeof def?.getSchema === 'function' ? def.getSchema() : undefined;
    if (schema) out.set(t, schema);
  }
  return out;
}

export function subscribe<
  const InputChannel extends Realtime.Channel | string,
  const InputTopics extends (keyof Realtime.Channel.InferTopics<Realtime.Channel.AsChannel<InputChannel>> &
    string)[],
  const TToken extends Realtime.Subscribe.Token<Realtime.Channel.AsChannel<InputChannel>, InputTopics>,
  const TOutput extends Realtime.Subscribe.StreamSubscription<TToken, WithRuns<TToken>>,
>(
  token: {
    channel: Realtime.Subscribe.InferChannelInput<InputChannel>;
    topics: InputTopics;
  } & Omit<SubscribeOptions<TToken>, 'onMessage' | 'runLifecycle'> & {
      runLifecycle: true;
      onMessage?: (message: WithRuns<TToken>) => void | Promise<void>;
    },
  callback?: (message: WithRuns<TToken>) => void,
): Promise<TOutput>;
export function subscribe<
  const InputChannel extends Realtime.Channel | string,
  const InputTopics extends (keyof Realtime.Channel.InferTopics<Realtime.Channel.AsChannel<InputChannel>> &
    string)[],
  const TToken extends Realtime.Subscribe.Token<Realtime.Channel.AsChannel<InputChannel>, InputTopics>,
  const TOutput extends Realtime.Subscribe.StreamSubscription<TToken>,
>(
  token: {
    channel: Realtime.Subscribe.InferChannelInput<InputChannel>;
    topics: InputTopics;
  } & SubscribeOptions<TToken>,
  callback?: Realtime.Subscribe.Callback<TToken>,
): Promise<TOutput>;
export async function subscribe(
  // `never`: each overload types the callback's messages its own way.
  token: { channel: ChannelLike; topics: string[]; onMessage?: (message: never) => unknown } & Omit<
    SubscribeOptions,
    'onMessage'
  >,
  callback?: (message: never) => void,
): Promise<Realtime.Subscribe.StreamSubscription> {
  const name = channelName(token.channel);
  const topics = [...token.topics];
  const settings = settingsFor(token.app, token.apiBaseUrl);
  const since = checkSince(token.since);
  const subscription = new Subscription({
    channel: name,
    topics,
    schemas: schemasOf(token.channel, topics),
    jwt: async () => {
      if (token.key) return token.key;
      // Minted from the same base URL the socket goes to, with the app's (or the environment's) keys.
      return fetchSubscriptionJwt({
        baseUrl: settings.baseUrl,
        keys: settings.keys,
        channel: name,
        topics,
        fetch: settings.fetch,
      });
    },
    baseUrl: settings.baseUrl,
    WebSocket: token.WebSocket ?? settings.WebSocket,
    validate: token.validate,
    connectTimeoutMs: token.connectTimeoutMs,
    maxBufferedMessages: token.maxBufferedMessages,
    onError: token.onError,
    canFetchToken: !token.key,
    reconnect: token.reconnect,
    refreshToken: token.refreshToken
      ? async () => keyOf(await (token.refreshToken as () => Promise<string | { key?: string }>)())
      : undefined,
    onStateChange: token.onStateChange,
    heartbeatTimeoutMs: token.heartbeatTimeoutMs,
    since,
    runLifecycle: token.runLifecycle === true,
  });
  // Streams exist only once connected: a failed connect leaves nothing behind.
  await subscription.connect();
  const callbacks = [token.onMessage, callback].filter((c) => typeof c === 'function') as ((
    m: OutMessage,
  ) => unknown)[];
  for (const cb of callbacks) subscription.runCallback(cb, token.onError);
  const main = asyncIterable(subscription.messageStream(callbacks.length > 0));
  const close = (reason?: string) => subscription.close(reason);
  Object.assign(main, {
    getJsonStream: () => subscription.messageStream(false, 'A getJsonStream() stream'),
    getEncodedStream: (options?: Realtime.EncodedStreamOptions) =>
      subscription.encodedStream(options?.format),
    close,
    unsubscribe: close,
  });
  Object.defineProperty(main, 'state', { get: () => subscription.currentState, enumerable: true });
  subscription.start();
  return main as unknown as Realtime.Subscribe.StreamSubscription;
}

/**
 * Mints a subscription token for a channel and topics, server side. `app` is an inngest client (its
 * InngestApi sends the hashed signing key) or a Herald `Realtime` client. The token's `channel` is the
 * channel's name (a string), so it can be sent to a browser.
 */
export function getSubscriptionToken<
  const InputChannel extends Realtime.Channel | string,
  const InputTopics extends (keyof Realtime.Channel.InferTopics<Realtime.Channel.AsChannel<InputChannel>> &
    string)[],
  const TToken extends Realtime.Subscribe.Token<Realtime.Channel.AsChannel<InputChannel>, InputTopics>,
>(
  app: AppLike,
  args: { channel: Realtime.Subscribe.InferChannelInput<InputChannel>; topics: InputTopics },
): Promise<TToken>;
export async function getSubscriptionToken(
  app: AppLike,
  args: { channel: ChannelLike; topics: string[] },
): Promise<{ channel: string; topics: string[]; key: string }> {
  const name = channelName(args.channel);
  const topics = [...args.topics];
  const inngestCall = isHeraldApp(app) ? undefined : inngestTokenCall(app);
  let key: string;
  if (inngestCall) key = await inngestCall(name, topics);
  else {
    const s = settingsFor(app);
    key = await fetchSubscriptionJwt({
      baseUrl: s.baseUrl,
      keys: s.keys,
      channel: name,
      topics,
      fetch: s.fetch,
    });
  }
  return { channel: name, topics, key };
}
