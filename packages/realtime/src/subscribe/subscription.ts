/**
 * One subscription: one WebSocket to Herald, its frames checked, ordered, deduplicated and fanned
 * out to the subscription's streams and callbacks.
 *
 * - Order: frames are handled one at a time in arrival order, even when a schema validates
 *   asynchronously (0.4.7 could reorder them, W23).
 * - Positions: every sequenced frame carries its channel's `epoch`/`seq`; the last delivered one is
 *   kept per channel and anything at or below it is dropped, so replays can never duplicate.
 * - Reconnect (on by default): when the connection is lost with a code that asks for it (1001,
 *   1006, 1011, 4000–4499), the subscription reconnects with exponential backoff and full jitter —
 *   at once after the server's `closing` frame or the browser's `online` event — and resumes from
 *   its last position (`?since=`), so the streams see no gap and no duplicate. The server's
 *   `subscribed` frame says whether the resume was complete (`recovered`). A refused or expired
 *   token (4001) is replaced first (`refreshToken`, or a fresh fetch), once per attempt. Silence
 *   longer than `heartbeatTimeoutMs` (the server sends heartbeats) counts as a lost connection.
 * - Run lifecycle messages (kind `run`, for the whole channel) count as positions like any message,
 *   and are delivered only to a subscription that asked for them (`runLifecycle`): 0.4.7 never
 *   delivered them, and its code does not expect a message without a topic.
 * - Ending: `close()` delivers what was received, then ends every stream normally (W2); a terminal
 *   close code, or a lost connection with reconnect off, ends them with a `ConnectionError` (W15)
 *   carrying the close code and what it asks a client to do.
 * - Connecting rejects with an Error, never hangs: on an error, a close before open (W8), or after
 *   `connectTimeoutMs` (W7).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { connectUrl } from '../base-url.js';
import { actionForCloseCode, CloseCodes } from '../close-codes.js';
import { ConnectionError, RealtimeError, ValidationError } from '../errors.js';
import { validate } from '../schema.js';
import { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from '../websocket.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { DEFAULT_MAX_BUFFERED } from './bounded-stream.js';
import {
  type Delivery,
  type EncodedFormat,
  encodedMapper,
  MAX_OPEN_DATASTREAMS,
  messageMapper,
  type OutMessage,
} from './delivery.js';
import { Fanout } from './fanout.js';
import { type Frame, parseFrame } from './frame.js';
import { jwtExpiresAt } from './jwt-expiry.js';
import type { Position } from './position.js';

export type { Position } from './position.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface SubscriptionOptions {
  channel: string;
  topics: readonly string[];
  /** Topic schemas, for validation on receipt. */
  schemas: ReadonlyMap<string, StandardSchemaV1>;
  /** Produces the JWT to connect with (a given key, or a lazy fetch). */
  jwt: () => Promise<string>;
  /** Whether `jwt` fetches a new token each call (no fixed key), so an expired one can be replaced. */
  canFetchToken?: boolean | undefined;
  baseUrl: string;
  WebSocket?: WebSocketConstructor | undefined;
  /** Validate payloads against topic schemas on receipt (default true). */
  validate?: boolean | undefined;
  connectTimeoutMs?: number | undefined;
  maxBufferedMessages?: number | undefined;
  /** Called for invalid messages and connection loss; without it those end the streams with the error. */
  onError?: ((error: Error) => void) | undefined;
  /** Reconnect and resume after a lost connection (default true), with these delays. */
  reconnect?: boolean | BackoffOptions | undefined;
  /** Produces a fresh token when the current one expired or was refused. */
  refreshToken?: (() => Promise<string>) | undefined;
  /** Called on every state change, with why. */
  onStateChange?: ((state: SubscriptionState, info: StateInfo) => void) | undefined;
  /** A connection silent for this long is presumed dead (default 45 000 ms; 0 disables). */
  heartbeatTimeoutMs?: number | undefined;
  /** Where the first connection starts: live (default), the oldest message kept, or after a position. */
  since?: 'oldest' | Position | undefined;
  /**
   * Deliver the channel's run lifecycle messages (kind `run`) too. Without it they are still
   * counted as positions (so resume and deduplication hold) but not delivered.
   */
  runLifecycle?: boolean | undefined;
}

/** What a subscription is doing. */
export type SubscriptionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateInfo {
  /** The close code that ended the previous connection, if any. */
  closeCode?: number;
  reason?: string;
  /** Why a reconnect gave up or the subscription failed. */
  error?: Error;
  /** Reconnect attempt number (1 for the first). */
  attempt?: number;
  /**
   * On `open` after a reconnect: false when the server could not replay everything missed (the
   * position left its history window or the history was lost): refetch state.
   */
  recovered?: boolean;
}

/** Server heartbeats come every 15 s by default; three missed ones mean the connection is dead. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 45_000;

type State = 'idle' | SubscriptionState;

/** Herald's position of a sequenced frame. */
function positionOfFrame(frame: Frame): Position | undefined {
  return frame.epoch !== undefined && frame.seq !== undefined
    ? { epoch: frame.epoch, seq: frame.seq }
    : undefined;
}

export class Subscription {
  private readonly fanout = new Fanout<Delivery>();
  private readonly topics: Set<string>;
  private readonly positions = new Map<string, Position>();
  /** stream id → channel/topic, from datastream-start (Inngest's chunk frames carry neither). */
  private readonly datastreams = new Map<string, { channel: string; topic: string }>();
  private ws: WebSocketLike | undefined;
  private state: State = 'idle';
  private jwt: string | undefined;
  /** The next connect must use a new token (the last one expired or was refused). */
  private needsFreshToken = false;
  private attempt = 0;
  /** The server announced a shutdown: reconnect at once. */
  private serverClosing = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the current socket last delivered a frame (for the silence timer). */
  private lastFrameAt = 0;
  private wakeRetry: (() => void) | undefined;
  private removeOnline: (() => void) | undefined;
  /** Whether `open` after the last reconnect was a complete resume; set by the `subscribed` frame. */
  private recovered: boolean | undefined;
  /** Frames wait here while an asynchronous validation is in progress, to keep their order. */
  private chain: Promise<void> | undefined;
  private readonly maxBuffered: number;
  /**
   * What reached the subscription before `start()`: the first connection can deliver frames (a
   * replay, with `since`) in the same tick as it opens — Node's `ws` does — before `subscribe()` has
   * attached its streams. Bounded by what one socket read holds.
   */
  private beforeStart: (() => void)[] | undefined = [];

  constructor(private readonly options: SubscriptionOptions) {
    this.topics = new Set(options.topics);
    this.maxBuffered = options.maxBufferedMessages ?? DEFAULT_MAX_BUFFERED;
    // A given position is resumed from exactly as after a reconnect: the server says whether it
    // could replay everything since (`recovered`), and nothing at or before it is delivered.
    const since = options.since;
    if (since !== undefined && since !== 'oldest')
      this.positions.set(options.channel, { epoch: since.epoch, seq: since.seq });
  }

  /** The last position delivered for each channel (what a resume would start from). */
  position(channel: string): Position | undefined {
    const p = this.positions.get(channel);
    return p ? { ...p } : undefined;
  }

  /** Outputs currently attached (streams and callbacks). */
  outputs(): number {
    return this.fanout.size();
  }

  /** The current state. */
  get currentState(): SubscriptionState {
    return this.state === 'idle' ? 'connecting' : this.state;
  }

  /** Opens the first connection; rejects with an Error if it cannot (W7, W8). */
  async connect(): Promise<void> {
    if (this.state !== 'idle') throw new RealtimeError('invalid_argument', 'connect() can be called once');
    this.setState('connecting', {});
    const Ctor = await resolveWebSocket(this.options.WebSocket);
    try {
      await this.openSocket(Ctor);
    } catch (err) {
      this.state = 'closed';
      throw err;
    }
    this.watchOnline(Ctor);
  }

  /** The outputs are attached: deliver what arrived meanwhile, then everything as it comes. */
  start(): void {
    const waiting = this.beforeStart ?? [];
    this.beforeStart = undefined;
    for (const op of waiting) op();
  }

  private toOutputs(op: () => void): void {
    if (this.beforeStart) this.beforeStart.push(op);
    else op();
  }

  /** Ends the subscription: what was received is still delivered, then every stream ends normally. */
  close(reason = 'Userland closed connection'): void {
    if (this.state === 'closed') return;
    const ws = this.ws;
    const wasOpen = this.state === 'open';
    this.stopTimers();
    this.setState('closed', { reason });
    this.afterPending(() => this.toOutputs(() => this.fanout.close()));
    if (wasOpen && ws) ws.close(CloseCodes.Normal.code, reason.slice(0, 120));
  }

  private setState(state: SubscriptionState, info: StateInfo): void {
    this.state = state;
    try {
      this.options.onStateChange?.(state, info);
    } catch (err) {
      console.error('[herald/realtime] onStateChange threw:', err);
    }
  }

  private get reconnectOptions(): BackoffOptions | undefined {
    const r = this.options.reconnect ?? true;
    if (r === false) return undefined;
    return r === true ? {} : r;
  }

  /** The token for the next connection: reused while valid, replaced when expired or refused. */
  private async token(): Promise<string> {
    const expiresAt = this.jwt === undefined ? undefined : jwtExpiresAt(this.jwt);
    const stale = expiresAt !== undefined && expiresAt < Date.now() + 1000;
    if (this.jwt !== undefined && !this.needsFreshToken && !stale) return this.jwt;
    const fresh =
      this.jwt !== undefined && this.options.refreshToken ? this.options.refreshToken : this.options.jwt;
    let jwt = await fresh();
    // A given key that already expired: replace it before the server refuses it.
    const given = jwtExpiresAt(jwt);
    const refresh = this.options.refreshToken;
    if (refresh && fresh !== refresh && given !== undefined && given < Date.now() + 1000)
      jwt = await refresh();
    this.jwt = jwt;
    this.needsFreshToken = false;
    return jwt;
  }

  /**
   * Where to continue from: the last delivered position; before any, the oldest message kept when
   * asked (`since: 'oldest'`), else "now" to learn the position.
   */
  private resumeUrl(jwt: string): string {
    const url = new URL(connectUrl(this.options.baseUrl, jwt));
    const p = this.positions.get(this.options.channel);
    url.searchParams.set(
      'since',
      p ? `${p.epoch}:${p.seq}` : this.options.since === 'oldest' ? 'oldest' : 'now',
    );
    if (this.heartbeatTimeoutMs > 0) url.searchParams.set('heartbeat', '1');
    return url.href;
  }

  private get heartbeatTimeoutMs(): number {
    return this.options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
  }

  /** Opens one socket; resolves once it is open, rejects if it cannot be. */
  private async openSocket(Ctor: WebSocketConstructor): Promise<void> {
    const jwt = await this.token();
    if (this.state === 'closed')
      throw new ConnectionError('connection_failed', 'Subscription closed while connecting');
    const url = this.resumeUrl(jwt);
    const ws = new Ctor(url);
    this.ws = ws;
    this.recovered = undefined;
    const where = new URL(url).origin;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let lastError: unknown;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          try {
            ws.close();
          } catch {
            // Closing a socket that never opened may throw in some implementations.
          }
          reject(error);
        } else resolve();
      };
      const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(
        () =>
          settle(
            new ConnectionError('connect_timeout', `Connecting to ${where} timed out after ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      ws.addEventListener('open', () => {
        if (this.ws !== ws || this.state === 'closed')
          return settle(new ConnectionError('connection_failed', 'closed while connecting'));
        this.attempt = 0;
        this.serverClosing = false;
        this.armHeartbeat();
        this.setState('open', this.recovered === undefined ? {} : { recovered: this.recovered });
        settle();
      });
      ws.addEventListener('error', (event: { message?: string; error?: unknown }) => {
        lastError = event.error ?? event.message;
        // `ws` reports a refused upgrade as "Unexpected server response: 401".
        if (/\b401\b/.test(String(event.message ?? (event.error as Error | undefined)?.message ?? '')))
          this.needsFreshToken = true;
        if (!settled)
          settle(
            new ConnectionError(
              'connection_failed',
              `WebSocket to ${where} failed before opening${event.message ? `: ${event.message}` : ''}`,
              undefined,
              undefined,
              { cause: event.error },
            ),
          );
      });
      ws.addEventListener('close', (event: { code: number; reason: string }) => {
        if (!settled) {
          settle(
            new ConnectionError(
              'connection_failed',
              `WebSocket closed before opening: ${event.code}${event.reason ? ` ${event.reason}` : ''}`,
              event.code,
              actionForCloseCode(event.code),
            ),
          );
          return;
        }
        if (this.ws === ws) this.onClose(event.code, event.reason, lastError);
      });
      ws.addEventListener('message', (event: { data: unknown }) => {
        if (this.ws !== ws) return;
        this.lastFrameAt = Date.now();
        if (typeof event.data === 'string') this.onText(event.data);
      });
    });
  }

  /** (Re)starts the silence timer; a connection that stays silent past it is treated as lost. */
  /**
   * Starts the silence timer for the current socket; a connection silent past it is treated as
   * lost. One timer per connection: frames only stamp `lastFrameAt`, and the timer re-arms itself
   * for what is left when it fires (re-creating a timer per frame cost 6 % of a busy client).
   */
  private armHeartbeat(): void {
    if (this.heartbeatTimeoutMs <= 0) return;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    const ws = this.ws;
    this.lastFrameAt = Date.now();
    const check = () => {
      if (this.ws !== ws || this.state !== 'open') return;
      const left = this.lastFrameAt + this.heartbeatTimeoutMs - Date.now();
      if (left > 0) {
        this.heartbeatTimer = setTimeout(check, left);
        return;
      }
      // A half-open connection never delivers its close: abandon it and reconnect.
      this.ws = undefined;
      try {
        ws?.close(CloseCodes.Normal.code, 'heartbeat timeout');
      } catch {
        // Already closing.
      }
      this.onClose(CloseCodes.PongTimeout.code, `no frame for ${this.heartbeatTimeoutMs} ms`, undefined);
    };
    this.heartbeatTimer = setTimeout(check, this.heartbeatTimeoutMs);
  }

  private stopTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.retryTimer = undefined;
    this.heartbeatTimer = undefined;
    this.wakeRetry = undefined;
    this.removeOnline?.();
    this.removeOnline = undefined;
  }

  /** In a browser, coming back online retries at once instead of waiting out the backoff. */
  private watchOnline(_Ctor: WebSocketConstructor): void {
    const target = globalThis as {
      addEventListener?: (t: string, l: () => void) => void;
      removeEventListener?: (t: string, l: () => void) => void;
    };
    if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function')
      return;
    const onOnline = () => this.wakeRetry?.();
    target.addEventListener('online', onOnline);
    this.removeOnline = () => target.removeEventListener?.('online', onOnline);
  }

  /** Reconnects until it succeeds, the subscription is closed, or a terminal error. */
  private reconnect(info: StateInfo): void {
    const backoff = this.reconnectOptions as BackoffOptions;
    this.setState('reconnecting', { ...info, attempt: this.attempt + 1 });
    const delay = this.serverClosing
      ? Math.floor(Math.random() * (backoff.minDelayMs ?? 100))
      : backoffDelay(this.attempt, backoff);
    this.attempt++;
    this.retryTimer = setTimeout(() => this.wakeRetry?.(), delay);
    this.wakeRetry = () => {
      this.wakeRetry = undefined;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      if (this.state !== 'reconnecting') return;
      void this.retry();
    };
  }

  private async retry(): Promise<void> {
    let Ctor: WebSocketConstructor;
    try {
      Ctor = await resolveWebSocket(this.options.WebSocket);
      this.setState('connecting', { attempt: this.attempt });
      await this.openSocket(Ctor);
    } catch (err) {
      if (this.state === 'closed') return;
      const error = err instanceof Error ? err : new Error(String(err));
      if (error instanceof ConnectionError && error.action === 'terminal') {
        this.giveUp(error);
        return;
      }
      if (error instanceof ConnectionError && this.tokenIsDead()) {
        // Retrying would present the same refused token forever (a browser sees only 1006).
        this.giveUp(
          new ConnectionError(
            'connection_failed',
            'The subscription token expired or was refused and cannot be replaced: pass refreshToken, or a token fetcher as `token`, to outlive it',
            error.closeCode,
            'terminal',
            { cause: error },
          ),
        );
        return;
      }
      if (!(error instanceof ConnectionError)) {
        // Fetching a token failed: retried like a network error, but reported.
        this.notify(error);
      }
      this.reconnect({ error, closeCode: error instanceof ConnectionError ? error.closeCode : undefined });
    }
  }

  /** Whether a new token can be had: a refreshToken callback, or a fetcher given as `token`. */
  private get canReplaceToken(): boolean {
    return this.options.refreshToken !== undefined || this.options.canFetchToken === true;
  }

  /**
   * After a failed attempt: the token was refused (401) or expired by our clock, and nothing can
   * replace it. The server got one try first, so a client clock running ahead does not end it.
   */
  private tokenIsDead(): boolean {
    if (this.canReplaceToken || this.jwt === undefined) return false;
    const expiresAt = jwtExpiresAt(this.jwt);
    return this.needsFreshToken || (expiresAt !== undefined && expiresAt < Date.now());
  }

  private giveUp(error: Error): void {
    this.stopTimers();
    this.setState('closed', { error });
    this.afterPending(() => {
      this.notify(error);
      this.toOutputs(() => this.fanout.fail(error));
    });
  }

  /** A stream of message objects. `lazy`: attach on first read (for a stream that may go unread). */
  messageStream(lazy = false, name = 'The subscription stream'): ReadableStream<OutMessage> {
    return this.fanout.createStream(messageMapper(this.maxBuffered), {
      lazy,
      name,
      maxBuffered: this.maxBuffered,
    });
  }

  encodedStream(format: EncodedFormat = 'ndjson'): ReadableStream<Uint8Array> {
    return this.fanout.createStream(encodedMapper(format), {
      name: 'The encoded stream',
      maxBuffered: this.maxBuffered,
    });
  }

  /**
   * Calls `callback` for each message, one at a time, in order; an async callback is awaited first.
   * A throw goes to `onError` (or `console.error`) and the next message still arrives.
   */
  runCallback(callback: (message: OutMessage) => unknown, onError?: (error: Error) => void): void {
    const reader = this.messageStream(false, 'The callback queue').getReader();
    const report = (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      if (onError) onError(error);
      else console.error('[herald/realtime] subscription callback threw:', error);
    };
    void (async () => {
      for (;;) {
        let next: ReadableStreamReadResult<OutMessage>;
        try {
          next = await reader.read();
        } catch {
          // The subscription failed; that error is reported where it happened.
          return;
        }
        if (next.done) return;
        try {
          await callback(next.value);
        } catch (err) {
          report(err);
        }
      }
    })();
  }

  private afterPending(fn: () => void): void {
    if (this.chain) this.chain = this.chain.then(fn);
    else fn();
  }

  private onText(text: string): void {
    if (this.state !== 'open') return;
    const parsed = parseFrame(text);
    if (!parsed.ok) return; // Not a frame for us (e.g. raw tee bytes): ignore, as v4 does.
    const frame = parsed.frame;
    if (this.chain) {
      this.chain = this.chain.then(() => this.handle(frame));
      return;
    }
    const r = this.handle(frame);
    if (r) {
      const c: Promise<void> = r.finally(() => {
        if (this.chain === c) this.chain = undefined;
      });
      this.chain = c;
    }
  }

  /** Handles one frame; returns a promise only when it had to wait (async schema). */
  private handle(frame: Frame): Promise<void> | undefined {
    switch (frame.kind) {
      case 'data':
      case 'datastream-start':
      case 'datastream-end':
      case 'chunk':
        return this.handleMessage(frame);
      case 'run':
        this.handleRun(frame);
        return undefined;
      case 'subscribed':
        this.onSubscribed(frame);
        return undefined;
      case 'closing':
        // A 1001 close follows: reconnect at once (to another node behind the load balancer).
        this.serverClosing = true;
        return undefined;
      case 'token-expiring':
        this.refreshInBand();
        return undefined;
      default:
        // ping/pong/sub/unsub/step/event: nothing to deliver.
        return undefined;
    }
  }

  /** The server says where the stream continues (after a resume: whether it is complete). */
  private onSubscribed(frame: Frame): void {
    const d = frame.data as { epoch?: unknown; seq?: unknown; recovered?: unknown } | undefined;
    if (frame.channel !== this.options.channel || typeof d?.epoch !== 'string' || typeof d.seq !== 'number')
      return;
    const had = this.positions.get(frame.channel);
    this.positions.set(frame.channel, { epoch: d.epoch, seq: d.seq });
    // Only a resume (we had a position) can be incomplete; a first connection starts where it starts.
    if (had === undefined) return;
    this.recovered = d.recovered === true;
    this.setState('open', { recovered: this.recovered });
    if (!this.recovered)
      this.notify(
        new RealtimeError(
          'not_recovered',
          `Reconnected to channel "${frame.channel}" but messages published meanwhile are no longer in the server's history: refetch your state`,
        ),
      );
  }

  /** The token is about to expire: send a fresh one on the open connection, without reconnecting. */
  private refreshInBand(): void {
    if (!this.canReplaceToken) return;
    const ws = this.ws;
    this.needsFreshToken = true;
    this.token().then(
      (jwt) => {
        if (this.ws === ws && this.state === 'open') ws?.send(JSON.stringify({ kind: 'sub', data: jwt }));
      },
      (err: unknown) => this.notify(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private handleMessage(frame: Frame): Promise<void> | undefined {
    let channel = frame.channel;
    let topic = frame.topic;
    const streamId =
      frame.kind === 'chunk' ? frame.stream_id : typeof frame.data === 'string' ? frame.data : undefined;
    if (frame.kind === 'chunk' && (!channel || !topic) && streamId) {
      const known = this.datastreams.get(streamId);
      channel ??= known?.channel;
      topic ??= known?.topic;
    }
    if (!channel || !topic || channel !== this.options.channel || !this.topics.has(topic)) return undefined;
    if (frame.kind !== 'data' && !streamId) return undefined;
    if (this.isDuplicate(channel, frame)) return undefined;
    if (frame.kind === 'datastream-start' && streamId) {
      if (this.datastreams.size >= MAX_OPEN_DATASTREAMS) {
        const oldest = this.datastreams.keys().next().value;
        if (oldest !== undefined) this.datastreams.delete(oldest);
      }
      this.datastreams.set(streamId, { channel, topic });
    } else if (frame.kind === 'datastream-end' && streamId) this.datastreams.delete(streamId);

    const delivery: Delivery = {
      kind: frame.kind as Delivery['kind'],
      channel,
      topic,
      data: frame.data,
      createdAt: frame.created_at,
      runId: frame.run_id,
      fnId: frame.fn_id,
      envId: frame.env_id,
      streamId,
      position: positionOfFrame(frame),
    };
    const schema =
      frame.kind === 'data' && this.options.validate !== false ? this.options.schemas.get(topic) : undefined;
    if (!schema) {
      this.toOutputs(() => this.fanout.write(delivery));
      return undefined;
    }
    const result = validate(schema, frame.data);
    const finish = (r: Awaited<typeof result>) => {
      if (r.ok) this.toOutputs(() => this.fanout.write({ ...delivery, data: r.value }));
      else this.report(new ValidationError(channel, topic, r.issues, 'receive'));
    };
    if (result instanceof Promise) return result.then(finish);
    finish(result);
    return undefined;
  }

  /**
   * A run lifecycle message: for the whole channel, whatever topics were asked for (as v4 passes it
   * on). Its position counts like any message's, delivered or not, so a resume neither repeats it
   * nor stops short of it.
   */
  private handleRun(frame: Frame): void {
    const channel = frame.channel ?? this.options.channel;
    if (channel !== this.options.channel || this.isDuplicate(channel, frame)) return;
    if (!this.options.runLifecycle) return;
    const delivery: Delivery = {
      kind: 'run',
      channel,
      topic: '',
      data: frame.data,
      createdAt: frame.created_at,
      runId: frame.run_id,
      fnId: frame.fn_id,
      envId: frame.env_id,
      streamId: undefined,
      position: positionOfFrame(frame),
    };
    this.toOutputs(() => this.fanout.write(delivery));
  }

  /** Drops a frame at or below the last position delivered on its channel (a replay or a duplicate). */
  private isDuplicate(channel: string, frame: Frame): boolean {
    if (frame.epoch === undefined || frame.seq === undefined) return false;
    const last = this.positions.get(channel);
    if (last && last.epoch === frame.epoch && frame.seq <= last.seq) return true;
    this.positions.set(channel, { epoch: frame.epoch, seq: frame.seq });
    return false;
  }

  /**
   * An invalid message or a lost connection: with `onError`, it is reported there (an invalid message
   * is then dropped and the subscription goes on); without it, the streams end with the error.
   */
  private report(error: Error): void {
    if (this.options.onError) {
      this.notify(error);
      return;
    }
    this.fail(error);
  }

  /** Calls onError; a throw there must not escape into the socket's event handler. */
  private notify(error: Error): void {
    try {
      this.options.onError?.(error);
    } catch (err) {
      console.error('[herald/realtime] onError threw:', err);
    }
  }

  private fail(error: Error): void {
    const ws = this.ws;
    const wasOpen = this.state === 'open';
    this.stopTimers();
    this.setState('closed', { error });
    this.toOutputs(() => this.fanout.fail(error));
    if (wasOpen && ws) ws.close(CloseCodes.Normal.code, 'client error');
  }

  private onClose(code: number, reason: string, lastError: unknown): void {
    if (this.state === 'closed') return; // We closed it (close() or fail()): already handled.
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.ws = undefined;
    if (code === CloseCodes.Normal.code) {
      this.stopTimers();
      this.setState('closed', { closeCode: code, reason });
      this.afterPending(() => this.toOutputs(() => this.fanout.close()));
      return;
    }
    const action = actionForCloseCode(code);
    if (action === 'refresh-token') this.needsFreshToken = true;
    if (code === CloseCodes.GoingAway.code) this.serverClosing = true;
    const retry =
      this.reconnectOptions !== undefined &&
      action !== 'terminal' &&
      (action !== 'refresh-token' || this.canReplaceToken);
    const error = new ConnectionError(
      'connection_lost',
      `Connection to Herald closed: ${code}${reason ? ` ${reason}` : ''} (${
        retry
          ? 'reconnecting'
          : action === 'terminal'
            ? 'not retryable'
            : action === 'refresh-token'
              ? 'the token expired and no refreshToken was given'
              : 'the client should reconnect'
      })`,
      code,
      action,
      lastError === undefined ? undefined : { cause: lastError },
    );
    if (retry) {
      this.reconnect({ closeCode: code, reason });
      return;
    }
    this.giveUp(error);
  }
}
