/**
 * Which channel and topics the live feed watches, kept in the URL's hash (`#channel=demo&topics=a,b`)
 * so a reload or a shared link shows the same feed. The hash, not the path: Herald serves the
 * inspector at `/` only.
 */
import { useCallback, useEffect, useState } from 'react';

export interface Selection {
  channel: string;
  topics: string[];
}

/** What a newcomer's first publish (README, "Try it") goes to. */
export const DEFAULT_SELECTION: Selection = { channel: 'demo', topics: ['hello'] };

export function parseTopics(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

function fromHash(): Selection {
  const params = new URLSearchParams(location.hash.slice(1));
  const channel = params.get('channel');
  const topics = parseTopics(params.get('topics') ?? '');
  return channel && topics.length > 0 ? { channel, topics } : DEFAULT_SELECTION;
}

export function useSelection(): [Selection, (next: Selection) => void] {
  const [selection, setState] = useState(fromHash);
  useEffect(() => {
    const onHash = () => setState(fromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const select = useCallback((next: Selection) => {
    const hash = new URLSearchParams({ channel: next.channel, topics: next.topics.join(',') });
    history.replaceState(null, '', `#${hash}`);
    setState(next);
  }, []);
  return [selection, select];
}
