/**
 * The in-memory engine: one process, zero setup. Publishing is synchronous inside the process, so
 * the order in which `publish` is called is the channel's order. Memory is bounded: each channel
 * keeps at most `historySize` messages for at most `historyTtlMs`; a channel with no subscribers and
 * no history left is forgotten (its next message starts a new epoch).
 */
import { randomUUID } from 'node:crypto';
import { withPosition } from '../protocol/message.js';
import type {
  Ack,
  Draft,
  Engine,
  EngineHealth,
  EngineSink,
  HistoryQuery,
  HistoryResult,
  Publication,
  PublishOptions,
} from './engine.js';
import { newEpoch } from './epoch.js';
import { HistoryRing } from './history-ring.js';

export interface MemoryEngineOptions {
  /** Messages kept per channel. 0 keeps none (positions still count). */
  historySize: number;
  /** How long a message stays in history, in milliseconds. */
  historyTtlMs: number;
  /** How long an idempotency key is remembered, in milliseconds. */
  idempotencyWindowMs: number;
  /** How often expired history and idempotency keys are swept, in milliseconds. */
  sweepIntervalMs?: number;
}

interface ChannelState {
  /** The channel key, one string shared by every publication of the channel. */
  key: string;
  /** Topic names seen on the channel (at most MAX_INTERNED), likewise shared. */
  topics: Map<string, string>;
  epoch: string;
  seq: number;
  ring: HistoryRing;
  /** Local subscriptions (from the hub); a subscribed channel is never forgotten. */
  subscribers: number;
  lastPublishAt: number;
}

/**
 * History keeps every publication for minutes: a channel key and topic string per message would be
 * a third of a small message's heap, so publications share the channel's copies. Bounded, so a
 * publisher inventing topics cannot grow the table.
 */
const MAX_INTERNED = 64;

interface Remembered {
  ack: Ack;
  expiresAt: number;
}

export class MemoryEngine implements Engine {
  readonly name = 'memory';
  private readonly channels = new Map<string, ChannelState>();
  private readonly idempotency = new Map<string, Remembered>();
  private sink: EngineSink | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly options: MemoryEngineOptions) {}

  async start(sink: EngineSink): Promise<void> {
    this.sink = sink;
    const every =
      this.options.sweepIntervalMs ?? Math.min(Math.max(this.options.historyTtlMs / 4, 1000), 30_000);
    this.sweeper = setInterval(() => this.sweep(Date.now()), every);
    this.sweeper.unref();
  }

  async publish(draft: Draft, options?: PublishOptions): Promise<Ack> {
    const now = Date.now();
    let idemKey: string | undefined;
    if (options?.idempotencyKey) {
      idemKey = `${draft.channelKey}\u0000${options.idempotencyKey}`;
      const seen = this.idempotency.get(idemKey);
      if (seen && seen.expiresAt > now) return { ...seen.ack, duplicate: true };
    }
    const state = this.state(draft.channelKey);
    const seq = ++state.seq;
    let topic = state.topics.get(draft.topic);
    if (topic === undefined) {
      topic = draft.topic;
      if (state.topics.size < MAX_INTERNED) state.topics.set(topic, topic);
    }
    const pub: Publication = {
      channelKey: state.key,
      topic,
      kind: draft.kind,
      epoch: state.epoch,
      seq,
      json: withPosition(draft.body, state.epoch, seq),
    };
    state.ring.push(pub, now);
    state.lastPublishAt = now;
    const ack: Ack = { id: randomUUID(), epoch: state.epoch, seq, duplicate: false };
    if (idemKey) {
      // Re-insert so the map stays ordered by expiry and the sweep can stop at the first live key.
      this.idempotency.delete(idemKey);
      this.idempotency.set(idemKey, { ack, expiresAt: now + this.options.idempotencyWindowMs });
    }
    if (state.subscribers > 0) this.sink?.onPublication(pub);
    return ack;
  }

  async publishRaw(channelKey: string, topic: string, text: string): Promise<void> {
    if ((this.channels.get(channelKey)?.subscribers ?? 0) > 0) this.sink?.onRaw(channelKey, topic, text);
  }

  async subscribe(channelKey: string): Promise<void> {
    this.state(channelKey).subscribers++;
  }

  async unsubscribe(channelKey: string): Promise<void> {
    const s = this.channels.get(channelKey);
    if (s && s.subscribers > 0) s.subscribers--;
  }

  async history(channelKey: string, query: HistoryQuery): Promise<HistoryResult> {
    const state = this.state(channelKey);
    state.ring.dropOlderThan(Date.now() - this.options.historyTtlMs);
    const top = { epoch: state.epoch, seq: state.seq };
    const since = query.since;
    if (since === undefined) return { top, publications: [], recovered: true };
    const limit = query.limit ?? Number.POSITIVE_INFINITY;
    // The oldest seq still available; top.seq + 1 when nothing is kept.
    const oldestKept = state.ring.oldestSeq() ?? state.seq + 1;
    if (since === 'oldest') {
      return { top, publications: state.ring.since(0, limit), recovered: oldestKept <= 1 };
    }
    const continuous = since.epoch === state.epoch && since.seq <= state.seq && oldestKept <= since.seq + 1;
    if (!continuous) return { top, publications: state.ring.since(0, limit), recovered: false };
    return { top, publications: state.ring.since(since.seq, limit), recovered: true };
  }

  health(): EngineHealth {
    return { ok: true, engine: this.name };
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Number of channels held in memory (for metrics and tests). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Drops expired history, forgets idle channels, expires idempotency keys. */
  sweep(now: number): void {
    const cutoff = now - this.options.historyTtlMs;
    for (const [key, s] of this.channels) {
      s.ring.dropOlderThan(cutoff);
      if (s.subscribers === 0 && s.ring.length === 0 && s.lastPublishAt < cutoff) this.channels.delete(key);
    }
    for (const [key, r] of this.idempotency) {
      if (r.expiresAt > now) break;
      this.idempotency.delete(key);
    }
  }

  private state(channelKey: string): ChannelState {
    let s = this.channels.get(channelKey);
    if (!s) {
      s = {
        key: channelKey,
        topics: new Map(),
        epoch: newEpoch(),
        seq: 0,
        ring: new HistoryRing(this.options.historySize),
        subscribers: 0,
        lastPublishAt: Date.now(),
      };
      this.channels.set(channelKey, s);
    }
    return s;
  }
}
