/** The live feed's rows: a row per data message, one growing row per datastream, newest first. */
import { describe, expect, it } from 'vitest';
import { type FeedMessage, feedRows } from './feed-rows.js';

const at = new Date('2026-01-01T12:00:00Z');
const seqs = new Map<FeedMessage, number>();
const ctx = { seqOf: (m: FeedMessage) => seqs.get(m), seenAt: () => at };

function msg(kind: string, data: unknown, seq: number, streamId?: string): FeedMessage {
  const m = { kind, topic: 't', data, streamId, ...(kind === 'data' ? { createdAt: at } : {}) };
  seqs.set(m, seq);
  return m;
}

describe('feedRows', () => {
  it('folds a datastream into one row whose text grows, between data rows', () => {
    const rows = feedRows(
      [
        msg('data', { a: 1 }, 1),
        msg('datastream-start', 's1', 2, 's1'),
        msg('chunk', 'Hello, ', 3, 's1'),
        msg('data', { b: 2 }, 4),
        msg('chunk', 'world', 5, 's1'),
      ],
      ctx,
    );
    expect(rows.map((r) => r.type)).toEqual(['data', 'stream', 'data']);
    expect(rows[1]).toMatchObject({ text: 'Hello, world', chunks: 2, ended: false, seq: 2, lastSeq: 5 });
    expect(rows[0]).toMatchObject({ data: { b: 2 }, seq: 4 });
  });

  it('marks a stream ended, and opens a row for chunks whose start is gone', () => {
    const rows = feedRows([msg('chunk', 'tail', 7, 's2'), msg('datastream-end', 's2', 8, 's2')], ctx);
    expect(rows).toEqual([
      expect.objectContaining({ type: 'stream', text: 'tail', chunks: 1, ended: true, seq: 7, lastSeq: 8 }),
    ]);
  });
});
