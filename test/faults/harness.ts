/**
 * The fault-test rig: real Herald nodes (optionally on one real Redis) behind a TCP proxy standing
 * in for the load balancer, SDK subscribers that record what they receive, and publishers that
 * retry with idempotency keys. Everything on 127.0.0.1; everything stopped at the end.
 */
import { subscribe } from '@herald/realtime';
import { mintToken } from '../support/client.js';
import { type HeraldProcess, startHerald } from '../support/herald.js';
import { type Acked, type Audit, audit } from '../support/ledger.js';
import { type RedisProcess, startRedis } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';

export interface Cluster {
  redis: RedisProcess | undefined;
  nodes: HeraldProcess[];
  proxy: TcpProxy;
  /** Base URLs of the nodes still expected to be up (for publishers). */
  liveUrls(): string[];
  stop(): Promise<void>;
}

export async function startCluster(o: {
  nodes: number;
  redis?: boolean;
  aof?: boolean;
  args?: string[];
}): Promise<Cluster> {
  const redis = o.redis ? await startRedis({ aof: o.aof ?? false }) : undefined;
  // Each test publishes at most 10,000 messages to its channel: a window that holds them all means a
  // subscriber starved by a busy machine still resumes inside it (the window test sets its own).
  const window = o.args?.includes('--history-size') ? [] : ['--history-size', '10000'];
  const args = [...window, ...(redis ? ['--redis-url', redis.url] : []), ...(o.args ?? [])];
  const nodes = await Promise.all(Array.from({ length: o.nodes }, () => startHerald({ args })));
  const proxy = await TcpProxy.start(nodes.map((n) => n.port));
  const down = new Set<HeraldProcess>();
  return {
    redis,
    nodes,
    proxy,
    liveUrls: () =>
      nodes
        .filter((n) => n.proc.exitCode === null && n.proc.signalCode === null && !down.has(n))
        .map((n) => n.url),
    stop: async () => {
      await proxy.close();
      await Promise.all(nodes.map((n) => n.stop(3000)));
      await redis?.stop();
    },
  };
}

export interface Watcher {
  /** Message keys in arrival order: `<publisher>/<i>`. */
  received: string[];
  states: { state: string; at: number; closeCode?: number; recovered?: boolean }[];
  errors: Error[];
  close(): void;
}

/**
 * An SDK subscriber through the proxy. Recovery is the SDK's default behaviour; the options here
 * only make tests faster (shorter backoff) and let tokens outlive their 60 s (refreshToken).
 * `plain: true` passes nothing but the channel, topics, token and callbacks.
 */
export async function watch(
  cluster: Cluster,
  channel: string,
  extra: Record<string, unknown> = {},
  plain = false,
): Promise<Watcher> {
  const direct = cluster.liveUrls()[0] as string;
  const w: Watcher = { received: [], states: [], errors: [], close: () => {} };
  const stream = await subscribe({
    channel,
    topics: ['t'],
    apiBaseUrl: cluster.proxy.url,
    key: await mintToken(direct, channel, ['t']),
    ...(plain
      ? {}
      : {
          refreshToken: async () => mintToken(cluster.liveUrls()[0] as string, channel, ['t']),
          reconnect: { minDelayMs: 100, maxDelayMs: 1000 },
        }),
    onStateChange: (state, info) =>
      w.states.push({ state, at: Date.now(), closeCode: info.closeCode, recovered: info.recovered }),
    onError: (e) => w.errors.push(e),
    onMessage: (m) => {
      const d = m.data as { i: number; p: string };
      w.received.push(`${d.p}/${d.i}`);
    },
    ...extra,
  });
  w.close = () => stream.close();
  return w;
}

/** Audits one subscriber against every publisher's acknowledged messages (one channel). */
export function auditWatcher(w: Watcher, published: Map<string, Acked[]>): Audit {
  const seqOf = new Map<string, number>();
  const all: Acked[] = [];
  for (const [name, acks] of published) {
    for (const a of acks) {
      seqOf.set(`${name}/${a.i}`, a.seq);
      all.push(a);
    }
  }
  const seqs = w.received.map((k) => seqOf.get(k) ?? -1);
  return audit(all, seqs);
}

/**
 * Resolves once every watcher has received `n` messages (failure guard: `limitMs`). A watcher told
 * `recovered: false` will never get what it missed: that fails at once, saying so.
 */
export async function allReceived(watchers: Watcher[], n: number, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (watchers.some((w) => w.received.length < n)) {
    const unrecovered = watchers.filter((w) => w.states.some((s) => s.recovered === false));
    if (unrecovered.length > 0)
      throw new Error(
        `resumed past the history window (recovered: false), so nothing more will come:\n${unrecovered.map(describeWatcher).join('\n')}`,
      );
    if (Date.now() > until)
      throw new Error(
        `gave up: received ${watchers.map((w) => w.received.length).join(', ')} of ${n}\n${watchers
          .filter((w) => w.received.length < n)
          .map(describeWatcher)
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A stalled watcher's last states and errors, so a failure says why it stopped receiving. */
function describeWatcher(w: Watcher): string {
  const t0 = w.states[0]?.at ?? 0;
  const states = w.states
    .slice(-8)
    .map(
      (s) =>
        `+${s.at - t0}ms ${s.state}${s.closeCode ? ` ${s.closeCode}` : ''}${s.recovered === undefined ? '' : ` recovered=${s.recovered}`}`,
    );
  const errors = w.errors.slice(-3).map((e) => `${e.name}: ${e.message}`);
  return `  watcher at ${w.received.length} (last ${w.received.at(-1)}): states [${states.join(', ')}] errors [${errors.join('; ')}]`;
}

/** Milliseconds from `since` to each watcher's first `open` after it (its recovery time). */
export function recoveryTimes(watchers: Watcher[], since: number): number[] {
  return watchers
    .map((w) => w.states.find((s) => s.state === 'open' && s.at >= since)?.at)
    .filter((t): t is number => t !== undefined)
    .map((t) => t - since);
}

export function report(name: string, audits: Audit[], recovery: number[]): void {
  const sum = (k: keyof Audit) => audits.reduce((n, a) => n + a[k], 0);
  const r = recovery.length
    ? `recovery ${Math.min(...recovery)}–${Math.max(...recovery)} ms`
    : 'no reconnects';
  console.log(
    `[fault] ${name}: ${audits.length} subscribers, expected ${audits[0]?.expected ?? 0} each; lost ${sum('lost')}, duplicated ${sum('duplicated')}, reordered ${sum('reordered')}; ${r}`,
  );
}
