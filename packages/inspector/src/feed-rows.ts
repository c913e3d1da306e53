/**
 * What the live feed lists, built from the messages the hook received (oldest first): one row per
 * data message, and one row per datastream whose text grows as its chunks arrive — rather than a
 * row per chunk, which would bury everything else. Newest rows first.
 */

/** The fields of a received message the feed uses (the hook's messages have them all). */
export interface FeedMessage {
  kind: string;
  topic: string;
  data: unknown;
  createdAt?: Date;
  streamId?: string;
}

export interface DataRow {
  type: 'data';
  id: string;
  topic: string;
  seq: number | undefined;
  time: Date;
  data: unknown;
}

export interface StreamRow {
  type: 'stream';
  id: string;
  topic: string;
  /** Seq of the first and the last message of the stream seen so far. */
  seq: number | undefined;
  lastSeq: number | undefined;
  time: Date;
  text: string;
  chunks: number;
  ended: boolean;
}

export type FeedRow = DataRow | StreamRow;

export interface RowContext {
  /** Herald's sequence number of a message, when it has one. */
  seqOf(message: FeedMessage): number | undefined;
  /** When the message arrived (stream messages carry no creation time). */
  seenAt(message: FeedMessage): Date;
}

export function feedRows(messages: readonly FeedMessage[], ctx: RowContext): FeedRow[] {
  const rows: FeedRow[] = [];
  const streams = new Map<string, StreamRow>();
  messages.forEach((m, index) => {
    const seq = ctx.seqOf(m);
    if (m.kind === 'data') {
      rows.push({
        type: 'data',
        id: seq === undefined ? `i${index}` : `s${seq}`,
        topic: m.topic,
        seq,
        time: m.createdAt ?? ctx.seenAt(m),
        data: m.data,
      });
      return;
    }
    const streamId = m.streamId ?? '';
    let row = streams.get(streamId);
    if (!row) {
      // A chunk whose start is no longer in the kept history opens the row as well.
      row = {
        type: 'stream',
        id: `d${streamId}`,
        topic: m.topic,
        seq,
        lastSeq: seq,
        time: ctx.seenAt(m),
        text: '',
        chunks: 0,
        ended: false,
      };
      streams.set(streamId, row);
      rows.push(row);
    }
    row.lastSeq = seq ?? row.lastSeq;
    if (m.kind === 'chunk') {
      row.text += typeof m.data === 'string' ? m.data : JSON.stringify(m.data);
      row.chunks++;
    } else if (m.kind === 'datastream-end') row.ended = true;
  });
  return rows.reverse();
}
