/**
 * Every WebSocket close code Herald sends, defined once. The range tells a client what to do
 * (as centrifuge does): 4000–4499 reconnect (after refreshing the token where the code says so),
 * 4500–4999 terminal — reconnecting would fail the same way, so surface the error.
 * The SDK, docs/protocol.md and the tests use these values.
 */
export interface CloseCode {
  readonly code: number;
  readonly reason: string;
  /** What a client should do when it sees this code. */
  readonly action: 'none' | 'reconnect' | 'refresh-token' | 'terminal';
}

export const CloseCodes = {
  /** The client or server ended the connection on purpose. */
  Normal: { code: 1000, reason: 'normal closure', action: 'none' },
  /** The server is shutting down (sent after a `closing` frame); reconnect at once, to another node. */
  GoingAway: { code: 1001, reason: 'server shutting down', action: 'reconnect' },
  /**
   * A client frame broke the WebSocket protocol (unmasked, a reserved opcode or bit, a bad fragment
   * or close frame); sent by the WebSocket library.
   */
  ProtocolError: { code: 1002, reason: 'protocol error', action: 'terminal' },
  /** The client sent a text frame (or close reason) that is not valid UTF-8: sent by the library. */
  InvalidPayload: { code: 1007, reason: 'invalid UTF-8', action: 'terminal' },
  /** The client sent a binary frame; Herald's client frames are JSON text. */
  UnsupportedData: { code: 1003, reason: 'binary frames are not supported', action: 'terminal' },
  /** A client frame exceeded the inbound frame limit (sent by the WebSocket library). */
  FrameTooLarge: { code: 1009, reason: 'frame too large', action: 'terminal' },
  /** Something broke inside the server; reconnect with backoff. */
  InternalError: { code: 1011, reason: 'internal error', action: 'reconnect' },
  /** The token expired or is no longer valid: fetch a fresh token, then reconnect. */
  TokenExpired: { code: 4001, reason: 'token expired', action: 'refresh-token' },
  /** The connection's send queue overflowed (it read too slowly); reconnect and recover from history. */
  SlowConsumer: { code: 4008, reason: 'slow consumer: send queue full', action: 'reconnect' },
  /** The node's live feed from the engine was interrupted; reconnect and resume from history. */
  FeedLost: { code: 4010, reason: 'live feed interrupted; reconnect and resume', action: 'reconnect' },
  /** No pong arrived in time after a ping; the peer is presumed dead. */
  PongTimeout: { code: 4009, reason: 'no pong within the timeout', action: 'reconnect' },
  /** Too many connections or requests (client frames over --max-client-frames); reconnect with backoff. */
  TooManyRequests: { code: 4029, reason: 'too many connections or requests', action: 'reconnect' },
  /** The token does not allow this channel or topic. */
  Forbidden: { code: 4503, reason: 'topic not allowed by the token', action: 'terminal' },
  /** A message was too large to deliver. */
  MessageTooLarge: { code: 4509, reason: 'message too large', action: 'terminal' },
} as const satisfies Record<string, CloseCode>;

export type CloseCodeName = keyof typeof CloseCodes;

/** What a client should do for any close code, including ones this server never sends. */
export function actionForCloseCode(code: number): CloseCode['action'] {
  for (const c of Object.values(CloseCodes)) if (c.code === code) return c.action;
  if (code >= 4000 && code < 4500) return 'reconnect';
  if (code >= 4500 && code < 5000) return 'terminal';
  if (code === 1000) return 'none';
  return 'reconnect';
}
