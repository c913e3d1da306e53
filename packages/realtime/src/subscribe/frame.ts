/**
 * Parsing server frames. Inngest's frames (inngest-protocol.md §3.2) plus Herald's position fields:
 * `epoch` and `seq` on every sequenced frame, and `channel`/`topic` on chunks. A frame that is not
 * JSON, or whose fields have the wrong types, is rejected with a reason (0.4.7 let `JSON.parse` throw
 * inside an async handler, W15); optional fields must be absent or strings, as Inngest's clients expect.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';

export const FRAME_KINDS = [
  'step',
  'run',
  'data',
  'ping',
  'pong',
  'closing',
  'event',
  'sub',
  'unsub',
  'datastream-start',
  'datastream-end',
  'chunk',
  // Herald: where a resumed stream continues, and a token about to expire.
  'subscribed',
  'token-expiring',
] as const;

export type FrameKind = (typeof FRAME_KINDS)[number];

export interface Frame {
  kind: FrameKind;
  data: unknown;
  channel?: string;
  topic?: string;
  run_id?: string;
  fn_id?: string;
  env_id?: string;
  stream_id?: string;
  created_at?: Date;
  /** Herald: the channel's epoch when the message was published. */
  epoch?: string;
  /** Herald: the message's sequence number in its channel (all topics), from 1. */
  seq?: number;
  /** Herald: the request id echoed on `sub`/`unsub` replies. */
  id?: string | number;
}

const KINDS = new Set<string>(FRAME_KINDS);
const STRING_FIELDS = ['channel', 'topic', 'run_id', 'fn_id', 'env_id', 'stream_id', 'epoch'] as const;

export type FrameResult = { ok: true; frame: Frame } | { ok: false; reason: string };

export function parseFrameObject(v: unknown): FrameResult {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { ok: false, reason: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.kind !== 'string' || !KINDS.has(o.kind))
    return { ok: false, reason: `unknown kind ${JSON.stringify(o.kind)}` };
  const frame: Frame = { kind: o.kind as FrameKind, data: o.data };
  for (const f of STRING_FIELDS) {
    const value = o[f];
    if (value === undefined) continue;
    if (typeof value !== 'string') return { ok: false, reason: `${f} must be a string` };
    frame[f] = value;
  }
  if (o.created_at !== undefined) {
    if (typeof o.created_at !== 'string') return { ok: false, reason: 'created_at must be a string' };
    const d = new Date(o.created_at);
    if (Number.isNaN(d.getTime())) return { ok: false, reason: 'created_at is not a date' };
    frame.created_at = d;
  }
  if (o.seq !== undefined) {
    if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq))
      return { ok: false, reason: 'seq must be an integer' };
    frame.seq = o.seq;
  }
  if (typeof o.id === 'string' || typeof o.id === 'number') frame.id = o.id;
  return { ok: true, frame };
}

export function parseFrame(text: string): FrameResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return parseFrameObject(v);
}

/**
 * `Realtime.messageSchema`: 0.4.7 exported its zod frame schema; this is the same check as a
 * Standard Schema with zod-like `parse`/`safeParse`, so it needs no zod at runtime.
 */
export const messageSchema = {
  '~standard': {
    version: 1,
    vendor: 'herald',
    validate: (value: unknown): StandardSchemaV1.Result<Frame> => {
      const r = parseFrameObject(value);
      return r.ok ? { value: r.frame } : { issues: [{ message: r.reason }] };
    },
  },
  parse(value: unknown): Frame {
    const r = parseFrameObject(value);
    if (!r.ok) throw new TypeError(`Invalid realtime message: ${r.reason}`);
    return r.frame;
  },
  safeParse(value: unknown): { success: true; data: Frame } | { success: false; error: Error } {
    const r = parseFrameObject(value);
    return r.ok ? { success: true, data: r.frame } : { success: false, error: new TypeError(r.reason) };
  },
} satisfies StandardSchemaV1<unknown, Frame> & Record<string, unknown>;
