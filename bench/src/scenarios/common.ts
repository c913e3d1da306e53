/**
 * What the scenarios share: the run context, subscriber groups spread over generator processes,
 * publishers, CPU meters and the latency histogram merge.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import {
  type ConnectResult,
  type MemReply,
  type PacedReply,
  type ProgressMessage,
  type PublishRequest,
  type PublishResult,
  request,
  type SubSnapshot,
  type SubTarget,
} from '../lib/ipc.js';
import { cpuSeconds, machineCpu, type Proc, rssBytes, spawnNode, stop } from '../lib/procs.js';
import type { Progress } from '../lib/progress.js';
import { probed, type RunningTarget } from '../targets.js';

const GEN = join(dirname(fileURLToPath(import.meta.url)), '..', 'gen', 'main.js');

export interface RunContext {
  quick: boolean;
  progress: Progress;
  /** The hard file-descriptor limit each process can raise itself to. */
  fdLimit: number;
  /** Loopback source addresses for subscriber sockets. */
  sources: string[];
}

/** Sockets one generator process opens at most (it needs a few descriptors of its own). */
export const socketsPerGenerator = (ctx: RunContext): number => Math.min(15_000, ctx.fdLimit - 200);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Mints a token for (channel, topic) on a target; baselines return an unsigned one. */
export async function mintToken(baseUrl: string, channel: string, topic: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/realtime/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ channel, name: topic }]),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { jwt?: string };
  if (res.status !== 201 || typeof body.jwt !== 'string')
    throw new Error(`token request to ${baseUrl} answered ${res.status}`);
  return body.jwt;
}

/** How subscribers reach each endpoint of a target, one token per channel. */
export async function subTargets(t: RunningTarget, channels: string[], topic: string): Promise<SubTarget[]> {
  return Promise.all(
    t.endpoints.map(async (e) => {
      if (t.spec.protocol === 'sio')
        return {
          host: e.host,
          port: e.port,
          protocol: 'sio' as const,
          paths: ['/socket.io/?EIO=4&transport=websocket'],
          rooms: channels,
        };
      const paths = await Promise.all(
        channels.map(async (c) => `/v1/realtime/connect?token=${await mintToken(e.url, c, topic)}`),
      );
      return { host: e.host, port: e.port, protocol: 'ws' as const, paths, rooms: [] };
    }),
  );
}

export interface GroupSnapshot {
  open: number;
  received: number;
  bytes: number;
  minPerSocket: number;
  maxPerSocket: number;
  closes: Record<string, number>;
  samples: number;
  pings: number;
  histogram: hdr.Histogram | undefined;
  loopDelayP99Ms: number;
}

/** Subscribers spread over as many generator processes as the descriptor limit asks for. */
export class SubscriberGroup {
  private constructor(
    readonly procs: Proc[],
    readonly connected: number,
    readonly failed: number,
    readonly errors: string[],
    readonly connectMs: number,
  ) {}

  static async open(
    ctx: RunContext,
    targets: SubTarget[],
    count: number,
    options: { sampleEvery: number; label: string; concurrency?: number },
  ): Promise<SubscriberGroup> {
    const per = socketsPerGenerator(ctx);
    const nProcs = Math.max(1, Math.ceil(count / per));
    const procs = Array.from({ length: nProcs }, (_, i) =>
      spawnNode(`generator-${i + 1}`, [GEN], { ipc: true }),
    );
    const progress = new Array<number>(nProcs).fill(0);
    const started = performance.now();
    try {
      const results = await Promise.all(
        procs.map((p, i) => {
          const share = Math.floor(count / nProcs) + (i < count % nProcs ? 1 : 0);
          const first = i * Math.floor(count / nProcs) + Math.min(i, count % nProcs);
          return request<ConnectResult>(
            p,
            {
              type: 'connect',
              targets,
              count: share,
              firstIndex: first,
              sources: ctx.sources,
              concurrency: options.concurrency ?? 200,
              sampleEvery: options.sampleEvery,
              timeoutMs: 15_000,
            },
            // Bounded: at most ~1 ms per socket plus a minute.
            60_000 + share * 2,
            (m) => {
              if (m.type !== 'progress') return;
              progress[i] = (m as ProgressMessage).connected;
              const total = progress.reduce((a, b) => a + b, 0);
              ctx.progress.status(
                `${options.label}: connected ${total.toLocaleString('en-US')} / ${count.toLocaleString('en-US')}`,
              );
            },
          );
        }),
      );
      const errors = [...new Set(results.flatMap((r) => r.errors))];
      return new SubscriberGroup(
        procs,
        results.reduce((a, r) => a + r.connected, 0),
        results.reduce((a, r) => a + r.failed, 0),
        errors,
        performance.now() - started,
      );
    } catch (e) {
      await Promise.all(procs.map((p) => stop(p, 1000)));
      throw e;
    }
  }

  /** Read pacing for every generator process (see gen/main.ts). */
  async pace(ms: number): Promise<void> {
    await Promise.all(this.procs.map((p) => request<PacedReply>(p, { type: 'pace', ms }, 10_000)));
  }

  get pids(): number[] {
    return this.procs.map((p) => p.pid);
  }

  async snapshot(histogram = false): Promise<GroupSnapshot> {
    const snaps = await Promise.all(
      this.procs.map((p) => request<SubSnapshot>(p, { type: 'snapshot', histogram }, 30_000)),
    );
    const closes: Record<string, number> = {};
    let merged: hdr.Histogram | undefined;
    for (const s of snaps) {
      for (const [k, v] of Object.entries(s.closes)) closes[k] = (closes[k] ?? 0) + v;
      if (s.histogram) {
        const h = hdr.decodeFromCompressedBase64(s.histogram);
        if (merged === undefined) merged = h;
        else merged.add(h);
      }
    }
    return {
      open: snaps.reduce((a, s) => a + s.open, 0),
      received: snaps.reduce((a, s) => a + s.received, 0),
      bytes: snaps.reduce((a, s) => a + s.bytes, 0),
      minPerSocket: Math.min(...snaps.map((s) => s.minPerSocket)),
      maxPerSocket: Math.max(...snaps.map((s) => s.maxPerSocket)),
      closes,
      samples: snaps.reduce((a, s) => a + s.samples, 0),
      pings: snaps.reduce((a, s) => a + s.pings, 0),
      histogram: merged,
      loopDelayP99Ms: Math.max(...snaps.map((s) => s.loopDelayP99Ms)),
    };
  }

  /** Waits until nothing more arrives for `quietMs` (bounded by `maxMs`); returns the last snapshot. */
  async drain(quietMs: number, maxMs: number, expected?: number): Promise<GroupSnapshot> {
    const until = performance.now() + maxMs;
    let last = await this.snapshot();
    let quietSince = performance.now();
    while (performance.now() < until) {
      if (expected !== undefined && last.received >= expected) break;
      await sleep(100);
      const s = await this.snapshot();
      if (s.received !== last.received) quietSince = performance.now();
      last = s;
      if (performance.now() - quietSince >= quietMs) break;
    }
    return last;
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => stop(p, 3000)));
  }
}

/** Starts a publisher process; `run` resolves when its time is up and its requests are answered. */
export async function runPublisher(
  req: Omit<PublishRequest, 'type' | 'id'>,
): Promise<{ proc: Proc; result: Promise<PublishResult> }> {
  const proc = spawnNode('publisher', [GEN], { ipc: true });
  const result = request<PublishResult>(proc, { type: 'publish', ...req }, req.durationMs + 30_000);
  // Awaited later; a failure before then (Ctrl-C, a crash) must not count as unhandled.
  result.catch(() => {});
  return { proc, result };
}

/** CPU time of sets of processes (and of the whole machine) over an interval. */
export class CpuMeter {
  private start: { t: number; cpu: number[]; machine: ReturnType<typeof machineCpu> };

  constructor(private readonly groups: Record<string, number[]>) {
    this.start = this.read();
  }

  private read() {
    const cpu = Object.values(this.groups).map((pids) => pids.reduce((a, p) => a + cpuSeconds(p), 0));
    return { t: performance.now(), cpu, machine: machineCpu() };
  }

  restart(): void {
    this.start = this.read();
  }

  /**
   * Per group: the share of one core used (1.0 = one core busy) over the interval. `machine` is the
   * whole machine's busy cores, `other` what no measured process accounts for (other users).
   */
  stop(): { seconds: number; cores: Record<string, number>; machineBusyCores: number; otherCores: number } {
    const end = this.read();
    const seconds = (end.t - this.start.t) / 1000;
    const cores: Record<string, number> = {};
    let ours = 0;
    Object.keys(this.groups).forEach((name, i) => {
      const used = (end.cpu[i] ?? 0) - (this.start.cpu[i] ?? 0);
      ours += used;
      cores[name] = seconds > 0 ? used / seconds : 0;
    });
    const machineBusy = end.machine.busy - this.start.machine.busy;
    return {
      seconds,
      cores,
      machineBusyCores: seconds > 0 ? machineBusy / seconds : 0,
      otherCores: seconds > 0 ? Math.max(0, machineBusy - ours) / seconds : 0,
    };
  }
}

/**
 * A server's memory, summed over its processes: Node processes answer through their probe (after a
 * full GC), others (redis-server) are read from /proc.
 */
export async function serverMemory(t: RunningTarget): Promise<{ rss: number; heapUsed: number }> {
  const nodes = probed(t);
  const replies = await Promise.all(
    nodes.map((p) => request<MemReply>(p, { type: 'mem', gc: true }, 30_000)),
  );
  const others = t.procs.filter((p) => !nodes.includes(p)).reduce((a, p) => a + rssBytes(p.pid), 0);
  return {
    rss: replies.reduce((a, r) => a + r.rss, 0) + others,
    heapUsed: replies.reduce((a, r) => a + r.heapUsed, 0),
  };
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export function latencyOf(h: hdr.Histogram | undefined): LatencySummary | undefined {
  if (h === undefined || h.totalCount === 0) return undefined;
  const ms = (p: number) => h.getValueAtPercentile(p) / 1000;
  return {
    count: h.totalCount,
    p50Ms: ms(50),
    p90Ms: ms(90),
    p99Ms: ms(99),
    p999Ms: ms(99.9),
    maxMs: h.maxValue / 1000,
  };
}

export const channelNames = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
