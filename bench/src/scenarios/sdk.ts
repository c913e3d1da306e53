/**
 * Scenario 6, SDK: `subscribe()` of @herald/realtime (the workspace package, its built dist) against
 * @inngest/realtime 0.4.7's, both against the same Herald (in-memory engine), on the same channel,
 * with the same 100-byte payloads. Each client runs in its own process (sdk/client.ts) and the
 * publisher in another (a generator process, pipelined HTTP), so one client's costs never mix with
 * the other's, nor with the publisher's. Three measurements per client, each in a fresh client
 * process:
 *
 * - live: a publisher pushes N messages as fast as Herald accepts them (several in flight) while the
 *   client's `for await` loop reads them. Messages/s received and the client's CPU per message. On
 *   this machine Herald's publish path, not the client, usually sets this pace: compare CPU per
 *   message, and the backlog figure below.
 * - backlog: the client process is stopped (SIGSTOP) once subscribed, the N messages are published
 *   (they wait in the kernel's socket buffers and Herald's send queue), then it is continued
 *   (SIGCONT): the rate at which it reads them is the client's own ceiling.
 * - unread: the stream `subscribe()` returned is never read while N messages arrive; heapUsed after a
 *   full GC before, after N/2 and after N messages. A bounded client stays flat over the second half.
 *   Afterwards the stream is read to see what it held and how it ended.
 *
 * Rates are taken over the messages after the first 10 % (JIT warm-up of the client).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type PublishCountResult,
  request,
  type SdkClientId,
  type SdkDrainResult,
  type SdkHeapResult,
  type SdkReadResult,
  type SdkSubscribed,
} from '../lib/ipc.js';
import { type Proc, spawnNode, stop } from '../lib/procs.js';
import type { RunningTarget } from '../targets.js';
import { CpuMeter, mintToken, type RunContext, sleep } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLIENT = join(here, '..', 'sdk', 'client.js');
const GEN = join(here, '..', 'gen', 'main.js');

export const SDK_CLIENTS: { id: SdkClientId; label: string }[] = [
  { id: 'herald', label: '@herald/realtime' },
  { id: 'inngest-0.4.7', label: '@inngest/realtime 0.4.7' },
];

export interface SdkParams {
  /** Messages per measurement. */
  live: number;
  backlog: number;
  unread: number;
  payloadBytes: number;
  /** Publisher: raw sockets × requests in flight on each. */
  publishConnections: number;
  publishWindow: number;
}

/** Herald's send queue for this scenario: the backlog measurement parks N messages in it. */
export const SDK_SEND_QUEUE_BYTES = 256 * 1024 * 1024;

export interface SdkReadFigures {
  messages: number;
  received: number;
  /** Messages/s read by the client, over the messages after the first 10 % (warm-up). */
  msgsPerSec: number;
  /** Client process CPU (user + system, all threads) per message read after the warm-up, µs. */
  cpuUsPerMsg: number;
  /** The same over every message, warm-up included. */
  msgsPerSecAll: number;
  cpuUsPerMsgAll: number;
  /** Wall time from the first to the last message read, ms. */
  ms: number;
  /** Live only: CPU cores over the publishing window, and the rate Herald accepted publishes at. */
  cores?: { client: number; server: number; publisher: number; other: number };
  publishesPerSec?: number;
  error?: string;
}

export interface SdkUnreadFigures {
  messages: number;
  frames: number;
  heapBaselineBytes: number;
  heapHalfBytes: number;
  heapEndBytes: number;
  /** heapUsed after N messages − before any. */
  growthBytes: number;
  /** heapUsed after N − after N/2: zero for a bounded client. */
  secondHalfGrowthBytes: number;
  rssEndBytes: number;
  /** What the unread stream delivered when finally read, and how it ended. */
  held: number;
  ending: string;
}

export interface SdkClientResult {
  client: SdkClientId;
  version: string;
  live?: SdkReadFigures;
  backlog?: SdkReadFigures;
  unread?: SdkUnreadFigures;
}

export interface SdkResult {
  params: SdkParams;
  clients: SdkClientResult[];
  /** Anything that went wrong without stopping the scenario (a client read fewer messages…). */
  errors: string[];
}

const CHANNEL = 'bench-sdk';
const TOPIC = 't';

async function startClient(
  id: SdkClientId,
  baseUrl: string,
  mode: string,
  cpuProfileDir: string | undefined,
): Promise<Proc> {
  const prof = cpuProfileDir
    ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir, '--cpu-prof-name', `sdk-${id}-${mode}.cpuprofile`]
    : [];
  return spawnNode(`sdk-${id}`, ['--expose-gc', ...prof, CLIENT, id], {
    ipc: true,
    // 0.4.7 reads its base URL from the environment; no debug output from either.
    env: { INNGEST_BASE_URL: baseUrl, INNGEST_DEV: '1', DEBUG: '', NODE_ENV: 'development' },
  });
}

async function subscribeClient(
  p: Proc,
  baseUrl: string,
  mode: 'read' | 'unread',
  expect: number,
): Promise<SdkSubscribed> {
  const key = await mintToken(baseUrl, CHANNEL, TOPIC);
  return request<SdkSubscribed>(
    p,
    { type: 'sdk-subscribe', baseUrl, channel: CHANNEL, topic: TOPIC, key, mode, expect },
    30_000,
  );
}

/** `cpuProfileDir`: also write a CPU profile of each client process (`--profile`). */
export async function sdk(
  ctx: RunContext,
  t: RunningTarget,
  p: SdkParams,
  cpuProfileDir?: string,
): Promise<SdkResult> {
  const endpoint = t.endpoints[0];
  if (endpoint === undefined) throw new Error('target has no endpoint');
  const baseUrl = endpoint.url;
  const publisher = spawnNode('sdk-publisher', [GEN], { ipc: true });
  const errors: string[] = [];
  const results = new Map<SdkClientId, SdkClientResult>(
    SDK_CLIENTS.map((c) => [c.id, { client: c.id, version: 'unknown' }]),
  );
  const publish = (count: number): Promise<PublishCountResult> =>
    request<PublishCountResult>(
      publisher,
      {
        type: 'publish-count',
        host: endpoint.host,
        port: endpoint.port,
        channel: CHANNEL,
        topic: TOPIC,
        count,
        connections: p.publishConnections,
        window: p.publishWindow,
        payloadBytes: p.payloadBytes,
        timeoutMs: 120_000,
      },
      150_000,
    ).then((r) => {
      if (r.failed > 0)
        throw new Error(`${r.failed} of ${count} publishes failed: ${JSON.stringify(r.statuses)}`);
      return r;
    });
  const readFigures = (n: number, r: SdkReadResult, label: string): SdkReadFigures => {
    if (r.error) errors.push(`${label}: ${r.error}`);
    const ms = r.lastAt - r.firstAt;
    const after = r.received - r.warmReceived;
    const afterMs = r.lastAt - r.warmAt;
    return {
      messages: n,
      received: r.received,
      msgsPerSec: r.warmReceived > 0 && afterMs > 0 ? (after * 1000) / afterMs : 0,
      cpuUsPerMsg: r.warmReceived > 0 && after > 0 ? (r.cpuMicros - r.warmCpuMicros) / after : 0,
      msgsPerSecAll: ms > 0 ? ((r.received - 1) * 1000) / ms : 0,
      cpuUsPerMsgAll: r.received > 0 ? r.cpuMicros / r.received : 0,
      ms,
      ...(r.error ? { error: r.error } : {}),
    };
  };

  /** One client process for one measurement; always stopped. */
  const withClient = async <R>(id: SdkClientId, mode: string, fn: (c: Proc) => Promise<R>): Promise<R> => {
    const c = await startClient(id, baseUrl, mode, cpuProfileDir);
    try {
      return await fn(c);
    } finally {
      await stop(c, 3000);
    }
  };
  // Alternate which client goes first, so drift on the shared machine does not favour one.
  const order = (i: number) => (i % 2 === 0 ? SDK_CLIENTS : [...SDK_CLIENTS].reverse());

  try {
    // Live.
    for (const c of order(0)) {
      ctx.progress.status(`live, ${c.label}: ${p.live.toLocaleString('en-US')} messages`);
      const res = results.get(c.id) as SdkClientResult;
      res.live = await withClient(c.id, 'live', async (proc) => {
        const sub = await subscribeClient(proc, baseUrl, 'read', p.live);
        res.version = sub.sdkVersion;
        const meter = new CpuMeter({
          client: [proc.pid],
          server: t.procs.map((x) => x.pid),
          publisher: [publisher.pid],
        });
        const pub = await publish(p.live);
        const cpu = meter.stop();
        const read = await request<SdkReadResult>(proc, { type: 'sdk-read', timeoutMs: 30_000 }, 40_000);
        return {
          ...readFigures(p.live, read, `live · ${c.label}`),
          cores: {
            client: cpu.cores.client ?? 0,
            server: cpu.cores.server ?? 0,
            publisher: cpu.cores.publisher ?? 0,
            other: cpu.otherCores,
          },
          publishesPerSec: (pub.ok * 1000) / pub.ms,
        };
      });
    }
    // Backlog: the client is stopped while the messages are published, then continued.
    for (const c of order(1)) {
      ctx.progress.status(`backlog, ${c.label}: ${p.backlog.toLocaleString('en-US')} messages`);
      const res = results.get(c.id) as SdkClientResult;
      res.backlog = await withClient(c.id, 'backlog', async (proc) => {
        const sub = await subscribeClient(proc, baseUrl, 'read', p.backlog);
        res.version = sub.sdkVersion;
        process.kill(proc.pid, 'SIGSTOP');
        try {
          await publish(p.backlog);
          // Let Herald hand the last messages to the socket (it writes far faster than a client reads).
          await sleep(200);
        } finally {
          process.kill(proc.pid, 'SIGCONT');
        }
        const read = await request<SdkReadResult>(proc, { type: 'sdk-read', timeoutMs: 60_000 }, 70_000);
        return readFigures(p.backlog, read, `backlog · ${c.label}`);
      });
    }
    // Unread.
    for (const c of order(0)) {
      ctx.progress.status(`unread stream, ${c.label}: ${p.unread.toLocaleString('en-US')} messages`);
      const res = results.get(c.id) as SdkClientResult;
      res.unread = await withClient(c.id, 'unread', async (proc) => {
        const sub = await subscribeClient(proc, baseUrl, 'unread', 0);
        res.version = sub.sdkVersion;
        const half = Math.floor(p.unread / 2);
        await publish(half);
        const mid = await request<SdkHeapResult>(
          proc,
          { type: 'sdk-heap', frames: half, timeoutMs: 60_000 },
          70_000,
        );
        await publish(p.unread - half);
        const end = await request<SdkHeapResult>(
          proc,
          { type: 'sdk-heap', frames: p.unread, timeoutMs: 60_000 },
          70_000,
        );
        ctx.progress.status(`unread stream, ${c.label}: reading what it held`);
        const drained = await request<SdkDrainResult>(
          proc,
          { type: 'sdk-drain', idleMs: 1000, timeoutMs: 60_000 },
          70_000,
        );
        return {
          messages: p.unread,
          frames: end.frames,
          heapBaselineBytes: sub.heapUsed,
          heapHalfBytes: mid.heapUsed,
          heapEndBytes: end.heapUsed,
          growthBytes: end.heapUsed - sub.heapUsed,
          secondHalfGrowthBytes: end.heapUsed - mid.heapUsed,
          rssEndBytes: end.rss,
          held: drained.held,
          ending: drained.ending,
        };
      });
    }
  } finally {
    await stop(publisher, 2000);
  }
  return { params: p, clients: [...results.values()], errors };
}
