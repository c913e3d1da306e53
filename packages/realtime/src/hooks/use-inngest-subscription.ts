/**
 * `useInngestSubscription`: 0.4.7's React hook (same options, result and states), built on
 * `subscribe()` and its `close()`:
 * - one connection per mounted, enabled hook — closed on unmount, on `enabled: false`, and when the
 *   token (compared by value) or `key` changes, even while it is still opening, StrictMode included;
 * - every message reaches `data` and, once, `freshData` (see SubscriptionStore);
 * - with `bufferInterval`, batches are shown every interval, and nothing is left behind when the
 *   interval changes or the component unmounts;
 * - client-only: nothing runs while rendering on a server (effects do not run there).
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import { HookConnection } from './connection.js';
import { SubscriptionStore } from './subscription-store.js';
import { tokenIdentity } from './token.js';
import type { HookToken, InngestSubscription, UseInngestSubscriptionOptions } from './types.js';

// The snapshot that reached the screen must be reported before any other code runs (see
// SubscriptionStore), which only a layout effect guarantees; servers have no screen (and React 18
// warns about layout effects there).
const useCommitEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect;

export function useInngestSubscription<const TToken extends HookToken | null | undefined>({
  token,
  refreshToken,
  key,
  enabled = true,
  bufferInterval = 0,
  historyLimit,
  apiBaseUrl,
  reconnect,
  since,
}: UseInngestSubscriptionOptions<TToken>): InngestSubscription<NonNullable<TToken>> {
  const [store] = useState(() => new SubscriptionStore<unknown>());
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  useCommitEffect(() => store.rendered(snapshot.version), [store, snapshot]);

  useEffect(() => store.setHistoryLimit(historyLimit), [store, historyLimit]);

  useEffect(() => {
    if (!(bufferInterval > 0)) return;
    store.hold(true);
    const timer = setInterval(() => store.release(), bufferInterval);
    return () => {
      clearInterval(timer);
      // A new interval, 0, or unmount: show what was gathered (0.4.7 stranded it, W20).
      store.hold(false);
    };
  }, [store, bufferInterval]);

  // Read at connect time, so neither needs to be an effect dependency (an inline token or
  // refreshToken has a new identity on every render). Updated once committed, before the
  // connection effect below runs.
  const latest = useRef({ token, refreshToken, since });
  useCommitEffect(() => {
    latest.current = { token, refreshToken, since };
  });
  const identity = tokenIdentity(token ?? undefined);
  const retry = JSON.stringify(reconnect ?? true);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `identity` and `key` stand for the token (read from `latest`): a different one must reconnect.
  useEffect(() => {
    if (!enabled) return;
    const connection = new HookConnection({
      token: latest.current.token,
      refreshToken: () => latest.current.refreshToken as (() => Promise<unknown>) | undefined,
      apiBaseUrl,
      reconnect: JSON.parse(retry) as UseInngestSubscriptionOptions<TToken>['reconnect'],
      since: latest.current.since,
      store,
    });
    return () => connection.close();
  }, [store, enabled, identity, key, apiBaseUrl, retry]);

  const reset = useCallback(() => store.reset(), [store]);
  return {
    data: snapshot.data,
    latestData: snapshot.latestData,
    freshData: snapshot.freshData,
    error: snapshot.error,
    state: snapshot.state,
    closeReason: snapshot.closeReason,
    reset,
  } as InngestSubscription<NonNullable<TToken>>;
}
