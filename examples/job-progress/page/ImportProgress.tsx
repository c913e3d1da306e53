/**
 * One import, live: a progress bar and the worker's log, from the React hook. The worker is started
 * once the hook is subscribed, so not one message is missed.
 */
import { useInngestSubscription } from '@herald/realtime/hooks';
import { useEffect, useRef } from 'react';
import { importToken, type NewImport, startImport } from './backend.js';

export function ImportProgress({ job }: { job: NewImport }) {
  const { data, state, error } = useInngestSubscription({
    token: job.token,
    // Called when the token expired or was refused (e.g. reconnecting after a minute).
    refreshToken: () => importToken(job.id),
    apiBaseUrl: job.heraldUrl,
  });

  const started = useRef(false);
  useEffect(() => {
    if (state !== 'active' || started.current) return;
    started.current = true;
    void startImport(job.id);
  }, [state, job.id]);

  // Messages are typed from the token: `progress` carries { pct, rows, total }, `log` a string.
  const progress = data.findLast((m) => m.topic === 'progress')?.data;
  const log = data.flatMap((m) => (m.topic === 'log' ? [m.data] : []));
  const pct = progress?.pct ?? 0;
  const done = pct === 100;

  return (
    <section className="card" data-testid="import" data-done={done}>
      <div className="card-head">
        <span className="job-id">
          import <code>{job.id}</code>
        </span>
        <span className={`state state-${state}`} data-state={state}>
          {state === 'active' ? 'live' : state}
        </span>
      </div>
      <div className="bar" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
        <div className={done ? 'bar-fill done' : 'bar-fill'} style={{ width: `${pct}%` }} />
      </div>
      <div className="numbers">
        <span className="pct" data-testid="pct">
          {pct}%
        </span>
        <span className="muted">
          {progress
            ? `${progress.rows.toLocaleString('en-US')} of ${progress.total.toLocaleString('en-US')} rows`
            : 'waiting for the worker…'}
        </span>
      </div>
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
      <ol className="log" data-testid="log">
        {log.map((line, i) => (
          // The log only grows: its index is its identity.
          // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
          <li key={i}>{line}</li>
        ))}
      </ol>
    </section>
  );
}
