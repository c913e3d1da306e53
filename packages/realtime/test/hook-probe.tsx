/**
 * Components that render a hook and record what it returned: every render's result, and (for
 * `useInngestSubscription`) every `freshData` the screen showed (once per commit, as an effect of
 * the app would see it). `HookProbe` renders any hook, e.g. a `useRealtime` (inngest/react's or
 * Herald's).
 */
import { useEffect } from 'react';
import { type InngestSubscription, type NamedToken, useInngestSubscription } from '../src/hooks/index.js';
import type { UseInngestSubscriptionOptions } from '../src/hooks/types.js';

export type Probed = InngestSubscription<NamedToken>;

export interface Recorder<T = Probed> {
  /** Every render's result, in order. */
  renders: T[];
  /** Each `freshData` that reached the screen, in order. */
  committedFresh: unknown[][];
  /** The latest result. */
  last(): T;
  /** Resolves once the latest result satisfies `check` (the limit only guards against a hang). */
  until(check: (r: T) => boolean, what: string, limitMs?: number): Promise<T>;
  /** Called by `Probe` after each commit (wakes `until`). */
  afterCommit(): void;
}

/** Renders the hook with `opts` (not spread: a prop named `key` would be React's) into `rec`. */
export function Probe({
  rec,
  opts,
}: {
  rec: Recorder;
  opts: UseInngestSubscriptionOptions<NamedToken | null>;
}) {
  const result = useInngestSubscription(opts);
  rec.renders.push(result);
  useEffect(() => {
    if (result.freshData.length > 0) rec.committedFresh.push(result.freshData);
  }, [rec, result.freshData]);
  useEffect(() => rec.afterCommit());
  return (
    <output data-state={result.state}>
      {result.data.length} {result.error?.message}
    </output>
  );
}

/** Renders `hook(options)` and records each result into `rec` (the hook must be a stable function). */
export function HookProbe<O, R>({
  rec,
  hook,
  options,
}: {
  rec: Recorder<R>;
  hook: (options: O) => R;
  options: O;
}) {
  rec.renders.push(hook(options));
  useEffect(() => rec.afterCommit());
  return null;
}

const probedSummary = (r: Probed | undefined) =>
  `state ${r?.state}, ${r?.data.length} messages, error ${r?.error?.message}`;

/** A recorder of a hook's results; `summary` says what the last one was when a wait gives up. */
export function recorder<T = Probed>(
  summary: (r: T | undefined) => string = probedSummary as (r: T | undefined) => string,
): Recorder<T> {
  const renders: T[] = [];
  const committedFresh: unknown[][] = [];
  const listeners = new Set<() => void>();
  const afterCommit = () => {
    for (const l of listeners) l();
  };
  const last = () => {
    const r = renders[renders.length - 1];
    if (!r) throw new Error('the probe has not rendered yet');
    return r;
  };
  const until = (check: (r: T) => boolean, what: string, limitMs = 15_000) =>
    new Promise<T>((resolve, reject) => {
      const test = () => {
        const r = renders[renders.length - 1];
        if (r && check(r)) {
          listeners.delete(test);
          clearTimeout(timer);
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(test);
        reject(new Error(`gave up waiting for ${what}: ${summary(renders[renders.length - 1])}`));
      }, limitMs);
      listeners.add(test);
      test();
    });
  return { renders, committedFresh, last, until, afterCommit };
}
