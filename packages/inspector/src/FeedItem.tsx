/** One row of the live feed: a data message, or a datastream whose text grows in place. */
import type { FeedRow } from './feed-rows.js';
import { formatTime } from './format.js';
import { JsonView } from './JsonView.js';

export function FeedItem({ row }: { row: FeedRow }) {
  if (row.type === 'data')
    return (
      <li className="item" data-kind="data" data-seq={row.seq}>
        <div className="item-meta">
          <span className="kind kind-data">data</span>
          <span className="item-topic">{row.topic}</span>
          {row.seq !== undefined && <span className="item-seq">#{row.seq}</span>}
          <time className="item-time" dateTime={row.time.toISOString()}>
            {formatTime(row.time)}
          </time>
        </div>
        <JsonView value={row.data} />
      </li>
    );
  const seqs =
    row.seq === undefined ? '' : row.lastSeq !== row.seq ? `#${row.seq}–${row.lastSeq}` : `#${row.seq}`;
  return (
    <li className="item" data-kind="datastream" data-ended={row.ended} data-seq={row.seq}>
      <div className="item-meta">
        <span className="kind kind-stream">datastream</span>
        <span className="item-topic">{row.topic}</span>
        {seqs && <span className="item-seq">{seqs}</span>}
        <span className="item-status">
          {row.ended ? `ended · ${row.chunks} chunk${row.chunks === 1 ? '' : 's'}` : 'streaming…'}
        </span>
        <time className="item-time" dateTime={row.time.toISOString()}>
          {formatTime(row.time)}
        </time>
      </div>
      <p className="stream-text">
        {row.text}
        {!row.ended && <span className="caret" aria-hidden="true" />}
      </p>
    </li>
  );
}
