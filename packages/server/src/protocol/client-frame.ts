/**
 * Client → server WebSocket frames. Inngest's clients never send any; Inngest's server understands
 * `sub` (add the topics of another token) and `unsub` (drop topics). Herald answers both (F14) with a
 * frame of the same kind: `{"kind":"sub","data":{"ok":true,"topics":[…]},"id"?:…}` or
 * `{"kind":"sub","data":{"ok":false,"error":"…"},"id"?:…}`. An optional `id` on the request is echoed
 * so a client can match replies. Anything else is ignored (and counted).
 */
import type { WireTopic } from './topic.js';

export type ClientFrame =
  | { kind: 'sub'; token: string; id?: string | number }
  | { kind: 'unsub'; topics: WireTopic[]; id?: string | number };

export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; reason: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readId(v: Record<string, unknown>): string | number | undefined {
  const id = v.id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

export function parseClientFrame(text: string): ParseResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isRecord(v)) return { ok: false, reason: 'not a JSON object' };
  const id = readId(v);
  if (v.kind === 'sub') {
    if (typeof v.data !== 'string' || v.data === '')
      return { ok: false, reason: 'sub: data must be a token string' };
    return { ok: true, frame: { kind: 'sub', token: v.data, ...(id === undefined ? {} : { id }) } };
  }
  if (v.kind === 'unsub') {
    if (!Array.isArray(v.data)) return { ok: false, reason: 'unsub: data must be an array of topics' };
    const topics: WireTopic[] = [];
    for (const t of v.data) {
      if (!isRecord(t) || typeof t.channel !== 'string' || typeof t.name !== 'string')
        return { ok: false, reason: 'unsub: each topic needs a string channel and name' };
      topics.push({ kind: typeof t.kind === 'string' ? t.kind : 'run', channel: t.channel, name: t.name });
    }
    return { ok: true, frame: { kind: 'unsub', topics, ...(id === undefined ? {} : { id }) } };
  }
  return { ok: false, reason: `unknown kind ${JSON.stringify(v.kind)}` };
}

export function replyFrame(
  kind: 'sub' | 'unsub',
  id: string | number | undefined,
  data: { ok: true; topics: { channel: string; name: string }[] } | { ok: false; error: string },
): string {
  return JSON.stringify({ kind, data, ...(id === undefined ? {} : { id }) });
}
