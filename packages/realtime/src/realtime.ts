/**
 * `Realtime`: the standalone client (publish, tokens and subscriptions from any backend) merged with
 * the types namespace of @inngest/realtime 0.4.7 (`Realtime.Token`, `Realtime.Channel`, …), so code
 * written against 0.4.7's types compiles against ours by changing the import.
 *
 * Reading guide for the types: a *topic definition* names a topic and types its payload; a *channel
 * definition* is callable and holds topic definitions; calling it gives a *channel* `{ name, topics,
 * <topic>(data) }`, whose topic functions build publishable messages.
 */
// biome-ignore-all lint/suspicious/noExplicitAny: 0.4.7's public types use `any` for untyped payloads and builder arguments; keeping them is what makes existing code compile.
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type ClientSettings, HERALD_CLIENT, type HeraldAppLike } from './app.js';
import { resolveBaseUrl } from './base-url.js';
import { readEnv } from './env.js';
import { RealtimeError } from './errors.js';
import {
  type PublishAck,
  type PublishOptions,
  publishMessage,
  publishRun,
  publishStream,
  type RunPublishAck,
  type RunUpdate,
  type StreamPublishAck,
  type StreamSource,
} from './publish.js';
import type { RunMessage as DeliveredRunMessage } from './subscribe/delivery.js';
import { messageSchema as frameSchema } from './subscribe/frame.js';
import { getSubscriptionToken, type SubscribeOptions, subscribe } from './subscribe/subscribe.js';
import type { IsLiteral, IsStringLiteral, MaybePromise, Simplify } from './util-types.js';
import type { WebSocketConstructor } from './websocket.js';

export interface RealtimeOptions {
  /** Herald's URL, e.g. `http://localhost:8288`. Default: from the environment, as 0.4.7 resolves it. */
  baseUrl?: string;
  /** Authenticates publishing and token minting (sent hashed). Default: `INNGEST_SIGNING_KEY`. */
  signingKey?: string;
  /** Tried after a 401/403 with `signingKey`, for key rotation. Default: `INNGEST_SIGNING_KEY_FALLBACK`. */
  signingKeyFallback?: string;
  fetch?: typeof fetch;
  /** For runtimes without a global WebSocket (default: global, else the `ws` package). */
  WebSocket?: WebSocketConstructor;
  /** Attempts per publish for a 503 or network failure, the first included (default 4). */
  maxAttempts?: number;
}

type ChannelOrName = Realtime.Channel | string;
type TopicOf<C extends ChannelOrName> = keyof Realtime.Channel.InferTopics<Realtime.Channel.AsChannel<C>> &
  string;

/**
 * A Herald client for any backend:
 * ```ts
 * const realtime = new Realtime({ baseUrl: "http://localhost:8288", signingKey });
 * await realtime.publish(chat("room-1").message({ text: "hi" }));
 * ```
 */
export class Realtime implements HeraldAppLike {
  readonly [HERALD_CLIENT]: ClientSettings;
  readonly #maxAttempts: number | undefined;

  constructor(options: RealtimeOptions = {}) {
    this[HERALD_CLIENT] = {
      baseUrl: resolveBaseUrl(options.baseUrl),
      keys: {
        primary: options.signingKey ?? readEnv('INNGEST_SIGNING_KEY'),
        fallback: options.signingKeyFallback ?? readEnv('INNGEST_SIGNING_KEY_FALLBACK'),
      },
      fetch: options.fetch,
      WebSocket: options.WebSocket,
    };
    this.#maxAttempts = options.maxAttempts;
  }

  /** The base URL in use. */
  get baseUrl(): string {
    return this[HERALD_CLIENT].baseUrl;
  }

  /**
   * Publishes a message built by a topic function, e.g. `ch().status({ step: 2 })`, which has
   * already validated it against the topic's schema (and rejected it if invalid). Resolves to
   * Herald's acknowledgement: the message id, its channel's epoch and its sequence number.
   */
  async publish(
    message: MaybePromise<Realtime.Message.Input>,
    options: PublishOptions = {},
  ): Promise<PublishAck> {
    const m = await message;
    if (typeof m?.channel !== 'string' || typeof m.topic !== 'string')
      throw new RealtimeError(
        'invalid_argument',
        'publish(): expected a message from a topic function, e.g. publish(myChannel().myTopic(data))',
      );
    return publishMessage(this.#transport(), m, options);
  }

  /**
   * Publishes a stream (e.g. LLM tokens) as one datastream: subscribers get `datastream-start`, a
   * `chunk` per piece, and `datastream-end`, and can read it through `message.stream`.
   */
  async publishStream<const C extends ChannelOrName>(
    channel: C,
    topic: TopicOf<C>,
    source: StreamSource,
    options: Omit<PublishOptions, 'idempotencyKey'> = {},
  ): Promise<StreamPublishAck> {
    const name = typeof channel === 'string' ? channel : channel.name;
    return publishStream(this.#transport(), name, topic, source, options);
  }

  /**
   * Publishes a run lifecycle frame to every subscriber of the channel, whatever topics they hold:
   * `inngest` v4's `useRealtime` (and Herald's) derive `runStatus` and `result` from it, e.g.
   * `publishRun(channel, { status: 'completed', output })` or `{ status: 'failed', error }`. Kept in
   * the channel's history like any message. `runId` in the options is sent as the frame's `run_id`.
   * (The lifecycle middleware publishes these by itself; this is for everything else.)
   */
  async publishRun(
    channel: string | { name: string },
    update: RunUpdate,
    options: PublishOptions = {},
  ): Promise<RunPublishAck> {
    const name = typeof channel === 'string' ? channel : channel?.name;
    if (typeof name !== 'string' || name === '')
      throw new RealtimeError('invalid_argument', 'publishRun(): expected a channel or a channel name');
    if (typeof update !== 'object' || update === null || typeof update.status !== 'string')
      throw new RealtimeError(
        'invalid_argument',
        "publishRun(): expected { status: 'running' | 'completed' | 'failed' | 'cancelled', … }",
      );
    return publishRun(this.#transport(), name, update, options);
  }

  /** Mints a subscription token (see the standalone `getSubscriptionToken`). */
  getSubscriptionToken<
    const InputChannel extends Realtime.Channel | string,
    const InputTopics extends (keyof Realtime.Channel.InferTopics<Realtime.Channel.AsChannel<InputChannel>> &
      string)[],
    const TToken extends Realtime.Subscribe.Token<Realtime.Channel.AsChannel<InputChannel>, InputTopics>,
  >(args: {
    channel: Realtime.Subscribe.InferChannelInput<InputChannel>;
    topics: InputTopics;
  }): Promise<TToken> {
    return getSubscriptionToken<InputChannel, InputTopics, TToken>(this, args);
  }

  /** Subscribes through this client's base URL and keys (see the standalone `subscribe`). */
  subscribe<
    const InputChannel extends Realtime.Channel | string,
    const InputTopics extends (keyof Realtime.Channel.InferTopics<Realtime.Channel.AsChannel<InputChannel>> &
      string)[],
    const TToken extends Realtime.Subscribe.Token<Realtime.Channel.AsChannel<InputChannel>, InputTopics>,
    const TOutput extends Realtime.Subscribe.StreamSubscription<TToken>,
  >(
    token: {
      channel: Realtime.Subscribe.InferChannelInput<InputChannel>;
      topics: InputTopics;
    } & Omit<SubscribeOptions<TToken>, 'app'>,
    callback?: Realtime.Subscribe.Callback<TToken>,
  ): Promise<TOutput> {
    return subscribe<InputChannel, InputTopics, TToken, TOutput>({ ...token, app: this }, callback);
  }

  #transport() {
    const s = this[HERALD_CLIENT];
    return { baseUrl: s.baseUrl, keys: s.keys, fetch: s.fetch, maxAttempts: this.#maxAttempts };
  }
}

export namespace Realtime {
  /** The frame schema (0.4.7 exported its zod schema under this name): a Standard Schema with `parse`/`safeParse`. */
  export const messageSchema = frameSchema;

  /** Publishes a message (or a promise of one) and resolves with its data. */
  export type PublishFn = <TMessage extends MaybePromise<Message.Input>>(
    message: TMessage,
  ) => Promise<Awaited<TMessage>['data']>;

  /** The token type a server action returns, e.g. `Realtime.Token<typeof chat, ["messages"]>`. */
  export type Token<
    TChannel extends Channel | Channel.Definition,
    TTopics extends (keyof Channel.InferTopics<Channel.Definition.AsChannel<TChannel>> &
      string)[] = (keyof Channel.InferTopics<Channel.Definition.AsChannel<TChannel>> & string)[],
  > = TChannel extends Channel.Definition
    ? Subscribe.Token<Channel.Definition.AsChannel<TChannel>, TTopics>
    : TChannel extends Channel
      ? Subscribe.Token<TChannel, TTopics>
      : never;

  /** Framing of `getEncodedStream()`: NDJSON (`<json>\n`, 0.4.7's format) or SSE (`data: <json>\n\n`). */
  export interface EncodedStreamOptions {
    format?: 'ndjson' | 'sse';
  }

  export namespace Subscribe {
    /** A definition given where a channel is expected becomes its id, so passing it is an error. */
    export type InferChannelInput<T> = T extends Channel.Definition ? Channel.Definition.InferId<T> : T;

    /**
     * What `subscribe()` resolves to: a stream of the messages received from then on, plus ways to
     * get more streams and to end the subscription.
     */
    export type StreamSubscription<
      TToken extends Token = Token,
      // Also run lifecycle messages, with `runLifecycle: true`.
      TData = Simplify<Token.InferMessage<TToken>>,
    > = ReadableStream<TData> &
      // Declared so `for await` type-checks whatever the user's `lib` setting; every stream the SDK
      // returns is made async-iterable at runtime (Safari's ReadableStream is not).
      AsyncIterable<TData> & {
        /** A new stream of messages, starting with the next one received. */
        getJsonStream(): ReadableStream<TData> & AsyncIterable<TData>;
        /** A new stream of encoded messages (NDJSON by default; `{ format: "sse" }` for SSE), for a `Response`. */
        getEncodedStream(
          options?: EncodedStreamOptions,
        ): ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>;
        /** Closes the socket. Messages already received are still delivered, then every stream ends. */
        close(reason?: string): void;
        /** The same as `close()`. */
        unsubscribe(reason?: string): void;
        /** Herald: `connecting`, `open`, `reconnecting` or `closed` (see the `onStateChange` option). */
        readonly state: 'connecting' | 'open' | 'reconnecting' | 'closed';
      };

    export type Callback<TToken extends Subscribe.Token = Subscribe.Token> = (
      message: Token.InferMessage<TToken>,
    ) => void;

    export interface Token<
      TChannel extends Channel | Channel.Definition = Channel,
      TTopics extends (keyof Channel.InferTopics<TChannel>)[] = (keyof Channel.InferTopics<TChannel>)[],
    > {
      key?: string | undefined;
      channel: Channel.Definition.AsChannel<TChannel>;
      topics: TTopics;
    }

    export namespace Token {
      export type InferChannel<TToken extends Token> = TToken extends Token<infer C, any> ? C : Channel;
      export type InferTopicData<
        TToken extends Token,
        TChannelTopics extends Record<string, Topic.Definition> = Channel.InferTopics<InferChannel<TToken>>,
      > = TToken extends Token<any, infer T> ? { [K in T[number]]: TChannelTopics[K] } : never;
      export type InferMessage<TToken extends Token> = Simplify<
        Message<Channel.InferId<InferChannel<TToken>>, InferTopicData<TToken>>
      >;
    }
  }

  /** A received message: one variant per topic, discriminated by `topic` and `kind`. */
  export type Message<
    TChannelId extends string = string,
    TTopics extends Record<string, Topic.Definition> = Record<string, Topic.Definition>,
  > = {
    [K in keyof TTopics]:
      | {
          kind: 'data';
          channel: TChannelId;
          topic: K;
          data: Topic.InferSubscribe<TTopics[K]>;
          createdAt: Date;
          runId?: string;
          fnId?: string;
          envId?: string;
        }
      | {
          kind: 'datastream-start' | 'datastream-end' | 'chunk';
          channel: TChannelId;
          topic: K;
          /** The stream id for start/end, a piece of text for a chunk. */
          data: Topic.InferSubscribe<TTopics[K]>;
          runId?: string;
          fnId?: string;
          streamId: string;
          /** This consumer's own stream of the datastream's chunks. */
          stream: ReadableStream<Topic.InferSubscribe<TTopics[K]>>;
        };
  }[keyof TTopics];

  /**
   * A run lifecycle message (`subscribe({ …, runLifecycle: true })`): for the whole channel, with no
   * topic; `data` names the run's status (read it with `runLifecycleOf`).
   */
  export type RunMessage<TChannelId extends string = string> = Omit<DeliveredRunMessage, 'channel'> & {
    channel: TChannelId;
  };

  export namespace Message {
    /** What a topic function returns and `publish()` takes. */
    export type Input<TChannelId extends string = string, TTopicId extends string = string, TData = any> = {
      channel: TChannelId;
      topic: TTopicId;
      data: TData;
    };

    /** A frame as it arrives on the wire (after `created_at` is parsed). */
    export type Raw<
      TChannelId extends string = string,
      TTopics extends Record<string, Topic.Definition> = Record<string, Topic.Definition>,
    > = {
      [K in keyof TTopics]: {
        kind:
          | 'step'
          | 'run'
          | 'data'
          | 'datastream-start'
          | 'datastream-end'
          | 'ping'
          | 'pong'
          | 'closing'
          | 'event'
          | 'sub'
          | 'unsub'
          | 'chunk';
        data: Topic.InferSubscribe<TTopics[K]>;
        channel?: TChannelId;
        topic?: K;
        stream_id?: string;
        run_id?: string;
        fn_id?: string;
        created_at?: Date;
        env_id?: string;
      };
    }[keyof TTopics];
  }

  /** A channel: `name`, `topics`, and one function per topic building a message for it. */
  export type Channel<
    TChannelId extends string = string,
    TTopics extends Record<string, Topic.Definition> = Record<string, Topic.Definition>,
  > = {
    [K in IsLiteral<keyof TTopics, keyof TTopics, never> | 'name' | 'topics']: K extends 'name'
      ? string
      : K extends 'topics'
        ? TTopics
        : K extends keyof TTopics
          ? Topic<TChannelId, TTopics[K]>
          : never;
  };

  export namespace Channel {
    export type Like = { channel: string; topics: string[] };
    export type InferId<TChannel extends Channel> = TChannel extends Channel<infer Id, any> ? Id : string;
    export type AsChannel<T extends Channel | string> = T extends Channel
      ? T
      : T extends string
        ? Channel<T>
        : never;
    export type InferTopics<TChannel extends Channel | Definition> =
      TChannel extends Definition<any, infer T>
        ? T
        : TChannel extends Channel<any, infer T>
          ? T
          : Record<string, Topic.Definition>;

    /** A callable channel definition: call it (with the builder's arguments) to get a channel. */
    export interface Definition<
      TBuilder extends BuilderFn = (...args: any[]) => string,
      TTopics extends Record<string, Topic.Definition> = Record<string, Topic.Definition>,
    > {
      (...args: Parameters<TBuilder>): Channel<ReturnType<TBuilder>, TTopics>;
      /** Returns a new definition with the topic added (the original is left as it was). */
      addTopic<UTopic extends Topic.Definition>(
        topic: UTopic,
      ): Definition<TBuilder, AddTopic<TTopics, UTopic>>;
      topics: TTopics;
    }

    export namespace Definition {
      export type InferId<T extends Definition> = T extends Definition<infer B, any> ? ReturnType<B> : string;
      export type InferTopics<T extends Definition> =
        T extends Definition<any, infer Topics> ? Topics : Record<string, Topic.Definition>;
      export type AsChannel<T extends Definition | Channel> = T extends Definition
        ? Channel<InferId<T>, InferTopics<T>>
        : T extends Channel
          ? T
          : never;
    }

    /** The topics after adding one; a later topic with the same name replaces the earlier. */
    export type AddTopic<TCurrent extends Record<string, Topic.Definition>, TAdded extends Topic.Definition> =
      IsStringLiteral<keyof TCurrent & string> extends true
        ? Simplify<Omit<TCurrent, TAdded['name']> & Record<TAdded['name'], TAdded>>
        : Record<TAdded['name'], TAdded>;

    export type BuilderFn<TChannelId extends string = string> = (...args: any[]) => TChannelId;

    export type Builder = <
      const TChannelId extends string,
      const TIdInput extends TChannelId | BuilderFn<TChannelId>,
    >(
      id: TIdInput,
    ) => TIdInput extends TChannelId
      ? Definition<() => TIdInput>
      : TIdInput extends BuilderFn<TChannelId>
        ? Definition<TIdInput>
        : never;
  }

  /** A topic function: validates `data` and resolves to the message to publish. */
  export type Topic<
    TChannelId extends string = string,
    TTopic extends Topic.Definition = Topic.Definition,
  > = (
    data: Topic.InferPublish<TTopic>,
  ) => Promise<Message.Input<TChannelId, Topic.InferId<TTopic>, Topic.InferPublish<TTopic>>>;

  export namespace Topic {
    export type Like = { name: string };

    export interface Definition<TTopicId extends string = string, TPublish = any, _TSubscribe = TPublish> {
      name: TTopicId;
      type<const UPublish>(): Definition<TTopicId, UPublish>;
      schema<const TSchema extends StandardSchemaV1>(
        schema: TSchema,
      ): Definition<TTopicId, StandardSchemaV1.InferInput<TSchema>, StandardSchemaV1.InferOutput<TSchema>>;
      getSchema(): StandardSchemaV1 | undefined;
    }

    export type InferId<T extends Definition> = T extends Definition<infer Id, any, any> ? Id : string;
    export type InferPublish<T extends Definition> = T extends Definition<any, infer P, any> ? P : any;
    export type InferSubscribe<T extends Definition> = T extends Definition<any, any, infer S> ? S : any;

    export type Builder = <const TTopicId extends string>(id: TTopicId) => Definition<TTopicId>;
  }
}
