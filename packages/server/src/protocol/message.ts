/**
 * Server → client frames, encoded as Inngest's clients expect them (inngest-protocol.md §3.2) plus
 * Herald's additions: `channel`/`topic` on chunk frames (F1) and the channel position
 * (`epoch`, `seq`) on every sequenced frame, and the `run` frame (a run's lifecycle, for the whole
 * channel: it has no topic). Optional string fields are omitted, never `null`
 * (Inngest's clients drop a whole frame with a `null` in one).
 *
 * A message is encoded once, as its `body`: the JSON object without its closing brace. The engine
 * appends the position it assigns (`,"epoch":"…","seq":N}`), so the bytes every subscriber gets are
 * produced once per message, on every node.
 */
export type MessageKind = 'data' | 'datastream-start' | 'datastream-end' | 'chunk' | 'run';

export interface MessageFields {
  kind: MessageKind;
  env: string;
  channel: string;
  /** Empty for a `run` frame (it belongs to the whole channel), which then carries no `topic`. */
  topic: string;
  /** The data as JSON text (already validated). For datastream-start/end: the stream id as a JSON string. */
  dataJson: string;
  /** ISO 8601 time the server accepted the message. */
  createdAt: string;
  runId?: string;
  /** A JSON object's text from the publish `metadata` parameter. */
  metadataJson?: string;
  /** For chunks: the stream the chunk belongs to. */
  streamId?: string;
}

const str = (s: string) => JSON.stringify(s);

/** Encodes a message frame without its closing brace (see the file comment). */
export function encodeBody(m: MessageFields): string {
  if (m.kind === 'chunk') {
    let out = `{"kind":"chunk","stream_id":${str(m.streamId ?? '')},"data":${m.dataJson}`;
    out += `,"channel":${str(m.channel)},"topic":${str(m.topic)},"env_id":${str(m.env)}`;
    out += `,"created_at":${str(m.createdAt)}`;
    if (m.runId) out += `,"run_id":${str(m.runId)}`;
    return out;
  }
  let out = `{"kind":${str(m.kind)},"data":${m.dataJson}`;
  if (m.metadataJson !== undefined) out += `,"metadata":${m.metadataJson}`;
  out += `,"created_at":${str(m.createdAt)}`;
  if (m.channel) out += `,"channel":${str(m.channel)}`;
  out += `,"env_id":${str(m.env)}`;
  if (m.kind !== 'run') out += `,"topic":${str(m.topic)}`;
  if (m.runId) out += `,"run_id":${str(m.runId)}`;
  return out;
}

/** Completes a body with the position the engine assigned. */
export function withPosition(body: string, epoch: string, seq: number): string {
  return `${body},"epoch":${str(epoch)},"seq":${seq}}`;
}

/**
 * The `closing` frame sent to every connection when the server shuts down: reconnect now, to
 * another node. Same shape as Inngest's (§3.2 d).
 */
export function closingFrame(now: Date = new Date()): string {
  return `{"kind":"closing","data":"","created_at":${str(now.toISOString())},"topic":""}`;
}
