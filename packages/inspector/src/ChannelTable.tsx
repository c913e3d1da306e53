/**
 * Channels with a subscriber on this node, busiest first as Herald lists them, with their topics and
 * message rate. Choosing one points the live feed at it (with the topics its subscribers watch).
 */
import type { Stats } from './api.js';
import { formatCount } from './format.js';
import { channelId, formatRate, type Rates } from './rates.js';
import type { Selection } from './selection.js';

interface Props {
  stats: Stats | undefined;
  rates: Rates;
  selection: Selection;
  onSelect(next: Selection): void;
}

export function ChannelTable({ stats, rates, selection, onSelect }: Props) {
  const channels = stats?.channelList ?? [];
  return (
    <section className="card panel" aria-labelledby="channels-title">
      <div className="panel-head">
        <h2 id="channels-title">Channels</h2>
        <span className="muted">click one to watch it</span>
      </div>
      {channels.length === 0 ? (
        <p className="empty">No channel has a subscriber yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="channels">
            <thead>
              <tr>
                <th>Channel</th>
                <th className="num">Subscribers</th>
                <th>Topics</th>
                <th className="num">Msg/s</th>
                <th className="num">Last seq</th>
              </tr>
            </thead>
            <tbody>
              {channels.map((c) => {
                const topics = Object.keys(c.topics);
                const selected = c.channel === selection.channel;
                return (
                  <tr
                    key={channelId(c)}
                    className={selected ? 'selected' : undefined}
                    data-channel={c.channel}
                    tabIndex={0}
                    onClick={() => onSelect({ channel: c.channel, topics })}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter') onSelect({ channel: c.channel, topics });
                    }}
                  >
                    <td className="channel-name" title={`env ${c.env}`}>
                      {c.channel}
                    </td>
                    <td className="num">{formatCount(c.subscribers)}</td>
                    <td>
                      {topics.map((t) => (
                        <span key={t} className="chip" title={`${c.topics[t]} subscriber(s)`}>
                          {t}
                          <span className="chip-count">{c.topics[t]}</span>
                        </span>
                      ))}
                    </td>
                    <td className="num" data-testid="rate">
                      {formatRate(rates.channels.get(channelId(c)))}
                    </td>
                    <td className="num">{c.seq > 0 ? formatCount(c.seq) : '–'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
