/**
 * A subscriber over WebSocket. The `ws` library does the handshake, reads client frames and
 * handles close and ping/pong; deliveries bypass its per-call framing: each message is framed once
 * (cached on the publication) and the same bytes are written to every socket, several messages per
 * write when they queue up together.
 */
import type { Duplex } from 'node:stream';
import WebSocket, * as wsModule from 'ws';
import type { Publication } from '../engine/engine.js';
import { Connection, type ConnectionOptions } from '../hub/connection.js';
import { type CloseCode, CloseCodes } from '../protocol/close-codes.js';

/** How long a closing connection may take to finish the close handshake before it is dropped. */
export const CLOSE_TIMEOUT_MS = 5_000;
/** RFC 6455 caps a close reason at 123 bytes. */
const MAX_REASON_BYTES = 123;

interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
// `ws` exports its frame encoder (`Sender`); @types/ws does not declare it.
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, o: FrameOptions): Buffer[] } }).Sender;

/** A complete unmasked text frame for `text`. */
export function textFrame(text: string): Buffer {
  const data = Buffer.from(text);
  const parts = Sender.frame(data, {
    fin: true,
    rsv1: false,
    opcode: 1,
    mask: false,
    readOnly: false,
  });
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let r = reason;
  while (Buffer.byteLength(r) > MAX_REASON_BYTES - 1) r = r.slice(0, -1);
  return `${r}…`.slice(0, r.length + 1);
}

/**
 * Browsers cannot see protocol pings, so a client that wants to detect a dead connection itself
 * asks for this frame with `?heartbeat=1` and gets it with every ping (Inngest's clients ignore the
 * `ping` kind).
 */
export const HEARTBEAT_FRAME = '{"kind":"ping","data":"","topic":""}';
const HEARTBEAT = textFrame(HEARTBEAT_FRAME);

/**
 * An empty ping frame (FIN, opcode 0x9, no payload). Pings go through the send queue, so one shares
 * the syscall of whatever is queued instead of costing one of its own (`ws.ping()` writes at once).
 */
const PING = Buffer.from([0x89, 0x00]);

/** Shared by every WebSocket connection of a server (one object, not one per connection). */
export interface KeepaliveOptions {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  onPongTimeout: (c: Connection) => void;
}

/** Where a `ws` socket keeps its connection, so shared event handlers can find it. */
export const CONNECTION = Symbol('herald.connection');

/** A `ws` WebSocket carrying its Herald connection. */
export type TaggedWebSocket = WebSocket & { [CONNECTION]?: WsConnection };

// Shared handlers: `this` is the emitting WebSocket; no closure is allocated per connection.
function onPong(this: TaggedWebSocket): void {
  this[CONNECTION]?.pong();
}

export class WsConnection extends Connection {
  readonly transport = 'ws' as const;
  private ws: WebSocket | undefined;
  private lastPingAt = 0;
  /** When the unanswered ping was sent; 0 when none is outstanding. */
  private pingOutstandingSince = 0;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    options: ConnectionOptions,
    private readonly socket: Duplex,
    private readonly keepaliveOptions: KeepaliveOptions,
    /** Also send HEARTBEAT_FRAME with every ping (the client asked with `?heartbeat`). */
    private readonly heartbeatFrames: boolean,
  ) {
    super(options);
  }

  /** Called once the upgrade completed. */
  attach(ws: TaggedWebSocket): void {
    this.ws = ws;
    ws[CONNECTION] = this;
    // Jittered, so connections that arrived together are not all pinged in the same tick.
    this.lastPingAt = Date.now() - Math.random() * this.keepaliveOptions.pingIntervalMs;
    ws.on('pong', onPong);
    this.markOpen();
  }

  pong(): void {
    this.pingOutstandingSince = 0;
  }

  override markClosed(): void {
    super.markClosed();
    if (this.closeTimer) clearTimeout(this.closeTimer);
  }

  keepalive(now: number): void {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return;
    if (this.pingOutstandingSince > 0) {
      if (now - this.pingOutstandingSince >= this.keepaliveOptions.pongTimeoutMs) {
        this.keepaliveOptions.onPongTimeout(this);
        this.close(CloseCodes.PongTimeout);
        // A peer that does not pong will not finish a close handshake either.
        ws.terminate();
      }
      return;
    }
    if (now - this.lastPingAt >= this.keepaliveOptions.pingIntervalMs) {
      this.lastPingAt = now;
      this.pingOutstandingSince = now;
      this.enqueueFrame(PING);
      if (this.heartbeatFrames) this.enqueueFrame(HEARTBEAT);
    }
  }

  protected encode(pub: Publication): Buffer {
    pub.encoded ??= {};
    pub.encoded.ws ??= textFrame(pub.json);
    return pub.encoded.ws;
  }

  protected encodeRaw(text: string): Buffer {
    return textFrame(text);
  }

  protected encodeControl(json: string): Buffer {
    return textFrame(json);
  }

  protected write(data: Buffer): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.socket.write(data);
  }

  protected bufferedBytes(): number {
    return this.socket.writableLength;
  }

  protected destroyTransport(): void {
    if (this.ws) this.ws.terminate();
    else this.socket.destroy();
  }

  protected closeTransport(code: CloseCode, reason: string): void {
    const ws = this.ws;
    if (ws === undefined) {
      this.socket.destroy();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(code.code, truncateReason(reason));
    this.closeTimer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }
}
