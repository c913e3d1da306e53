/** One button starts an import; its progress replaces the previous one's. */
import { useState } from 'react';
import { createImport, type NewImport } from './backend.js';
import { ImportProgress } from './ImportProgress.js';

export function App() {
  const [job, setJob] = useState<NewImport | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setJob(await createImport());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="page">
      <p className="eyebrow">Herald example · job progress</p>
      <h1>Import customers</h1>
      <p className="lead">
        A background worker imports <code>customers.csv</code> in batches and publishes its progress and a log
        line per batch to this import's own channel. The page follows it live with{' '}
        <code>useInngestSubscription</code>, using a token its backend minted.
      </p>
      <button type="button" className="primary" onClick={start} disabled={busy}>
        {job ? 'Start another import' : 'Start import'}
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {job && <ImportProgress key={job.id} job={job} />}
    </main>
  );
}
