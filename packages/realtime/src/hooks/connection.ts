/**
 * One connection of the hook, from token to close, outside React so an effect can start it and its
 * cleanup can end it:
 * - `close()` closes the socket — also one still being opened, as soon as it opens (W4, W5) — and
 *   nothing it receives afterwards reaches the store.
 * - Once open, the SDK's subscription reconnects by itself after a drop (backoff with full jitter)
 *   and resumes where it stopped, so no message is lost or repeated (W6, W9); its state changes are
 *   shown as the hook's, with why the connection closed.
 * - A missing token, or one whose JWT has expired, is replaced through `refreshToken()` before
 *   connecting; a refused first connect asks for one fresh token, not one per retry (W22, W9);
 *   later refusals and expiries are the SDK's to handle, through the same `refreshToken()`.
 * - What the SDK does not retry — a failed first connect, a terminal close code (4503, 4509, …),
 *   an expired token with nothing to renew it — ends here: retried with the same backoff, or shown
 *   as an error.
 */
import { ConnectionError, RealtimeError } from '../errors.js';
import { backoffDelay } from '../subscribe/backoff.js';
import { subscribe } from '../subscribe/subscribe.js';
import type { StateInfo, SubscriptionState } from '../subscribe/subscription.js';
import { InngestSubscriptionState as State } from './state.js';
import type { Status, SubscriptionStore } from './subscription-store.js';
import { expired, fromRefresh, type ResolvedToken } from './token.js';
import type { HookToken, ReconnectOptions } from './types.js';

const CLOSED_BY_COMPONENT = 'closed by the component (unmounted, disabled, or its token or key changed)';

export interface ConnectionOptions {
  token: HookToken | null | undefined;
  /** Reads the component's current `refreshToken` (its identity may change on every render). */
  refreshToken: () => (() => Promise<unknown>) | undefined;
  apiBaseUrl: string | undefined;
  reconnect: boolean | ReconnectOptions | undefined;
  /** Where the first subscription starts (see the hook's `since`). */
  since?: 'oldest' | { epoch: string; seq: number } | undefined;
  store: SubscriptionStore<unknown>;
}

interface OpenStream {
  getReader(): ReadableStreamDefaultReader<unknown>;
  close(reason?: string): void;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function closeCodeOf(error: Error): number | undefined {
  return error instanceof ConnectionError ? error.closeCode : undefined;
}

export class HookConnection {
  #closed = false;
  /** A subscription opened once: `since` no longer applies. */
  #started = false;
  #stream: OpenStream | undefined;
  #wake: (() => void) | undefined;
  /** The token in use (after any refresh). */
  #token: ResolvedToken | undefined;
  /** The SDK subscription's last state. */
  #sdkState: SubscriptionState | undefined;
  #attempt = 0;

  constructor(private readonly o: ConnectionOptions) {
    o.store.claim(this);
    this.#token = (o.token ?? undefined) as ResolvedToken | undefined;
    // Start a microtask later: StrictMode mounts, unmounts and mounts again synchronously, so the
    // discarded mount is closed before it opens anything.
    queueMicrotask(() => {
      if (!this.#closed) void this.#run();
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    const stream = this.#stream;
    if (stream) {
      this.#status({ state: State.Closing });
      // The read loop reports `closed` once the socket has closed.
      stream.close(CLOSED_BY_COMPONENT);
    } else
      this.#status({
        state: State.Closed,
        closeReason: { reason: CLOSED_BY_COMPONENT, willReconnect: false },
      });
  }

  #status(status: Partial<Status>): void {
    this.o.store.setStatus(this, status);
  }

  get #retries(): boolean {
    return this.o.reconnect !== false;
  }

  async #run(): Promise<void> {
    // The token came from refreshToken() and has not been accepted yet: a refusal is not its age.
    let fresh = false;
    while (!this.#closed) {
      const token = await this.#usableToken();
      if (token === 'stop') return;
      if (token === 'retry') {
        if (await this.#backoff()) continue;
        return;
      }
      if (token.fresh) fresh = true;

      this.#status({ state: State.Connecting });
      let stream: OpenStream;
      try {
        stream = await this.#subscribe(token.token);
      } catch (err) {
        if (this.#closed) return;
        const error = asError(err);
        const terminal =
          (error instanceof ConnectionError && error.action === 'terminal') ||
          (error instanceof RealtimeError && error.code === 'invalid_argument');
        // A browser cannot see why a socket was refused: assume the token, once per token.
        if (!terminal && !fresh && this.o.refreshToken()) this.#token = undefined;
        const retry = !terminal && this.#retries;
        this.#status({
          state: State.Error,
          error,
          closeReason: { code: closeCodeOf(error), reason: error.message, willReconnect: retry },
        });
        if (retry && (await this.#backoff())) continue;
        return;
      }
      if (this.#closed) {
        // Opened after the component let go of it (W5): close it now.
        stream.close(CLOSED_BY_COMPONENT);
        return;
      }
      this.#stream = stream;
      this.#started = true;
      fresh = false;
      this.#status({ state: State.Active, error: null, closeReason: null });

      const ended = await this.#read(stream);
      this.#stream = undefined;
      // What arrived before the end is shown now, not an interval later (bufferInterval).
      this.o.store.release();
      if (this.#closed) {
        this.#status({
          state: State.Closed,
          closeReason: { reason: CLOSED_BY_COMPONENT, willReconnect: false },
        });
        return;
      }
      // The SDK gave up (terminal code, expired token it could not renew) or the server closed
      // normally: the SDK does not reconnect after either.
      let retry = this.#retries;
      if (ended instanceof ConnectionError && ended.action === 'terminal') retry = false;
      if (ended instanceof ConnectionError && ended.action === 'refresh-token') {
        if (this.o.refreshToken()) this.#token = undefined;
        else if (this.#token?.key) retry = false;
      }
      this.#status(
        ended
          ? {
              state: State.Error,
              error: ended,
              closeReason: { code: closeCodeOf(ended), reason: ended.message, willReconnect: retry },
            }
          : {
              state: State.Closed,
              closeReason: { code: 1000, reason: 'the server closed the connection', willReconnect: retry },
            },
      );
      if (!retry || !(await this.#backoff())) return;
    }
  }

  /**
   * The token to connect with: the one given while it is valid, else one from refreshToken().
   * 'retry' after a failed refresh (shown as an error), 'stop' when there is no way to get one.
   */
  async #usableToken(): Promise<{ token: ResolvedToken; fresh: boolean } | 'retry' | 'stop'> {
    const token = this.#token;
    if (token && !expired(token)) return { token, fresh: false };
    const refresh = this.o.refreshToken();
    if (!refresh) {
      if (token) return { token, fresh: false }; // Expired, nothing to renew it: the server decides.
      this.#status({
        state: State.Error,
        error: new RealtimeError(
          'invalid_argument',
          'useInngestSubscription: no token, and no refreshToken to get one',
        ),
      });
      return 'stop';
    }
    this.#status({ state: State.RefreshingToken });
    try {
      const next = fromRefresh(await refresh(), token, this.o.token);
      if (!next) throw new RealtimeError('invalid_argument', 'refreshToken() returned no token');
      if (this.#closed) return 'stop';
      this.#token = next;
      return { token: next, fresh: true };
    } catch (err) {
      if (this.#closed) return 'stop';
      this.#status({ state: State.Error, error: asError(err) });
      return this.#retries ? 'retry' : 'stop';
    }
  }

  #subscribe(token: ResolvedToken): Promise<OpenStream> {
    const reconnect = this.o.reconnect ?? true;
    return subscribe({
      channel: token.channel as string,
      topics: [...token.topics],
      key: token.key,
      apiBaseUrl: this.o.apiBaseUrl,
      reconnect,
      // Only until a subscription opened: after that the SDK resumes from what it delivered.
      ...(this.#started || this.o.since === undefined ? {} : { since: this.o.since }),
      refreshToken: this.o.refreshToken() ? () => this.#refreshForSdk() : undefined,
      onStateChange: (state, info) => this.#onSdkState(state, info),
      // Reported without ending the subscription: an invalid message (dropped), a resume that
      // could not replay everything, a failed token refresh (retried).
      onError: (error) => {
        if (!this.#closed) this.#status({ error });
      },
    }) as unknown as Promise<OpenStream>;
  }

  /** The SDK needs a new token (expired, refused, or about to expire): ask the component for one. */
  async #refreshForSdk(): Promise<string> {
    const refresh = this.o.refreshToken();
    if (!refresh) throw new RealtimeError('invalid_argument', 'refreshToken is no longer given');
    // While connected (an in-band refresh) the hook stays `active`.
    if (this.#sdkState !== 'open') this.#status({ state: State.RefreshingToken });
    const next = fromRefresh(await refresh(), this.#token, this.o.token);
    if (!next?.key) throw new RealtimeError('invalid_argument', 'refreshToken() returned no token');
    this.#token = next;
    return next.key;
  }

  /** Shows the SDK subscription's state as the hook's. */
  #onSdkState(state: SubscriptionState, info: StateInfo): void {
    this.#sdkState = state;
    if (this.#closed || this.#stream === undefined) return; // The first connect is shown by #run.
    if (state === 'open') this.#status({ state: State.Active, error: null, closeReason: null });
    else if (state === 'connecting') this.#status({ state: State.Connecting });
    else if (state === 'reconnecting')
      this.#status({
        state: State.Connecting,
        ...(info.error ? { error: info.error } : {}),
        closeReason: {
          code: info.closeCode,
          reason: info.reason || info.error?.message || 'the connection was lost',
          willReconnect: true,
        },
      });
  }

  /** Feeds the stream to the store until it ends; resolves with the error it ended with, if any. */
  async #read(stream: OpenStream): Promise<Error | undefined> {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        if (this.#closed) continue;
        // A connection that delivers is healthy: a later failure starts the backoff over.
        this.#attempt = 0;
        this.o.store.push(value);
      }
    } catch (err) {
      return asError(err);
    }
  }

  /** Waits the SDK's backoff before the next attempt; false if close() ended the wait. */
  #backoff(): Promise<boolean> {
    const r = this.o.reconnect;
    const delay = backoffDelay(this.#attempt++, typeof r === 'object' ? r : {});
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(!this.#closed);
      };
      const timer = setTimeout(done, delay);
      this.#wake = done;
    });
  }
}
