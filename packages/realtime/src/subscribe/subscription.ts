/**
 * One subscription: one WebSocket to Herald, its frames checked, ordered, deduplicated and fanned
 * out to the subscription's streams and callbacks.
 *
 * - Order: frames are handled one at a time in arrival order, even when a schema validates
 *   asynchronously (0.4.7 could reorder them, W23).
 * - Positions: every sequenced frame carries its channel's `epoch`/`seq`; the last delivered one is
 *   kept per channel and anything at or below it is dropped. Reconnect-and-resume (a later step)
 *   starts from these positions.
 * - Ending: `close()` delivers what was received, then ends every stream normally (W2); the server
 *   closing with anything but 1000 ends them with a `ConnectionError` (W15) carrying the close code
 *   and what it asks a client to do.
 * - Connecting rejects with an Error, never hangs: on an error, a close before open (W8), or after
 *   `connectTimeoutMs` (W7).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { connectUrl } from '../base-url.js';
import { actionForCloseCode, CloseCodes } from '../close-codes.js';
import { ConnectionError, RealtimeError, ValidationError } from '../errors.js';
import { validate } from '../schema.js';
import { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from '../websocket.js';
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

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface SubscriptionOptions {
  channel: string;
  topics: readonly string[];
  /** Topic schemas, for validation on receipt. */
  schemas: ReadonlyMap<string, StandardSchemaV1>;
  /** Produces the JWT to connect with (a given key, or a lazy fetch). */
  jwt: () => Promise<string>;
  baseUrl: string;
  WebSocket?: WebSocketConstructor | undefined;
  /** Validate payloads against topic schemas on receipt (default true). */
  validate?: boolean | undefined;
  connectTimeoutMs?: number | undefined;
  maxBufferedMessages?: number | undefined;
  /** Called for invalid messages and connection loss; without it those end the streams with the error. */
  onError?: ((error: Error) => void) | undefined;
}

export interface Position {
  epoch: string;
  seq: number;
}

type State = 'idle' | 'connecting' | 'open' | 'closed';

export class Subscription {
  private readonly fanout = new Fanout<Delivery>();
  private readonly topics: Set<string>;
  private readonly positions = new Map<string, Position>();
  /** stream id → channel/topic, from datastream-start (Inngest's chunk frames carry neither). */
  private readonly datastreams = new Map<string, { channel: string; topic: string }>();
  private ws: WebSocketLike | undefined;
  private state: State = 'idle';
  /** Frames wait here while an asynchronous validation is in progress, to keep their order. */
  private chain: Promise<void> | undefined;
  private readonly maxBuffered: number;

  constructor(private readonly options: SubscriptionOptions) {
    this.topics = new Set(options.topics);
    this.maxBuffered = options.maxBufferedMessages ?? DEFAULT_MAX_BUFFERED;
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

  async connect(): Promise<void> {
    if (this.state !== 'idle') throw new RealtimeError('invalid_argument', 'connect() can be called once');
    this.state = 'connecting';
    const Ctor = await resolveWebSocket(this.options.WebSocket);
    let jwt: string;
    try {
      jwt = await this.options.jwt();
    } catch (err) {
      this.state = 'closed';
      throw err;
    }
    if (this.state !== 'connecting')
      throw new ConnectionError('connection_failed', 'Subscription closed while connecting');
    const url = connectUrl(this.options.baseUrl, jwt);
    const ws = new Ctor(url);
    this.ws = ws;
    const where = new URL(url).origin;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let lastError: unknown;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          this.state = 'closed';
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
        if (this.state !== 'connecting')
          return settle(new ConnectionError('connection_failed', 'closed while connecting'));
        this.state = 'open';
        settle();
      });
      ws.addEventListener('error', (event: { message?: string; error?: unknown }) => {
        lastError = event.error ?? event.message;
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
        this.onClose(event.code, event.reason, lastError);
      });
      ws.addEventListener('message', (event: { data: unknown }) => {
        if (typeof event.data === 'string') this.onText(event.data);
      });
    });
  }

  /** Ends the subscription: what was received is still delivered, then every stream ends normally. */
  close(reason = 'Userland closed connection'): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.afterPending(() => this.fanout.close());
    if (wasOpen && this.ws) this.ws.close(CloseCodes.Normal.code, reason.slice(0, 120));
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
      default:
        // closing/ping/pong/sub/unsub/run/step/event: nothing to deliver. `closing` is followed by a
        // 1001 close, which ends the streams with an error saying to reconnect.
        return undefined;
    }
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
    };
    const schema =
      frame.kind === 'data' && this.options.validate !== false ? this.options.schemas.get(topic) : undefined;
    if (!schema) {
      this.fanout.write(delivery);
      return undefined;
    }
    const result = validate(schema, frame.data);
    const finish = (r: Awaited<typeof result>) => {
      if (r.ok) this.fanout.write({ ...delivery, data: r.value });
      else this.report(new ValidationError(channel, topic, r.issues, 'receive'));
    };
    if (result instanceof Promise) return result.then(finish);
    finish(result);
    return undefined;
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
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.fanout.fail(error);
    if (wasOpen && this.ws) this.ws.close(CloseCodes.Normal.code, 'client error');
  }

  private onClose(code: number, reason: string, lastError: unknown): void {
    if (this.state === 'closed') return; // We closed it (close() or fail()): already handled.
    this.state = 'closed';
    if (code === CloseCodes.Normal.code) {
      this.afterPending(() => this.fanout.close());
      return;
    }
    const action = actionForCloseCode(code);
    const error = new ConnectionError(
      'connection_lost',
      `Connection to Herald closed: ${code}${reason ? ` ${reason}` : ''} (${action === 'terminal' ? 'not retryable' : 'the client should reconnect'})`,
      code,
      action,
      lastError === undefined ? undefined : { cause: lastError },
    );
    this.afterPending(() => {
      this.notify(error);
      this.fanout.fail(error);
    });
  }
}
