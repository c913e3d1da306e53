/**
 * Scenario 3, memory: the server's RSS and V8 heap per idle subscribed connection. The server is
 * measured after a full GC with no connection (its own baseline), then after each level of idle
 * connections (all subscribed to one channel, each level added to the last); per connection =
 * (level − baseline) / connections. Levels above what this machine's file-descriptor limit allows
 * one process to hold are capped, and the result says so.
 */
import type { RunningTarget } from '../targets.js';
import { type RunContext, SubscriberGroup, serverMemory, sleep, subTargets } from './common.js';

export interface MemoryParams {
  levels: number[];
  /** Time for the server to settle after the last connection, before measuring. */
  settleMs: number;
}

export interface MemoryLevel {
  requested: number;
  connections: number;
  /** Why `connections` is lower than `requested`, if it is. */
  cappedBy?: string;
  rssBytes: number;
  heapBytes: number;
  rssPerConnBytes: number;
  heapPerConnBytes: number;
}

export interface MemoryResult {
  baseline: { rssBytes: number; heapBytes: number };
  levels: MemoryLevel[];
}

/** Descriptors a server needs besides its connections (stdio, epoll, listener, IPC, timers…). */
const SERVER_FD_RESERVE = 200;

export function memoryCap(ctx: RunContext): number {
  return ctx.fdLimit - SERVER_FD_RESERVE;
}

export async function memory(ctx: RunContext, t: RunningTarget, p: MemoryParams): Promise<MemoryResult> {
  const channel = 'bench-memory';
  const targets = await subTargets(t, [channel], 't');
  await sleep(500);
  const base = await serverMemory(t);
  const groups: SubscriberGroup[] = [];
  const levels: MemoryLevel[] = [];
  const cap = memoryCap(ctx) * t.endpoints.length;
  let open = 0;
  try {
    for (const requested of p.levels) {
      const want = Math.min(requested, cap);
      if (want <= open) continue;
      const label = `${want.toLocaleString('en-US')} idle connections`;
      const g = await SubscriberGroup.open(ctx, targets, want - open, {
        sampleEvery: 0,
        label,
        concurrency: 300,
      });
      groups.push(g);
      if (g.failed > 0)
        throw new Error(`${g.failed} of ${want - open} connections failed: ${g.errors.join('; ')}`);
      open += g.connected;
      ctx.progress.status(`${label}: settling`);
      await sleep(p.settleMs);
      const m = await serverMemory(t);
      const level: MemoryLevel = {
        requested,
        connections: open,
        rssBytes: m.rss,
        heapBytes: m.heapUsed,
        rssPerConnBytes: (m.rss - base.rss) / open,
        heapPerConnBytes: (m.heapUsed - base.heapUsed) / open,
      };
      if (want < requested)
        level.cappedBy = `RLIMIT_NOFILE hard limit ${ctx.fdLimit} per process (raising it needs CAP_SYS_RESOURCE)`;
      levels.push(level);
    }
  } finally {
    await Promise.all(groups.map((g) => g.close()));
  }
  return { baseline: { rssBytes: base.rss, heapBytes: base.heapUsed }, levels };
}
