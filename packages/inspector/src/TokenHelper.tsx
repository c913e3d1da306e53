/**
 * Mints a subscription token for a channel's topics and shows ready-to-run code with it: curl, the
 * SDK, React. A token is what a backend gives a browser; it is checked when a subscriber connects.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { mintToken } from './api.js';
import { CopyButton } from './CopyButton.js';
import { parseTopics, type Selection } from './selection.js';
import { type SnippetKind, snippet } from './snippets.js';

const TABS: { kind: SnippetKind; label: string }[] = [
  { kind: 'curl', label: 'curl' },
  { kind: 'sdk', label: 'SDK' },
  { kind: 'react', label: 'React' },
];

interface Minted {
  channel: string;
  topics: string[];
  jwt: string;
  ttlSeconds: number | undefined;
}

/** The token's lifetime, read from its claims (not verified: only shown). */
function lifetime(jwt: string): number | undefined {
  try {
    const claims = JSON.parse(atob((jwt.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as {
      exp?: number;
      iat?: number;
    };
    return claims.exp !== undefined && claims.iat !== undefined ? claims.exp - claims.iat : undefined;
  } catch {
    return undefined;
  }
}

interface Props {
  selection: Selection;
  adminKey: string | undefined;
  authOn: boolean;
}

export function TokenHelper({ selection, adminKey, authOn }: Props) {
  const [channel, setChannel] = useState(selection.channel);
  const [topics, setTopics] = useState(selection.topics.join(', '));
  const [minted, setMinted] = useState<Minted | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tab, setTab] = useState<SnippetKind>('curl');
  useEffect(() => {
    setChannel(selection.channel);
    setTopics(selection.topics.join(', '));
  }, [selection]);

  const mint = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const list = parseTopics(topics);
    try {
      const jwt = await mintToken(channel, list, adminKey);
      setMinted({ channel, topics: list, jwt, ttlSeconds: lifetime(jwt) });
    } catch (err) {
      setMinted(undefined);
      setError((err as Error).message);
    }
  };

  const code =
    minted &&
    snippet(tab, {
      origin: location.origin,
      channel: minted.channel,
      topics: minted.topics,
      jwt: minted.jwt,
      authOn,
    });

  return (
    <section className="card panel" aria-labelledby="token-title">
      <div className="panel-head">
        <h2 id="token-title">Subscription token</h2>
        <span className="muted">and code that uses it</span>
      </div>
      <form className="row token-form" onSubmit={mint}>
        <label>
          Channel
          <input name="token-channel" value={channel} onChange={(e) => setChannel(e.target.value)} required />
        </label>
        <label>
          Topics
          <input name="token-topics" value={topics} onChange={(e) => setTopics(e.target.value)} required />
        </label>
        <button type="submit">Mint token</button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {minted && code && (
        <div className="token">
          <div className="token-line">
            <code className="jwt" data-testid="jwt" title={minted.jwt}>
              {minted.jwt}
            </code>
            <CopyButton text={minted.jwt} label="Copy token" />
          </div>
          <p className="muted">
            Valid for {minted.ttlSeconds ?? '?'} s, checked when a subscriber connects. In an app, your
            backend mints it (<code>getSubscriptionToken</code>) and the page asks for a fresh one when it
            expires.
          </p>
          <div className="tabs" role="tablist">
            {TABS.map((t) => (
              <button
                key={t.kind}
                type="button"
                role="tab"
                aria-selected={tab === t.kind}
                className={tab === t.kind ? 'tab active' : 'tab'}
                onClick={() => setTab(t.kind)}
              >
                {t.label}
              </button>
            ))}
            <span className="spacer" />
            <CopyButton text={code} />
          </div>
          <pre className="snippet" data-testid="snippet">
            {code}
          </pre>
        </div>
      )}
    </section>
  );
}
