/** The page's calls to its own backend (src/server.ts), which holds the Herald credentials. */
import type { Realtime } from '@herald/realtime';
import type { importJob } from '../src/channels.js';

/** A token for one import's channel: the hook types its messages from it. */
export type ImportToken = Realtime.Token<typeof importJob, ['progress', 'log']>;

export interface NewImport {
  id: string;
  heraldUrl: string;
  token: ImportToken;
}

async function call<T>(method: string, path: string): Promise<T> {
  const res = await fetch(path, { method });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

export const createImport = () => call<NewImport>('POST', '/api/imports');
export const startImport = (id: string) => call<unknown>('POST', `/api/imports/start?id=${id}`);
export const importToken = (id: string) => call<ImportToken>('GET', `/api/imports/token?id=${id}`);
