/**
 * Local fan-out. The hub knows which local connection subscribed to which (channel, topic), keeps
 * the engine subscribed to exactly the channels that have local subscribers (reference counted),
 * and hands each publication to the connections of its topic — a `run` frame (a run's lifecycle)
 * to every connection of the channel, once each, whatever topics it holds. It never waits on a
 * connection: each has its own bounded queue (see `connection.ts`).
 */
import type { Engine, EngineSink, Publication } from '../engine/engine.js';
import { CloseCodes } from '../protocol/close-codes.js';
import type { Connection } from './connection.js';

interface ChannelEntry {
  /** topic → connections subscribed to it. */
  topics: Map<string, Set<Connection>>;
  /** Resolves once the engine delivers this channel's publications to this node. */
  ready: Promise<void>;
  /** Number of (connection, topic) pairs; the engine subscription lives while it is > 0. */
  refs: number;
  /** Publications this node received for the channel since it was first subscribed here. */
  received: number;
  /** The last one's position. */
  lastSeq: number;
  lastEpoch: string;
}

/** One channel as the inspector sees it. */
export interface ChannelStats {
  channelKey: string;
  subscribers: number;
  topics: Record<string, number>;
  received: number;
  epoch: string;
  seq: number;
}

export interface HubStats {
  connections: number;
  subscriptions: number;
  channels: number;
}

/**
 * Each connection subscribed to any topic of the channel, once. Run frames are rare (a few per
 * run), so the union is built when one comes rather than kept for every channel.
 */
function channelConnections(entry: ChannelEntry): Iterable<Connection> {
  if (entry.topics.size === 1) return entry.topics.values().next().value as Set<Connection>;
  const all = new Set<Connection>();
  for (const set of entry.topics.values()) for (const c of set) all.add(c);
  return all;
}

export class Hub implements EngineSink {
  readonly connections = new Set<Connection>();
  private readonly channels = new Map<string, ChannelEntry>();
  private subscriptionCount = 0;

  constructor(
    private readonly engine: Engine,
    private readonly onConnectionError?: (c: Connection, err: unknown) => void,
  ) {}

  onPublication(pub: Publication): void {
    const entry = this.channels.get(pub.channelKey);
    if (entry === undefined) return;
    entry.received++;
    entry.lastSeq = pub.seq;
    entry.lastEpoch = pub.epoch;
    const subs = pub.kind === 'run' ? channelConnections(entry) : entry.topics.get(pub.topic);
    if (subs === undefined) return;
    for (const c of subs) {
      try {
        c.deliver(pub);
      } catch (err) {
        this.failed(c, err);
      }
    }
    // The framed copies served this fan-out (the queues hold them now); the engine's history keeps
    // the publication for minutes, and must not keep its frames too (a replay frames it again).
    pub.encoded = undefined;
  }

  /** Raw text to every local subscriber of one topic (for `/publish/tee`; not sequenced). */
  onRaw(channelKey: string, topic: string, text: string): void {
    const subs = this.channels.get(channelKey)?.topics.get(topic);
    if (subs === undefined) return;
    for (const c of subs) {
      try {
        c.deliverRaw(text);
      } catch (err) {
        this.failed(c, err);
      }
    }
  }

  /** The engine may have dropped publications: every subscriber resumes from history. */
  onFeedLost(reason: string): void {
    for (const c of this.connections) c.close(CloseCodes.FeedLost, `${reason}; reconnect and resume`);
  }

  /** A connection that throws on delivery is closed; it never breaks delivery to the others. */
  private failed(c: Connection, err: unknown): void {
    this.onConnectionError?.(c, err);
    c.close(CloseCodes.InternalError);
  }

  add(c: Connection): void {
    this.connections.add(c);
  }

  /**
   * Subscribes a connection to a topic. The connection is registered before this resolves and
   * before the engine confirms, so nothing published after the call is missed (F5); it resolves
   * once the engine delivers the channel to this node. Returns false if it was already subscribed.
   */
  async subscribe(c: Connection, channelKey: string, topic: string): Promise<boolean> {
    // A connection that already left (e.g. closed while its sub frame's token was checked) must
    // not leave subscriptions behind that nothing would ever release.
    if (!this.connections.has(c)) return false;
    let topics = c.subscriptions.get(channelKey);
    if (topics?.includes(topic)) return false;
    let entry = this.channels.get(channelKey);
    if (entry === undefined) {
      entry = {
        topics: new Map(),
        ready: this.engine.subscribe(channelKey),
        refs: 0,
        received: 0,
        lastSeq: 0,
        lastEpoch: '',
      };
      this.channels.set(channelKey, entry);
    }
    let set = entry.topics.get(topic);
    if (set === undefined) {
      set = new Set();
      entry.topics.set(topic, set);
    }
    set.add(c);
    entry.refs++;
    if (topics === undefined) {
      topics = [];
      c.subscriptions.set(channelKey, topics);
    }
    topics.push(topic);
    this.subscriptionCount++;
    try {
      await entry.ready;
    } catch (err) {
      this.unsubscribe(c, channelKey, topic);
      throw err;
    }
    return true;
  }

  /** Returns false if the connection was not subscribed to it. */
  unsubscribe(c: Connection, channelKey: string, topic: string): boolean {
    const topics = c.subscriptions.get(channelKey);
    const at = topics === undefined ? -1 : topics.indexOf(topic);
    if (topics === undefined || at < 0) return false;
    topics.splice(at, 1);
    if (topics.length === 0) c.subscriptions.delete(channelKey);
    this.subscriptionCount--;
    const entry = this.channels.get(channelKey);
    if (entry === undefined) return true;
    const set = entry.topics.get(topic);
    set?.delete(c);
    if (set?.size === 0) entry.topics.delete(topic);
    if (--entry.refs === 0) {
      this.channels.delete(channelKey);
      // Errors here only mean the engine already lost the subscription; nothing to undo.
      entry.ready.then(() => this.engine.unsubscribe(channelKey)).catch(() => {});
    }
    return true;
  }

  /** Removes a connection and all its subscriptions. */
  remove(c: Connection): void {
    if (!this.connections.delete(c)) return;
    for (const [channelKey, topics] of [...c.subscriptions]) {
      for (const topic of [...topics]) this.unsubscribe(c, channelKey, topic);
    }
  }

  /** Every channel with local subscribers (for the inspector; O(subscriptions)). */
  channelStats(): ChannelStats[] {
    const out: ChannelStats[] = [];
    for (const [channelKey, entry] of this.channels) {
      const topics: Record<string, number> = {};
      const conns = new Set<Connection>();
      for (const [topic, set] of entry.topics) {
        topics[topic] = set.size;
        for (const c of set) conns.add(c);
      }
      out.push({
        channelKey,
        subscribers: conns.size,
        topics,
        received: entry.received,
        epoch: entry.lastEpoch,
        seq: entry.lastSeq,
      });
    }
    return out;
  }

  stats(): HubStats {
    return {
      connections: this.connections.size,
      subscriptions: this.subscriptionCount,
      channels: this.channels.size,
    };
  }
}
