/**
 * A subscriber connection as the hub sees it, whatever its transport: the topics it subscribed to
 * and a bounded send queue. Transports (`transport/ws-connection.ts`, `transport/sse-connection.ts`)
 * implement how bytes are framed and written.
 *
 * The send queue is bounded in bytes: what is pending here plus what the socket has not flushed to
 * the kernel yet. A connection that overflows it reads too slowly; it is closed with 4008 so it can
 * never stall delivery to others nor grow the heap.
 */
import type { Position, Publication } from '../engine/engine.js';
import { type CloseCode, CloseCodes } from '../protocol/close-codes.js';
import type { Flushable, WriteScheduler } from './write-scheduler.js';

export type Transport = 'ws' | 'sse';

let lastId = 0;
/** Shared empty queue: a connection allocates its own only once it has something to send. */
const EMPTY: Buffer[] = [];

/** Named states of a connection. */
export const ConnState = {
  /** Subscribed, but the transport is not ready to write yet; deliveries wait in the queue. */
  Opening: 0,
  Open: 1,
  /** Close started; nothing more is written. */
  Closing: 2,
  Closed: 3,
} as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

export interface ConnectionOptions {
  env: string;
  /** Send queue limit in bytes. */
  sendQueueBytes: number;
  scheduler: WriteScheduler;
  /** Called once when the queue overflows, before the connection is closed. */
  onSlowConsumer: (c: Connection) => void;
  /** Counts bytes and messages written. */
  onWritten: (messages: number, bytes: number) => void;
}

export abstract class Connection implements Flushable {
  /** Unique within this process (for logs). */
  readonly id = ++lastId;
  abstract readonly transport: Transport;
  readonly env: string;
  readonly openedAt = Date.now();
  state: ConnState = ConnState.Opening;
  /** When the newest token this connection presented expires (ms since epoch). */
  tokenExpiresAt = Number.POSITIVE_INFINITY;
  /** Whether the client was told its token is about to expire. */
  tokenExpiryWarned = false;
  /** The lifetime of that token (ms), to scale the warning for short-lived tokens. */
  tokenLifetimeMs = Number.POSITIVE_INFINITY;
  /** channelKey → topics subscribed in that channel. Maintained by the hub. */
  /** channelKey → topics (an array: connections hold few, and arrays are smaller than Sets). */
  readonly subscriptions = new Map<string, string[]>();

  /** Live publications held per channel while that channel's history is replayed. */
  private held: Map<string, { pubs: Publication[]; bytes: number }> | undefined;
  /**
   * Per channel, the position a recovery told the client it continues after. A live feed can lag
   * the history read (Redis: a message is in the stream before its PUBLISH reaches this node), so
   * a live message at or below it is a repeat and is dropped; the first one above it clears it.
   */
  private floors: Map<string, Position> | undefined;
  private pending: Buffer[] = EMPTY;
  private pendingBytes = 0;
  /** How many of `pending` are transport frames (pings), not messages. */
  private pendingFrames = 0;
  private marked = false;

  constructor(protected readonly options: ConnectionOptions) {
    this.env = options.env;
  }

  /** Records a token the client presented; the latest expiry wins (in-band refresh). */
  presentedToken(expiresAtMs: number, issuedAtMs?: number): void {
    if (expiresAtMs > this.tokenExpiresAt || this.tokenExpiresAt === Number.POSITIVE_INFINITY) {
      this.tokenExpiresAt = expiresAtMs;
      this.tokenLifetimeMs = issuedAtMs === undefined ? Number.POSITIVE_INFINITY : expiresAtMs - issuedAtMs;
      this.tokenExpiryWarned = false;
    }
  }

  /** Number of (channel, topic) subscriptions. */
  get subscriptionCount(): number {
    let n = 0;
    for (const t of this.subscriptions.values()) n += t.length;
    return n;
  }

  deliver(pub: Publication): void {
    if (this.state >= ConnState.Closing) return;
    if (this.held !== undefined) {
      const h = this.held.get(pub.channelKey);
      if (h !== undefined) {
        h.pubs.push(pub);
        h.bytes += pub.json.length;
        if (h.bytes > this.heldLimit) this.overflow();
        return;
      }
    }
    if (this.floors !== undefined) {
      const f = this.floors.get(pub.channelKey);
      if (f !== undefined) {
        if (pub.epoch === f.epoch && pub.seq <= f.seq) return;
        this.floors.delete(pub.channelKey);
        if (this.floors.size === 0) this.floors = undefined;
      }
    }
    this.enqueue(this.encode(pub));
  }

  /** A replayed history message: bypasses the hold on its channel. */
  deliverHistory(pub: Publication): void {
    if (this.state >= ConnState.Closing) return;
    this.enqueue(this.encode(pub));
  }

  get sendQueueBytes(): number {
    return this.options.sendQueueBytes;
  }

  /**
   * Most bytes of live messages held while a replay is paced out: more than the send queue, since a
   * replay of a busy channel takes a while, but bounded.
   */
  get heldLimit(): number {
    return Math.max(4 * this.options.sendQueueBytes, 4 * 1024 * 1024);
  }

  /** Holds live publications of a channel (in order) until `releaseLive`, while history is replayed. */
  holdLive(channelKey: string): void {
    this.held ??= new Map();
    this.held.set(channelKey, { pubs: [], bytes: 0 });
  }

  /** Stops holding a channel and returns what was held, oldest first. */
  releaseLive(channelKey: string): Publication[] {
    const h = this.held?.get(channelKey);
    this.held?.delete(channelKey);
    if (this.held?.size === 0) this.held = undefined;
    return h?.pubs ?? [];
  }

  /** Live messages of the channel at or below `covered` (the client has them) are dropped as repeats. */
  ignoreUpTo(channelKey: string, covered: Position): void {
    this.floors ??= new Map();
    this.floors.set(channelKey, covered);
  }

  /** Bytes queued and not yet flushed to the kernel. */
  get queuedBytes(): number {
    return this.pendingBytes + this.bufferedBytes();
  }

  /** Raw text for `$stream` subscribers (`/publish/tee`), delivered as is. */
  deliverRaw(text: string): void {
    if (this.state >= ConnState.Closing) return;
    this.enqueue(this.encodeRaw(text));
  }

  /** An unsequenced control frame (replies, closing). */
  deliverControl(json: string): void {
    if (this.state >= ConnState.Closing) return;
    this.enqueue(this.encodeControl(json));
  }

  /** A complete transport frame (a ping) queued with the rest; not counted as a message. */
  protected enqueueFrame(frame: Buffer): void {
    if (this.state >= ConnState.Closing) return;
    this.pendingFrames++;
    this.enqueue(frame);
  }

  /** Sends a keepalive if one is due (pings, SSE comments); called periodically by the server. */
  abstract keepalive(now: number): void;

  /** The transport is ready: write what waited. */
  markOpen(): void {
    if (this.state !== ConnState.Opening) return;
    this.state = ConnState.Open;
    if (this.pending.length > 0) this.flush();
  }

  flush(): void {
    this.marked = false;
    if (this.state !== ConnState.Open || this.pending.length === 0) return;
    const batch = this.pending;
    const bytes = this.pendingBytes;
    const frames = this.pendingFrames;
    this.dropPending();
    this.write(this.options.scheduler.join(batch, bytes));
    this.options.onWritten(batch.length - frames, bytes);
  }

  /** Starts closing with a code; the transport finishes it. Idempotent. */
  close(code: CloseCode = CloseCodes.Normal, reason: string = code.reason): void {
    if (this.state >= ConnState.Closing) return;
    // Flush what is queued first so nothing accepted before the close is dropped on a clean close.
    if (this.state === ConnState.Open && code !== CloseCodes.SlowConsumer) this.flush();
    this.state = ConnState.Closing;
    this.dropPending();
    this.held = undefined;
    this.closeTransport(code, reason);
  }

  /** Drops the transport at once, without a close handshake. */
  terminate(): void {
    this.state = ConnState.Closing;
    this.dropPending();
    this.destroyTransport();
  }

  /** The transport is gone. */
  markClosed(): void {
    this.state = ConnState.Closed;
    this.dropPending();
  }

  /** Empties the send queue (written, or no longer wanted). */
  private dropPending(): void {
    this.pending = EMPTY;
    this.pendingBytes = 0;
    this.pendingFrames = 0;
  }

  private overflow(): void {
    this.options.onSlowConsumer(this);
    this.close(
      CloseCodes.SlowConsumer,
      `slow consumer: more than ${this.options.sendQueueBytes} bytes queued; reconnect and resume`,
    );
  }

  protected enqueue(buf: Buffer): void {
    if (this.bufferedBytes() + this.pendingBytes + buf.length > this.options.sendQueueBytes) {
      this.overflow();
      return;
    }
    if (this.pending === EMPTY) this.pending = [buf];
    else this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (!this.marked && this.state === ConnState.Open) {
      this.marked = true;
      this.options.scheduler.mark(this);
    }
  }

  /** The bytes of a publication for this transport, framed once per transport (cached on the publication). */
  protected abstract encode(pub: Publication): Buffer;
  protected abstract encodeRaw(text: string): Buffer;
  protected abstract encodeControl(json: string): Buffer;
  /** Writes queued frames, joined into one Buffer (one syscall). */
  protected abstract write(data: Buffer): void;
  /** Bytes the transport accepted but has not flushed to the kernel yet. */
  protected abstract bufferedBytes(): number;
  protected abstract closeTransport(code: CloseCode, reason: string): void;
  protected abstract destroyTransport(): void;
}
