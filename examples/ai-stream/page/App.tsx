/**
 * Ask a question; the answer streams in token by token. The answer's id is in the URL's hash, so a
 * reload (or the link in another tab) follows the same answer.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { Answer } from './Answer.js';
import { ask } from './backend.js';

const idFromHash = () => decodeURIComponent(location.hash.slice(1)) || undefined;

export function App() {
  const [id, setId] = useState(idFromHash);
  const [prompt, setPrompt] = useState('How does Herald keep a streamed answer across a page reload?');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const onHash = () => setId(idFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { id: next } = await ask(prompt);
      history.pushState(null, '', `#${next}`);
      setId(next);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="page">
      <p className="eyebrow">Herald example · streamed answer</p>
      <h1>Ask the (fake) model</h1>
      <p className="lead">
        A worker streams its answer token by token as one datastream (<code>publishStream</code>). Reload the
        page while it writes: the answer continues where it was, without a missing or repeated word.
      </p>
      <form className="ask" onSubmit={submit}>
        <textarea name="prompt" rows={2} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        <button type="submit" className="primary" disabled={busy || !prompt.trim()}>
          Ask
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {id && <Answer key={id} id={id} />}
    </main>
  );
}
