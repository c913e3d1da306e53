/**
 * Every error the SDK raises is a `RealtimeError` with a `code`, so callers can tell an overflow
 * from a dropped connection from a rejected publish without parsing messages.
 */
import type { CloseCode } from './close-codes.js';

export type RealtimeErrorCode =
  | 'buffer_overflow'
  | 'validation_failed'
  | 'connection_failed'
  | 'connection_lost'
  | 'connect_timeout'
  | 'api_error'
  | 'invalid_argument'
  | 'no_websocket'
  /** A reconnect could not replay everything missed (see StateInfo.recovered). */
  | 'not_recovered';

export class RealtimeError extends Error {
  override name = 'RealtimeError';
  constructor(
    readonly code: RealtimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A stream's buffer reached its limit because nobody read it fast enough. The stream delivers what
 * it already holds, then errors with this; it receives nothing more. Read the stream (or raise
 * `maxBufferedMessages`) to avoid it.
 */
export class BufferOverflowError extends RealtimeError {
  override name = 'BufferOverflowError';
  constructor(
    readonly limit: number,
    what: string,
  ) {
    super(
      'buffer_overflow',
      `${what} buffered ${limit} unread messages (its limit) and was ended; read it faster, or raise maxBufferedMessages`,
    );
  }
}

/** A payload did not match its topic's schema (on publish, or on receipt when validating). */
export class ValidationError extends RealtimeError {
  override name = 'ValidationError';
  constructor(
    readonly channel: string,
    readonly topic: string,
    readonly issues: readonly { message: string; path?: readonly unknown[] | undefined }[],
    direction: 'publish' | 'receive',
  ) {
    const detail = issues
      .map((i) => {
        const path = i.path?.map((p) => (typeof p === 'object' && p !== null && 'key' in p ? p.key : p));
        return path && path.length > 0 ? `${path.join('.')}: ${i.message}` : i.message;
      })
      .join('; ');
    super(
      'validation_failed',
      `${direction === 'publish' ? 'Refusing to publish' : 'Received'} invalid data for channel "${channel}" topic "${topic}": ${detail}`,
    );
  }
}

/** The WebSocket could not be opened, or closed abnormally after opening. */
export class ConnectionError extends RealtimeError {
  override name = 'ConnectionError';
  constructor(
    code: 'connection_failed' | 'connection_lost' | 'connect_timeout',
    message: string,
    /** The WebSocket close code, when the socket closed. */
    readonly closeCode?: number,
    /** What the server's close code asks a client to do. */
    readonly action?: CloseCode['action'],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** An HTTP call to Herald (token, publish) failed; `status` is the HTTP status, 0 for a network error. */
export class ApiError extends RealtimeError {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    /** The server's error text, when it sent one. */
    readonly serverError?: string,
    /** The request field the server blamed, when it named one. */
    readonly field?: string,
    options?: { cause?: unknown; requestId?: string | undefined },
  ) {
    super('api_error', message, options);
    this.requestId = options?.requestId;
  }

  /** Herald's id for the request (its `X-Request-Id`): the server logged why under it. */
  readonly requestId: string | undefined;
}
