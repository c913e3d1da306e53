/**
 * The live feed of one channel, received as any app would: Herald's own React hook,
 * `useInngestSubscription`, with a token this page mints (POST /v1/realtime/token; with the signing
 * key when Herald has one). Each choice of channel and topics is its own subscription (a fresh hook).
 */
import { positionOf } from '@herald/realtime';
import { useInngestSubscription } from '@herald/realtime/hooks';
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { mintToken } from './api.js';
import { FeedItem } from './FeedItem.js';
import { type FeedMessage, feedRows } from './feed-rows.js';
import { parseTopics, type Selection } from './selection.js';

/** Rows kept: the feed is for watching, not an archive. */
const KEEP = 500;

interface Props {
  selection: Selection;
  adminKey: string | undefined;
  onSelect(next: Selection): void;
}

export function Feed({ selection, adminKey, onSelect }: Props) {
  const [channel, setChannel] = useState(selection.channel);
  const [topics, setTopics] = useState(selection.topics.join(', '));
  // A channel chosen elsewhere (the table) fills the form.
  useEffect(() => {
    setChannel(selection.channel);
    setTopics(selection.topics.join(', '));
  }, [selection]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const list = parseTopics(topics);
    if (channel.trim() && list.length > 0) onSelect({ channel: channel.trim(), topics: list });
  };
  const id = `${selection.channel}\u0000${selection.topics.join(',')}`;

  return (
    <section className="card panel feed" aria-labelledby="feed-title">
      <div className="panel-head">
        <h2 id="feed-title">Live feed</h2>
      </div>
      <form className="feed-form" onSubmit={submit}>
        <label>
          Channel
          <input name="feed-channel" value={channel} onChange={(e) => setChannel(e.target.value)} />
        </label>
        <label>
          <span>
            Topics <span className="muted">comma-separated</span>
          </span>
          <input name="feed-topics" value={topics} onChange={(e) => setTopics(e.target.value)} />
        </label>
        <button type="submit">Watch</button>
      </form>
      <ChannelFeed key={id} selection={selection} adminKey={adminKey} />
    </section>
  );
}

function ChannelFeed({ selection, adminKey }: { selection: Selection; adminKey: string | undefined }) {
  const { channel, topics } = selection;
  const { data, state, error, reset } = useInngestSubscription({
    refreshToken: async () => ({ channel, topics, key: await mintToken(channel, topics, adminKey) }),
    apiBaseUrl: location.origin,
    historyLimit: KEEP,
  });
  // Stream messages carry no creation time: show when they arrived.
  const seen = useRef(new WeakMap<object, Date>());
  const rows = useMemo(
    () =>
      feedRows(data as unknown as FeedMessage[], {
        seqOf: (m) => positionOf(m)?.seq,
        seenAt: (m) => {
          const at = seen.current.get(m) ?? new Date();
          seen.current.set(m, at);
          return at;
        },
      }),
    [data],
  );

  return (
    <>
      <div className="feed-status">
        <span className={`state state-${state}`} data-testid="feed-state" data-state={state}>
          <span className="dot" />
          {state === 'active' ? 'live' : state.replace('_', ' ')}
        </span>
        <span className="muted">
          <b>{channel}</b> · {topics.join(', ')}
        </span>
        <span className="spacer" />
        <span className="muted">{rows.length === 0 ? '' : `${rows.length} shown`}</span>
        <button type="button" className="link-button" onClick={reset} disabled={rows.length === 0}>
          Clear
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
      {rows.length === 0 ? (
        <p className="empty">
          Waiting for messages on <b>{channel}</b>. Publish one from “Try it”, or with curl.
        </p>
      ) : (
        <ol className="items" aria-label="Messages">
          {rows.map((row) => (
            <FeedItem key={row.id} row={row} />
          ))}
        </ol>
      )}
    </>
  );
}
