/**
 * Follows one answer's datastream with `subscribe()`, and makes a reload lose nothing:
 * - every message's text and position (`positionOf`) are kept in sessionStorage (kept-answer.ts);
 * - after a reload, the kept text shows at once and the subscription starts `since` the kept
 *   position: Herald replays what came after it, then continues live — no gap, no repeat;
 * - with nothing kept (a new tab, a shared link), it starts from the `oldest` message Herald keeps
 *   for the answer's channel, which rebuilds the whole answer.
 * The SDK's reconnect covers a dropped connection the same way, by itself.
 */
import { positionOf, subscribe } from '@herald/realtime';
import { useEffect, useState } from 'react';
import { answerInfo } from './backend.js';
import { keepAnswer, loadAnswer } from './kept-answer.js';

export interface AnswerView {
  prompt: string | undefined;
  text: string;
  done: boolean;
  /** The seq the page continued after when it was reloaded mid-answer. */
  resumedAfter: number | undefined;
  error: string | undefined;
}

export function useStreamedAnswer(id: string): AnswerView {
  const [view, setView] = useState<AnswerView>(() => {
    const kept = loadAnswer(id);
    return {
      prompt: undefined,
      text: kept?.text ?? '',
      done: kept?.done ?? false,
      resumedAfter: kept && !kept.done ? kept.position?.seq : undefined,
      error: undefined,
    };
  });

  useEffect(() => {
    let stopped = false;
    let close: (() => void) | undefined;
    const fail = (err: unknown) => setView((v) => ({ ...v, error: (err as Error).message }));
    const follow = async () => {
      const kept = loadAnswer(id);
      const info = await answerInfo(id);
      if (stopped) return;
      setView((v) => ({ ...v, prompt: info.prompt }));
      if (kept?.done) return;
      const stream = await subscribe({
        channel: info.token.channel,
        topics: ['text'],
        key: info.token.key,
        apiBaseUrl: info.heraldUrl,
        since: kept?.position ?? 'oldest',
        refreshToken: async () => (await answerInfo(id)).token,
        // E.g. the kept position left Herald's history (`recovered: false`): say so.
        onError: fail,
      });
      close = () => stream.close();
      if (stopped) return close();
      let text = kept?.text ?? '';
      for await (const message of stream) {
        if (message.kind === 'chunk') text += String(message.data);
        const done = message.kind === 'datastream-end';
        keepAnswer(id, { text, position: positionOf(message), done });
        setView((v) => ({ ...v, text, done }));
        if (done) break;
      }
    };
    follow().catch(fail);
    return () => {
      stopped = true;
      close?.();
    };
  }, [id]);

  return view;
}
