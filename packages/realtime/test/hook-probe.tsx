/**
 * A component that renders the hook and records what it returned: every render's result, and every
 * `freshData` the screen showed (once per commit, as an effect of the app would see it).
 */
import { useEffect } from 'react';
import { type InngestSubscription, type NamedToken, useInngestSubscription } from '../src/hooks/index.js';
import type { UseInngestSubscriptionOptions } from '../src/hooks/types.js';

export type Probed = InngestSubscription<NamedToken>;

export interface Recorder {
  /** Every render's result, in order. */
  renders: Probed[];
  /** Each `freshData` that reached the screen, in order. */
  committedFresh: unknown[][];
  /** The latest result. */
  last(): Probed;
  /** Resolves once the latest result satisfies `check` (the limit only guards against a hang). */
  until(check: (r: Probed) => boolean, what: string, limitMs?: number): Promise<Probed>;
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

export function recorder(): Recorder {
  const renders: Probed[] = [];
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
  const until = (check: (r: Probed) => boolean, what: string, limitMs = 15_000) =>
    new Promise<Probed>((resolve, reject) => {
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
        const r = renders[renders.length - 1];
        reject(
          new Error(
            `gave up waiting for ${what}: state ${r?.state}, ${r?.data.length} messages, error ${r?.error?.message}`,
          ),
        );
      }, limitMs);
      listeners.add(test);
      test();
    });
  return { renders, committedFresh, last, until, afterCommit };
}
