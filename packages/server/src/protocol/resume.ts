/**
 * Resume positions a subscriber can present when it connects (**Herald**; Inngest has no replay).
 *
 * `?since=` on `/connect` and `/sse`, or SSE's `Last-Event-ID` header, in one of these forms:
 * - `<epoch>:<seq>` — resume after that position, in every channel of the token (tokens usually
 *   hold one channel);
 * - `oldest` — start from the oldest message still in history;
 * - `now` — no replay, but tell me the current position (so a later reconnect can resume);
 * - a JSON object `{"<channel>": "<epoch>:<seq>" | "oldest" | "now", …}` — per channel.
 *
 * When a connection asked for any of these, the server sends one `subscribed` frame per channel
 * before that channel's messages: `{"kind":"subscribed","channel":C,"topic":"","data":
 * {"epoch":E,"seq":S,"recovered":bool}}` — the stream continues with the message after seq S.
 * `recovered: false` means the position could not be honoured (another epoch, or messages after it
 * left the history window): the app should refetch its state.
 */
import type { Position } from '../engine/engine.js';
import { badRequest } from './errors.js';

export type StartPoint = Position | 'oldest' | 'now';

/** Channel → where to start; `'*'` applies to every channel without its own entry. */
export type ResumeRequest = Map<string, StartPoint>;

export const ANY_CHANNEL = '*';

function parsePoint(s: string): StartPoint | undefined {
  if (s === 'oldest' || s === 'now') return s;
  const i = s.lastIndexOf(':');
  if (i <= 0) return undefined;
  const seq = Number(s.slice(i + 1));
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { epoch: s.slice(0, i), seq };
}

/** Parses a `since` value; throws a 400 naming `since` when it is malformed. */
export function parseResume(raw: string, field = 'since'): ResumeRequest {
  const text = raw.trim();
  if (text.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      throw badRequest(`${field} is not valid JSON`, field);
    }
    const out: ResumeRequest = new Map();
    for (const [channel, v] of Object.entries(obj as Record<string, unknown>)) {
      const p = typeof v === 'string' ? parsePoint(v) : undefined;
      if (p === undefined)
        throw badRequest(
          `${field}: channel ${JSON.stringify(channel)} needs "<epoch>:<seq>", "oldest" or "now"`,
          field,
        );
      out.set(channel, p);
    }
    return out;
  }
  const p = parsePoint(text);
  if (p === undefined)
    throw badRequest(`${field} must be "<epoch>:<seq>", "oldest", "now" or a JSON object`, field);
  return new Map([[ANY_CHANNEL, p]]);
}

export function startPointFor(req: ResumeRequest, channel: string): StartPoint | undefined {
  return req.get(channel) ?? req.get(ANY_CHANNEL);
}

/** The `subscribed` frame (see the file comment). */
export function subscribedFrame(channel: string, position: Position, recovered: boolean): string {
  return JSON.stringify({
    kind: 'subscribed',
    channel,
    topic: '',
    data: { epoch: position.epoch, seq: position.seq, recovered },
  });
}
