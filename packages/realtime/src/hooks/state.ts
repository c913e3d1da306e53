/**
 * The hook's connection states, with 0.4.7's names and values so code comparing `state` with either
 * the enum or the bare strings (`state === "connecting"`, as the seed does) keeps working.
 */
export enum InngestSubscriptionState {
  /** Not connected: before the first connect, after `enabled: false`, or after a clean close. */
  Closed = 'closed',
  /** The last attempt failed; `error` says why (a retry may follow, see `closeReason`). */
  Error = 'error',
  /** Waiting for `refreshToken()`: there was no token, or the last one expired or was refused. */
  RefreshingToken = 'refresh_token',
  /** Opening a connection, or re-opening one after it dropped. */
  Connecting = 'connecting',
  /** Connected: messages arrive in `data`. */
  Active = 'active',
  /** The hook is closing its connection (it reaches `closed` once the socket is closed). */
  Closing = 'closing',
}
