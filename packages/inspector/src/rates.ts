/**
 * Message rates from two samples of the admin stats: counters only grow, so a rate is the
 * difference over the time between the samples (the server's clock, from `now`). A counter that went
 * down — Herald restarted, or a channel was forgotten and subscribed again — gives no rate rather
 * than a negative one.
 */
import type { ChannelInfo, Stats } from './api.js';

export interface Rates {
  /** Messages published per second on this node. */
  published: number | undefined;
  /** Messages written to subscribers per second. */
  delivered: number | undefined;
  /** Per channel (see `channelId`): messages received per second. */
  channels: Map<string, number>;
}

export const NO_RATES: Rates = { published: undefined, delivered: undefined, channels: new Map() };

/** Identifies a channel across samples: channels of different envs may share a name. */
export function channelId(c: Pick<ChannelInfo, 'env' | 'channel'>): string {
  return `${c.env}\u0000${c.channel}`;
}

function perSecond(before: number, after: number, seconds: number): number | undefined {
  return after >= before ? (after - before) / seconds : undefined;
}

export function ratesBetween(prev: Stats | undefined, next: Stats): Rates {
  if (!prev) return NO_RATES;
  const seconds = (Date.parse(next.now) - Date.parse(prev.now)) / 1000;
  if (!(seconds > 0)) return NO_RATES;
  const before = new Map(prev.channelList.map((c) => [channelId(c), c.received]));
  const channels = new Map<string, number>();
  for (const c of next.channelList) {
    const was = before.get(channelId(c));
    const rate = was === undefined ? undefined : perSecond(was, c.received, seconds);
    if (rate !== undefined) channels.set(channelId(c), rate);
  }
  return {
    published: perSecond(prev.published, next.published, seconds),
    delivered: perSecond(prev.delivered.messages, next.delivered.messages, seconds),
    channels,
  };
}

/** "0", "0.5", "12", "1.2k": short enough for a table cell. */
export function formatRate(rate: number | undefined): string {
  if (rate === undefined) return '–';
  if (rate >= 1000) return `${(rate / 1000).toFixed(1)}k`;
  if (rate >= 10 || Number.isInteger(rate)) return rate.toFixed(0);
  return rate.toFixed(1);
}
