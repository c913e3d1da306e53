/**
 * The WebSocket close codes a Herald server sends, and what a client should do for each. This is a
 * copy of the server's table (packages/server/src/protocol/close-codes.ts): the SDK runs in
 * browsers and cannot import the server. A test asserts both tables are equal.
 *
 * Ranges, for codes not listed: 4000–4499 reconnect, 4500–4999 terminal.
 */
export interface CloseCode {
  readonly code: number;
  readonly reason: string;
  readonly action: 'none' | 'reconnect' | 'refresh-token' | 'terminal';
}

export const CloseCodes = {
  Normal: { code: 1000, reason: 'normal closure', action: 'none' },
  GoingAway: { code: 1001, reason: 'server shutting down', action: 'reconnect' },
  ProtocolError: { code: 1002, reason: 'protocol error', action: 'terminal' },
  InvalidPayload: { code: 1007, reason: 'invalid UTF-8', action: 'terminal' },
  UnsupportedData: { code: 1003, reason: 'binary frames are not supported', action: 'terminal' },
  FrameTooLarge: { code: 1009, reason: 'frame too large', action: 'terminal' },
  InternalError: { code: 1011, reason: 'internal error', action: 'reconnect' },
  TokenExpired: { code: 4001, reason: 'token expired', action: 'refresh-token' },
  SlowConsumer: { code: 4008, reason: 'slow consumer: send queue full', action: 'reconnect' },
  FeedLost: { code: 4010, reason: 'live feed interrupted; reconnect and resume', action: 'reconnect' },
  PongTimeout: { code: 4009, reason: 'no pong within the timeout', action: 'reconnect' },
  TooManyRequests: { code: 4029, reason: 'too many connections or requests', action: 'reconnect' },
  Forbidden: { code: 4503, reason: 'topic not allowed by the token', action: 'terminal' },
  MessageTooLarge: { code: 4509, reason: 'message too large', action: 'terminal' },
} as const satisfies Record<string, CloseCode>;

/** What to do after a close with `code`, including codes this table does not list. */
export function actionForCloseCode(code: number): CloseCode['action'] {
  for (const c of Object.values(CloseCodes)) if (c.code === code) return c.action;
  if (code >= 4000 && code < 4500) return 'reconnect';
  if (code >= 4500 && code < 5000) return 'terminal';
  if (code === 1000) return 'none';
  return 'reconnect';
}
