/**
 * The Redis engine: several Herald nodes share one Redis (or Redis Cluster) and see one order per
 * channel. Publishing is one Lua script (next seq, append to a capped Redis Stream, PUBLISH to the
 * channel's live feed). A node SUBSCRIBEs to a channel's live feed while it has local subscribers
 * of it. History is read from the stream, so any node can replay any channel.
 *
 * Keys per channel, hash-tagged so they share a Cluster slot:
 * `<prefix>:{<env>:<channel>}:meta` (hash: epoch, seq), `…:stream` (history), `…:idem:<key>`
 * (idempotency acks); live feed: the pub/sub channel `…:live`.
 *
 * When Redis is unreachable, publish fails fast with EngineUnavailableError (503: nothing is
 * acknowledged that was not stored). When the live feed's connection drops, this node cannot know
 * what it missed, so it tells the hub (`onFeedLost`), which closes local subscribers with a
 * reconnect code: they come back and resume from history.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { splitChannelKey } from '../protocol/topic.js';
import {
  type Ack,
  type Draft,
  type Engine,
  type EngineHealth,
  type EngineSink,
  EngineUnavailableError,
  type HistoryQuery,
  type HistoryResult,
  type Publication,
  type PublishOptions,
} from './engine.js';
import { newEpoch } from './epoch.js';
import { HISTORY_SCRIPT, PUBLISH_SCRIPT } from './redis-scripts.js';

export interface RedisEngineOptions {
  url: string;
  /** Prefix of every key and pub/sub channel. */
  prefix?: string;
  historySize: number;
  historyTtlMs: number;
  idempotencyWindowMs: number;
  /** A command that takes longer fails (and publish answers 503), in milliseconds. */
  commandTimeoutMs?: number;
}

/** Channel state outlives its history by this much, so a quiet channel keeps its epoch. */
const META_EXTRA_TTL_MS = 24 * 3600 * 1000;

type Entry = [id: string, fields: string[]];

interface RedisWithScripts extends Redis {
  heraldPublish(...args: (string | number)[]): Promise<[number, string]>;
  heraldHistory(...args: (string | number)[]): Promise<[string, string, Entry[]]>;
}

export class RedisEngine implements Engine {
  readonly name = 'redis';
  private readonly prefix: string;
  private readonly cmd: RedisWithScripts;
  private readonly sub: Redis;
  private sink: EngineSink | undefined;
  /** live channel name → channel key, with how many times the hub subscribed it. */
  private readonly live = new Map<string, { key: string; refs: number }>();
  private feedUp = false;
  private closed = false;

  constructor(private readonly options: RedisEngineOptions) {
    this.prefix = options.prefix ?? 'herald';
    const common: RedisOptions = {
      lazyConnect: true,
      // Reconnect forever, backing off to 2 s.
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      commandTimeout: options.commandTimeoutMs ?? 5000,
    };
    // Fail fast while disconnected: a publish must answer 503, not wait for Redis to come back.
    this.cmd = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    }) as RedisWithScripts;
    this.cmd.defineCommand('heraldPublish', { numberOfKeys: 3, lua: PUBLISH_SCRIPT });
    this.cmd.defineCommand('heraldHistory', { numberOfKeys: 2, lua: HISTORY_SCRIPT });
    this.sub = new Redis(options.url, { ...common, commandTimeout: undefined, autoResubscribe: true });
    this.cmd.on('error', () => {});
    this.sub.on('error', () => {});
  }

  async start(sink: EngineSink): Promise<void> {
    this.sink = sink;
    this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.sub.on('ready', () => {
      this.feedUp = true;
    });
    this.sub.on('close', () => {
      if (this.feedUp && !this.closed) this.sink?.onFeedLost?.('redis live feed connection lost');
      this.feedUp = false;
    });
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()]);
    } catch (err) {
      throw new Error(`cannot connect to Redis at ${redact(this.options.url)}: ${(err as Error).message}`);
    }
    this.feedUp = true;
  }

  private keys(channelKey: string) {
    const { env, channel } = splitChannelKey(channelKey);
    const base = `${this.prefix}:{${env}:${channel}}`;
    return { meta: `${base}:meta`, stream: `${base}:stream`, live: `${base}:live`, idem: `${base}:idem:` };
  }

  private get metaTtlMs(): number {
    return this.options.historyTtlMs + META_EXTRA_TTL_MS;
  }

  async publish(draft: Draft, options?: PublishOptions): Promise<Ack> {
    const k = this.keys(draft.channelKey);
    const idem = options?.idempotencyKey;
    let reply: [number, string];
    try {
      reply = await this.cmd.heraldPublish(
        k.meta,
        k.stream,
        idem ? k.idem + idem : k.meta,
        draft.body,
        draft.topic,
        draft.kind,
        Date.now(),
        this.options.historySize,
        Math.max(1, Math.round(this.options.historyTtlMs)),
        idem ? Math.max(1, Math.round(this.options.idempotencyWindowMs)) : 0,
        k.live,
        newEpoch(),
        randomUUID(),
        this.metaTtlMs,
      );
    } catch (err) {
      throw new EngineUnavailableError(
        `Redis is unreachable; the message was not published: ${(err as Error).message}`,
      );
    }
    const [id, epoch, seq] = reply[1].split(' ');
    return { id: id as string, epoch: epoch as string, seq: Number(seq), duplicate: reply[0] === 1 };
  }

  async publishRaw(channelKey: string, topic: string, text: string): Promise<void> {
    try {
      await this.cmd.publish(this.keys(channelKey).live, `r\n${topic}\n${text}`);
    } catch (err) {
      throw new EngineUnavailableError(`Redis is unreachable: ${(err as Error).message}`);
    }
  }

  async subscribe(channelKey: string): Promise<void> {
    const name = this.keys(channelKey).live;
    const entry = this.live.get(name);
    if (entry) {
      entry.refs++;
      return;
    }
    // Fail fast rather than wait for Redis: the client retries with backoff and resumes.
    if (!this.feedUp) throw new EngineUnavailableError('the Redis live feed is down');
    this.live.set(name, { key: channelKey, refs: 1 });
    try {
      await this.sub.subscribe(name);
    } catch (err) {
      const e = this.live.get(name);
      if (e && --e.refs === 0) this.live.delete(name);
      throw new EngineUnavailableError(`cannot subscribe to Redis: ${(err as Error).message}`);
    }
  }

  async unsubscribe(channelKey: string): Promise<void> {
    const name = this.keys(channelKey).live;
    const entry = this.live.get(name);
    if (!entry || --entry.refs > 0) return;
    this.live.delete(name);
    await this.sub.unsubscribe(name).catch(() => {});
  }

  async history(channelKey: string, query: HistoryQuery): Promise<HistoryResult> {
    const since = query.since;
    const limit = Math.min(query.limit ?? this.options.historySize, this.options.historySize);
    const first = since === undefined || since === 'oldest' ? 0 : since.seq + 1;
    const read = async (from: number, count: number) => {
      try {
        return await this.cmd.heraldHistory(
          this.keys(channelKey).meta,
          this.keys(channelKey).stream,
          from,
          count,
          newEpoch(),
          this.metaTtlMs,
        );
      } catch (err) {
        throw new EngineUnavailableError(`Redis is unreachable: ${(err as Error).message}`);
      }
    };
    const cutoff = Date.now() - this.options.historyTtlMs;
    const [epoch, topRaw, entries] = await read(first, since === undefined ? 0 : limit);
    const top = { epoch, seq: Number(topRaw) };
    if (since === undefined) return { top, publications: [], recovered: true };
    const pubs = this.fresh(channelKey, epoch, entries, cutoff);
    if (since === 'oldest')
      return { top, publications: pubs, recovered: pubs.length === 0 ? top.seq === 0 : pubs[0]?.seq === 1 };
    const continuous =
      since.epoch === epoch &&
      since.seq <= top.seq &&
      (since.seq === top.seq || (pubs.length > 0 && pubs[0]?.seq === since.seq + 1));
    if (continuous) return { top, publications: pubs, recovered: true };
    // Not recoverable: answer with what is kept, from the oldest.
    const [, , all] = await read(0, limit);
    return { top, publications: this.fresh(channelKey, epoch, all, cutoff), recovered: false };
  }

  /** Entries as publications, without those that aged out of the window. */
  private fresh(channelKey: string, epoch: string, entries: Entry[], cutoff: number): Publication[] {
    const out: Publication[] = [];
    for (const [id, fields] of entries) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
      if (Number(f.a) < cutoff) continue;
      out.push({
        channelKey,
        topic: f.t as string,
        kind: f.k as Publication['kind'],
        epoch,
        seq: Number(id.slice(0, id.indexOf('-'))),
        json: f.j as string,
      });
    }
    return out;
  }

  private onMessage(channel: string, message: string): void {
    const entry = this.live.get(channel);
    if (entry === undefined || this.sink === undefined) return;
    // "m\n<kind>\n<topic>\n<seq>\n<epoch>\n<json>" or "r\n<topic>\n<text>" (names have no newlines).
    if (message.startsWith('r\n')) {
      const nl = message.indexOf('\n', 2);
      this.sink.onRaw(entry.key, message.slice(2, nl), message.slice(nl + 1));
      return;
    }
    let at = 2;
    const next = () => {
      const nl = message.indexOf('\n', at);
      const s = message.slice(at, nl);
      at = nl + 1;
      return s;
    };
    const kind = next() as Publication['kind'];
    const topic = next();
    const seq = Number(next());
    const epoch = next();
    this.sink.onPublication({ channelKey: entry.key, topic, kind, epoch, seq, json: message.slice(at) });
  }

  health(): EngineHealth {
    const ok = this.cmd.status === 'ready' && this.sub.status === 'ready';
    return ok
      ? { ok, engine: this.name }
      : {
          ok,
          engine: this.name,
          detail: `redis unreachable (commands: ${this.cmd.status}, feed: ${this.sub.status})`,
        };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.cmd.quit(), this.sub.quit()]);
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}
