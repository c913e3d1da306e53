/**
 * The engine orders, stores and distributes messages. It is the only place that assigns positions,
 * so every node and every subscriber sees one order per channel.
 *
 * Implementations: `memory.ts` (one process, the default) and, for several nodes, a Redis engine
 * behind this same contract. One test suite (`engine.suite.ts`) runs against each.
 *
 * Terms:
 * - A **channel** is identified by its key (`channelKey(env, channel)`): ordering, history and node
 *   subscriptions are per channel, across all its topics.
 * - A **position** is `(epoch, seq)`. `seq` counts every message accepted on the channel, starting
 *   at 1, with no gaps. `epoch` is an opaque string that changes only when the channel's sequence
 *   state is lost (evicted, expired with nobody subscribed, or the store was wiped), so a client can
 *   tell "you missed nothing" from "history is gone".
 * - **Accepted** means stored: `publish` resolves only once the message has its position and is in
 *   the channel's history (when history is kept), and it will reach every live subscriber.
 * - The **history window** is bounded by count (`historySize` newest messages) and age
 *   (`historyTtlMs`). Messages outside it are gone; asking for them yields `recovered: false`.
 */
import type { MessageFields } from '../protocol/message.js';

export interface Position {
  epoch: string;
  seq: number;
}

/** A message the engine accepted, with its position. */
export interface Publication {
  /** Key of the channel (env + channel name). */
  readonly channelKey: string;
  readonly topic: string;
  readonly kind: MessageFields['kind'];
  readonly epoch: string;
  readonly seq: number;
  /** The complete JSON frame (with `epoch` and `seq`), exactly what subscribers receive. */
  readonly json: string;
  /**
   * Per-transport encodings of `json`, filled lazily by the transports so each message is framed
   * once per transport, not once per subscriber.
   */
  encoded?: { ws?: Buffer; sse?: Buffer; sseId?: Buffer };
}

/** What the protocol layer hands to the engine: an encoded message that has no position yet. */
export interface Draft {
  channelKey: string;
  topic: string;
  kind: MessageFields['kind'];
  /** `encodeBody(...)`: the JSON frame without its closing brace. */
  body: string;
}

export interface PublishOptions {
  /**
   * A retry carrying the same key within the idempotency window gets the first acknowledgement back
   * and the message is not published again.
   */
  idempotencyKey?: string;
}

export interface Ack {
  /** Unique id of the accepted message (the same on an idempotent retry). */
  id: string;
  epoch: string;
  seq: number;
  /** True when this answers a retry of an already-accepted publish. */
  duplicate: boolean;
}

export interface HistoryQuery {
  /**
   * Return messages after this position, or from the oldest kept message (`'oldest'`).
   * Omitted: no messages, only the current position.
   */
  since?: Position | 'oldest';
  /** At most this many messages (the newest are cut, never the oldest, so a client can page). */
  limit?: number;
}

export interface HistoryResult {
  /** The channel's current position (seq 0 when nothing was published in this epoch). */
  top: Position;
  /** Messages after `since`, oldest first. */
  publications: Publication[];
  /**
   * False when `since` could not be honoured: its epoch is not the current one, or messages after
   * it fell out of the window. The publications then start at the oldest kept message.
   */
  recovered: boolean;
}

/** Where an engine delivers what is published on the channels this node subscribed to. */
export interface EngineSink {
  /** Every publication, in seq order per channel. */
  onPublication(pub: Publication): void;
  /** Raw, unsequenced text (`/publish/tee`), in the order it was published. */
  onRaw(channelKey: string, topic: string, text: string): void;
  /**
   * Live delivery was interrupted (e.g. the connection to Redis dropped): publications may have
   * been missed, so subscribers must resume from history.
   */
  onFeedLost?(reason: string): void;
}

export interface EngineHealth {
  ok: boolean;
  engine: string;
  detail?: string;
}

export interface Engine {
  readonly name: string;
  /** Starts delivering publications of subscribed channels to `sink`. */
  start(sink: EngineSink): Promise<void>;
  /** Orders and stores a message; resolves once it is accepted (see the file comment). */
  publish(draft: Draft, options?: PublishOptions): Promise<Ack>;
  /**
   * Forwards raw text to a topic's subscribers on every node, without a position and without
   * history (Durable Endpoints' tee stream is opaque bytes, not messages).
   */
  publishRaw(channelKey: string, topic: string, text: string): Promise<void>;
  /**
   * This node wants live publications of a channel (the hub calls it when the channel gets its
   * first local subscriber). Resolves once publications after this call are sure to arrive.
   */
  subscribe(channelKey: string): Promise<void>;
  /** The node's last local subscriber of the channel left. */
  unsubscribe(channelKey: string): Promise<void>;
  history(channelKey: string, query: HistoryQuery): Promise<HistoryResult>;
  health(): EngineHealth;
  close(): Promise<void>;
}

/** Error thrown by `publish` when the store cannot accept messages (answered with 503). */
export class EngineUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}
