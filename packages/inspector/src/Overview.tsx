/** The numbers that say whether Herald is working: who is connected, and what flows, per second. */
import type { ReactNode } from 'react';
import type { Stats } from './api.js';
import { formatBytes, formatCount } from './format.js';
import { formatRate, type Rates } from './rates.js';

function Card({
  label,
  value,
  detail,
  id,
}: {
  label: string;
  value: ReactNode;
  detail: ReactNode;
  id: string;
}) {
  return (
    <div className="card stat" data-testid={`stat-${id}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      <div className="stat-detail">{detail}</div>
    </div>
  );
}

export function Overview({ stats, rates }: { stats: Stats | undefined; rates: Rates }) {
  if (!stats)
    return (
      <section className="overview">
        <p className="muted">Connecting to Herald…</p>
      </section>
    );
  return (
    <section className="overview" aria-label="Overview">
      <Card
        id="connections"
        label="Connections"
        value={formatCount(stats.connections)}
        detail={`WebSocket ${stats.transports.ws} · SSE ${stats.transports.sse}`}
      />
      <Card
        id="subscriptions"
        label="Subscriptions"
        value={formatCount(stats.subscriptions)}
        detail="topics, across connections"
      />
      <Card
        id="channels"
        label="Channels"
        value={formatCount(stats.channels)}
        detail="with a subscriber here"
      />
      <Card
        id="published"
        label="Published"
        value={
          <>
            {formatRate(rates.published)}
            <small>/s</small>
          </>
        }
        detail={`${formatCount(stats.published)} since start`}
      />
      <Card
        id="delivered"
        label="Delivered"
        value={
          <>
            {formatRate(rates.delivered)}
            <small>/s</small>
          </>
        }
        detail={`${formatCount(stats.delivered.messages)} · ${formatBytes(stats.delivered.bytes)}`}
      />
      <Card
        id="history"
        label="History"
        value={formatCount(stats.history.size)}
        detail={`messages per channel, ${stats.history.ttlSeconds} s`}
      />
    </section>
  );
}
