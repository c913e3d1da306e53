/**
 * A subscriber over Server-Sent Events: each message is one `data: <json>\n\n` event (§4), framed
 * once per message; keepalive is the comment `:\n\n`. SSE has no close codes: a clean close ends
 * the response, a slow consumer's is dropped.
 */
import type { ServerResponse } from 'node:http';
import type { Publication } from '../engine/engine.js';
import { Connection, type ConnectionOptions, ConnState } from '../hub/connection.js';
import { type CloseCode, CloseCodes } from '../protocol/close-codes.js';

const KEEPALIVE = Buffer.from(':\n\n');

export function sseEvent(json: string): Buffer {
  return Buffer.from(`data: ${json}\n\n`);
}

/** An event whose id is the message's position, so `Last-Event-ID` resumes after it. */
export function sseEventWithId(pub: Publication): Buffer {
  return Buffer.from(`id: ${pub.epoch}:${pub.seq}\ndata: ${pub.json}\n\n`);
}

export class SseConnection extends Connection {
  readonly transport = 'sse' as const;
  /** Jittered like WebSocket pings (see ws-connection.ts). */
  private lastKeepaliveAt: number;

  constructor(
    options: ConnectionOptions,
    private readonly res: ServerResponse,
    private readonly keepaliveIntervalMs: number,
    /** Whether events carry `id:` positions (only when the connection covers one channel). */
    private readonly eventIds: boolean,
  ) {
    super(options);
    this.lastKeepaliveAt = Date.now() - Math.random() * keepaliveIntervalMs;
  }

  keepalive(now: number): void {
    if (now - this.lastKeepaliveAt < this.keepaliveIntervalMs) return;
    this.lastKeepaliveAt = now;
    // Through the queue, so it never lands in the middle of queued events.
    if (this.state === ConnState.Open) this.enqueue(KEEPALIVE);
  }

  protected encode(pub: Publication): Buffer {
    pub.encoded ??= {};
    if (this.eventIds) {
      pub.encoded.sseId ??= sseEventWithId(pub);
      return pub.encoded.sseId;
    }
    pub.encoded.sse ??= sseEvent(pub.json);
    return pub.encoded.sse;
  }

  protected encodeRaw(text: string): Buffer {
    // Tee bytes are already SSE-framed by their publisher and go out verbatim (§1.5).
    return Buffer.from(text);
  }

  protected encodeControl(json: string): Buffer {
    return sseEvent(json);
  }

  protected write(data: Buffer): void {
    if (this.res.writableEnded) return;
    this.res.write(data);
  }

  protected bufferedBytes(): number {
    return this.res.writableLength;
  }

  protected destroyTransport(): void {
    this.res.destroy();
  }

  protected closeTransport(code: CloseCode): void {
    if (code === CloseCodes.SlowConsumer || code === CloseCodes.PongTimeout) this.res.destroy();
    else this.res.end();
  }
}
