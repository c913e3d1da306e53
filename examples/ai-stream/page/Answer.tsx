/** One answer: the question, and the text as it streams in (with a caret while it does). */
import { useStreamedAnswer } from './use-streamed-answer.js';

export function Answer({ id }: { id: string }) {
  const { prompt, text, done, resumedAfter, error } = useStreamedAnswer(id);
  return (
    <section className="conversation">
      {prompt !== undefined && <p className="question">{prompt}</p>}
      <div className="answer-card">
        <p className="answer" data-testid="answer" data-done={done}>
          {text}
          {!done && <span className="caret" aria-hidden="true" />}
        </p>
        <p className="status" data-testid="status">
          {done ? 'complete' : text ? 'writing…' : 'thinking…'}
          {resumedAfter !== undefined && ` · continued after message #${resumedAfter} when the page reloaded`}
        </p>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </section>
  );
}
