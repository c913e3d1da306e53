/**
 * Messages between the orchestrator and its children (generators, the memory probe in servers).
 * Every request carries an id; the child answers with the same id. Every wait is bounded.
 */
import type { Proc } from './procs.js';

/** Where and how subscribers connect. */
export interface SubTarget {
  host: string;
  port: number;
  protocol: 'ws' | 'sio';
  /** Request path for the upgrade, one per channel (subscriber i uses paths[i % paths.length]). */
  paths: string[];
  /** Socket.IO room per channel, same indexing as paths (sio only). */
  rooms: string[];
}

export interface ConnectRequest {
  type: 'connect';
  id: number;
  targets: SubTarget[];
  count: number;
  /** Global index of this process's first subscriber (spreads channels and nodes across processes). */
  firstIndex: number;
  /** Loopback source addresses to bind (past the ephemeral port range of one address). */
  sources: string[];
  concurrency: number;
  /** Every n-th subscriber decodes all its messages for latency; 0 decodes none. */
  sampleEvery: number;
  timeoutMs: number;
}

export interface SnapshotRequest {
  type: 'snapshot';
  id: number;
  /** Include the latency histogram (compressed base64) and start a new one. */
  histogram: boolean;
}

export interface SubSnapshot {
  type: 'snapshot';
  id: number;
  open: number;
  received: number;
  bytes: number;
  minPerSocket: number;
  maxPerSocket: number;
  /** Close codes seen from the server, code → count. */
  closes: Record<string, number>;
  histogram?: string;
  samples: number;
  /** WebSocket pings the server sent (and the generator answered). */
  pings: number;
  /**
   * How busy the generator's event loop was since the last histogram snapshot (p99): unpaced, the
   * loop's delay; paced, how long a turn worked between two sleeps. High means it lags.
   */
  loopDelayP99Ms: number;
}

export interface ConnectResult {
  type: 'connected';
  id: number;
  connected: number;
  failed: number;
  errors: string[];
  ms: number;
}

export interface PublishRequest {
  type: 'publish';
  id: number;
  /** Base URLs (http://host:port) to publish to, round-robin. */
  urls: string[];
  channels: string[];
  topic: string;
  payloadBytes: number;
  durationMs: number;
  /** Closed loop: this many requests in flight, each sent when one completes. */
  inflight: number;
  /** Open loop: requests per second; 0 means closed loop. */
  rate: number;
}

export interface PublishResult {
  type: 'published';
  id: number;
  sent: number;
  ok: number;
  failed: number;
  /** Open loop: sends skipped because `inflight` requests were already outstanding. */
  skipped: number;
  ms: number;
  errors: string[];
}

/** Read pacing (see gen/main.ts): sleep `ms` between event-loop turns; 0 turns it off. */
export interface PaceRequest {
  type: 'pace';
  id: number;
  ms: number;
}

export interface PacedReply {
  type: 'paced';
  id: number;
}

export interface ProgressMessage {
  type: 'progress';
  connected: number;
  failed: number;
}

export interface MemRequest {
  type: 'mem';
  id: number;
  gc: boolean;
}

export interface MemReply {
  type: 'mem';
  id: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Publish exactly `count` messages as fast as the server accepts them (see lib/pipelined.ts). */
export interface PublishCountRequest {
  type: 'publish-count';
  id: number;
  host: string;
  port: number;
  channel: string;
  topic: string;
  count: number;
  connections: number;
  window: number;
  payloadBytes: number;
  timeoutMs: number;
}

export interface PublishCountResult {
  type: 'published-count';
  id: number;
  ok: number;
  failed: number;
  ms: number;
  statuses: Record<string, number>;
}

/** Which subscribe() an SDK client process runs. */
export type SdkClientId = 'herald' | 'inngest-0.4.7';

/**
 * SDK client process (sdk/client.ts): subscribe with the SDK. `read`: a for-await loop reads the
 * returned stream and counts; `unread`: nobody reads it (frames are counted at the WebSocket).
 */
export interface SdkSubscribeRequest {
  type: 'sdk-subscribe';
  id: number;
  baseUrl: string;
  channel: string;
  topic: string;
  key: string;
  mode: 'read' | 'unread';
  /** `read`: the loop stops after this many messages. */
  expect: number;
}

export interface SdkSubscribed {
  type: 'sdk-subscribed';
  id: number;
  /** heapUsed after a full GC, once subscribed. */
  heapUsed: number;
  sdkVersion: string;
}

/** `read`: answered when the loop has read `expect` messages, or the stream ended or failed. */
export interface SdkReadRequest {
  type: 'sdk-read';
  id: number;
  timeoutMs: number;
}

export interface SdkReadResult {
  type: 'sdk-read';
  id: number;
  received: number;
  /** ms (performance.now of the client) of the first and last message read. */
  firstAt: number;
  lastAt: number;
  /** CPU µs (user + system) of the client process from subscribed to the last message. */
  cpuMicros: number;
  /** The end of the warm-up (the first 10 % of the messages): count, time, CPU µs so far. */
  warmReceived: number;
  warmAt: number;
  warmCpuMicros: number;
  /** Set when the stream ended (or the wait timed out) before `expect` messages. */
  error?: string;
}

/** `unread`: answered once `frames` data frames reached the WebSocket, with heapUsed after a full GC. */
export interface SdkHeapRequest {
  type: 'sdk-heap';
  id: number;
  frames: number;
  timeoutMs: number;
}

export interface SdkHeapResult {
  type: 'sdk-heap';
  id: number;
  frames: number;
  heapUsed: number;
  rss: number;
}

/** `unread`: close (if the SDK can) and read what the unread stream held, then how it ended. */
export interface SdkDrainRequest {
  type: 'sdk-drain';
  id: number;
  /** Stop reading after this long without a message (0.4.7's stream never ends by itself). */
  idleMs: number;
  timeoutMs: number;
}

export interface SdkDrainResult {
  type: 'sdk-drain';
  id: number;
  /** Messages the unread stream still delivered. */
  held: number;
  /** How it ended: an error's name and message, `ended`, or `still open` (idle). */
  ending: string;
}

export type ChildMessage =
  | SubSnapshot
  | ConnectResult
  | PublishResult
  | PublishCountResult
  | ProgressMessage
  | MemReply
  | PacedReply
  | SdkSubscribed
  | SdkReadResult
  | SdkHeapResult
  | SdkDrainResult;

let nextId = 1;

/**
 * Sends a request to a child and waits for the reply with the same id. `onOther` sees the
 * child's other messages (progress) meanwhile.
 */
export function request<T extends ChildMessage>(
  p: Proc,
  msg: Record<string, unknown> & { type: string },
  timeoutMs: number,
  onOther?: (m: ChildMessage) => void,
): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${p.name}: no answer to "${msg.type}" within ${timeoutMs} ms\n${p.tail()}`));
    }, timeoutMs);
    const onMessage = (m: ChildMessage) => {
      if ('id' in m && m.id === id) {
        cleanup();
        resolve(m as T);
      } else onOther?.(m);
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${p.name} exited while answering "${msg.type}"\n${p.tail()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      p.child.off('message', onMessage);
      p.child.off('exit', onExit);
    };
    p.child.on('message', onMessage);
    p.child.on('exit', onExit);
    p.child.send({ ...msg, id });
  });
}
