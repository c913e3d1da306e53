/**
 * Polls `GET /v1/admin/stats` once a second (one request at a time: the next is scheduled when the
 * previous one answered) and keeps the rates between the last two samples. A 401 means Herald wants
 * its signing key for this data: `locked` says so, and polling resumes when the key changes.
 */
import { useEffect, useState } from 'react';
import { fetchStats, HttpError, type Stats } from './api.js';
import { NO_RATES, type Rates, ratesBetween } from './rates.js';

export const POLL_MS = 1000;

export interface StatsView {
  stats: Stats | undefined;
  rates: Rates;
  /** Herald refused the admin data: it needs the signing key (or the one given is wrong). */
  locked: boolean;
  /** Herald could not be reached, or answered with another error. */
  error: string | undefined;
}

export function useStats(key: string | undefined): StatsView {
  const [view, setView] = useState<StatsView>({
    stats: undefined,
    rates: NO_RATES,
    locked: false,
    error: undefined,
  });

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let previous: Stats | undefined;
    const poll = async () => {
      try {
        const stats = await fetchStats(key);
        if (stopped) return;
        const rates = ratesBetween(previous, stats);
        previous = stats;
        setView({ stats, rates, locked: false, error: undefined });
      } catch (err) {
        if (stopped) return;
        const locked = err instanceof HttpError && err.status === 401;
        setView((v) => ({
          ...v,
          locked,
          error: locked ? undefined : `Herald is not answering: ${(err as Error).message}`,
        }));
        if (locked) return; // Wait for a key: asking again cannot succeed.
      }
      timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key]);

  return view;
}
