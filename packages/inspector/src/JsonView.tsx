/** Pretty-printed JSON with its keys, strings, numbers and literals coloured (no HTML injection: spans). */
import type { ReactNode } from 'react';

const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

export function JsonView({ value }: { value: unknown }) {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  const parts: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    const [whole, string, colon, literal] = m;
    const kind =
      string !== undefined ? (colon ? 'key' : 'string') : literal !== undefined ? 'literal' : 'number';
    parts.push(
      <span key={at} className={`json-${kind}`}>
        {string ?? whole}
      </span>,
    );
    if (colon) parts.push(colon);
    last = at + whole.length;
  }
  parts.push(text.slice(last));
  return <pre className="json">{parts}</pre>;
}
