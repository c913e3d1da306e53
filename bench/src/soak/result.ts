/** The shape of `bench/results/soak-<timestamp>.json`. */
import type { Machine } from '../results.js';
import type { VerifyResult } from './fleet.js';
import type { PublisherCounts } from './publisher.js';

export interface SoakParams {
  quick: boolean;
  /** Publishing time, warm-up included. */
  durationSeconds: number;
  /** "Start" figures are the first sample after this. */
  warmupSeconds: number;
  sampleSeconds: number;
  requestedConnections: number;
  connections: number;
  /** Why `connections` is lower than requested, if it is. */
  cappedBy?: string;
  channels: number;
  /** Messages per second over all channels. */
  rate: number;
  /** Subscribers reconnecting per second, in % of all. */
  churnPercent: number;
  /** A churned subscriber stays away a random time up to this before it resumes. */
  awayMs: number;
  /** Herald's history window (`--history-size` messages per channel, `--history-ttl`). */
  history: { size: number; ttlSeconds: number };
  /** When every channel's history is full at this rate; memory grows by design until then. */
  historyFullAtS: number;
  engine: 'memory' | 'redis';
  payloadBytes: number;
  subscriberProcesses: number;
  /** Subscription tokens are minted once per channel and reused; they live this long. */
  tokenTtlSeconds: number;
  heraldArgs: string[];
  /** Limit options of this build the soak turned off (its load comes from 8 loopback addresses). */
  limitsOff: string[];
}

/** One sample: memory is read at the sample, rates and latency cover the interval before it. */
export interface Sample {
  /** Seconds since publishing started. */
  t: number;
  rssBytes: number;
  /** `nodejs_heap_size_used_bytes` from /metrics (not after a GC: a sawtooth). */
  heapUsedBytes: number;
  /** Open connections, from /health. */
  connections: number;
  /** Herald's open file descriptors (/proc/<pid>/fd): connections, half-closed sockets and its own. */
  heraldFds: number;
  /** Subscribers live (not between a leave and their resume). */
  live: number;
  deliveriesPerSec: number;
  replayedPerSec: number;
  reconnectsPerSec: number;
  /** Publishes acknowledged. */
  publishedPerSec: number;
  /** Cumulative. */
  publishFailed: number;
  publishSkipped: number;
  /** Live deliveries only (replays after a resume are counted apart). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  latencyCount: number;
  heraldCores: number;
  /** CPU of the load generators (subscriber processes, publisher), in cores. */
  subscriberCores: number;
  publisherCores: number;
  /** Busy cores of the whole machine, and the part no process of the soak accounts for (others). */
  machineCores: number;
  otherCores: number;
  /** Worst event-loop delay p99 of the subscriber workers, ms (high means they lag). */
  workerLoopDelayP99Ms: number;
}

export interface LatencyWindow {
  fromS: number;
  toS: number;
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StartEndMax {
  start: number;
  end: number;
  max: number;
}

export interface SoakSummary {
  connectMs: number;
  published: PublisherCounts;
  deliveries: number;
  /** Σ over channels of (messages acknowledged × its subscribers): every subscriber sees every one. */
  expectedDeliveries: number;
  replayed: number;
  leaves: number;
  reconnects: number;
  reconnectFailures: number;
  unexpectedCloses: number;
  closes: Record<string, number>;
  /** Gaps seen plus messages never reached by the end (final.missingTail). */
  lost: number;
  duplicated: number;
  reordered: number;
  epochChanges: number;
  wrongChannel: number;
  unexpectedFrames: number;
  recoveredFalse: number;
  final: VerifyResult & { healthConnections: number; quiescenceMs: number };
  rssBytes: StartEndMax;
  heapUsedBytes: StartEndMax;
  /**
   * The first sample after the history filled, when the run lasted long enough: from there on
   * memory should be flat, so end − steady is the growth that would be a leak.
   */
  steady?: { fromS: number; rssBytes: number; heapUsedBytes: number };
  /** Idle (every connection open, nothing published), before and after: heap after a full GC, RSS. */
  idle: { before: { heapAfterGc: number; rss: number }; after: { heapAfterGc: number; rss: number } };
  latency: { first: LatencyWindow; last: LatencyWindow; whole: LatencyWindow };
}

export interface SoakResult {
  schema: 1;
  kind: 'soak';
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: Omit<Machine, 'versions'>;
  params: SoakParams;
  series: Sample[];
  summary: SoakSummary;
  /** Why the run failed (empty when it passed). */
  problems: string[];
  warnings: string[];
  /** The first anomalies the subscribers saw, described. */
  examples: string[];
  ok: boolean;
}
