/**
 * Optional enforcement of token expiry on open connections (`--enforce-token-expiry`; Inngest only
 * checks at connect, F13). A connection is told `TOKEN_EXPIRY_WARNING_MS` before its token expires
 * (`{"kind":"token-expiring","topic":"","data":{"expires_at":…}}`); a client that sends a fresh
 * token in a `sub` frame keeps its connection, others are closed with 4001 at expiry.
 */
import { CloseCodes } from '../protocol/close-codes.js';
import { type Connection, ConnState } from './connection.js';

export const TOKEN_EXPIRY_WARNING_MS = 10_000;

export function enforceTokenExpiry(c: Connection, now: number): void {
  if (c.state !== ConnState.Open || c.tokenExpiresAt === Number.POSITIVE_INFINITY) return;
  if (now >= c.tokenExpiresAt) {
    c.close(
      CloseCodes.TokenExpired,
      'token expired: reconnect with a fresh token, or send one in a sub frame',
    );
    return;
  }
  const lead = Math.min(TOKEN_EXPIRY_WARNING_MS, Math.max(1000, c.tokenLifetimeMs / 3));
  if (!c.tokenExpiryWarned && now >= c.tokenExpiresAt - lead) {
    c.tokenExpiryWarned = true;
    c.deliverControl(
      JSON.stringify({
        kind: 'token-expiring',
        topic: '',
        data: { expires_at: new Date(c.tokenExpiresAt).toISOString() },
      }),
    );
  }
}
