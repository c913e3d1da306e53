/** The page's calls to its own backend (src/server.ts), which starts the worker and mints tokens. */
import type { Realtime } from '@herald/realtime';
import type { answer } from '../src/channels.js';

export interface AnswerInfo {
  id: string;
  prompt: string;
  heraldUrl: string;
  token: Realtime.Token<typeof answer, ['text']>;
}

async function call(path: string, init?: RequestInit): Promise<AnswerInfo> {
  const res = await fetch(path, init);
  const body = (await res.json()) as AnswerInfo & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

export const ask = (prompt: string) =>
  call('/api/answers', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt }),
  });

export const answerInfo = (id: string) => call(`/api/answers?id=${encodeURIComponent(id)}`);
