/**
 * Messages between the soak runner and its workers (subscriber fleets and the publisher), carried
 * by lib/ipc.ts's `request` (every request has an id, the answer the same id, every wait bounded).
 */
import { type ChildMessage, request } from '../lib/ipc.js';
import type { Proc } from '../lib/procs.js';
import type { FleetCounts, FleetOptions, VerifyResult } from './fleet.js';
import type { Position, PublisherCounts, PublisherOptions } from './publisher.js';

export interface FleetConnectRequest {
  type: 'fleet-connect';
  options: FleetOptions;
}

export interface FleetConnected {
  type: 'fleet-connected';
  id: number;
  connected: number;
  failed: number;
  errors: string[];
  ms: number;
}

/** Sent while connecting, without an id. */
export interface FleetProgress {
  type: 'fleet-progress';
  connected: number;
  failed: number;
}

/** Starts churn (`percent` of the fleet per second), or stops it with 0. */
export interface ChurnRequest {
  type: 'churn';
  percent: number;
}

export interface Done {
  type: 'done';
  id: number;
}

/** The audit counters of a fleet (see subscriber.ts), cumulative. */
export interface AuditCounts {
  deliveries: number;
  replayed: number;
  lost: number;
  duplicated: number;
  reordered: number;
  epochChanges: number;
  wrongChannel: number;
  unexpectedFrames: number;
  recoveredFalse: number;
  unexpectedCloses: number;
}

export interface FleetSnapshotRequest {
  type: 'fleet-snapshot';
  /** Include the latency histogram since the last one (compressed base64) and start a new one. */
  histogram: boolean;
}

export interface FleetSnapshot {
  type: 'fleet-snapshot';
  id: number;
  fleet: FleetCounts;
  audit: AuditCounts;
  /** Close codes the server sent unasked, code → count. */
  closes: Record<string, number>;
  examples: string[];
  histogram?: string;
  /** The worker's event-loop delay p99 since the last histogram, ms (high means it lags). */
  loopDelayP99Ms: number;
}

export interface VerifyRequest {
  type: 'verify';
  finals: (Position | null)[];
}

export interface Verified {
  type: 'verified';
  id: number;
  result: VerifyResult;
}

export interface PublishRequest {
  type: 'soak-publish';
  options: PublisherOptions;
}

/** Answered when the publishing time is up and the last answers are in. */
export interface Published {
  type: 'soak-published';
  id: number;
  counts: PublisherCounts;
  finals: (Position | null)[];
}

export interface PublisherSnapshotRequest {
  type: 'pub-snapshot';
}

export interface PublisherSnapshot {
  type: 'pub-snapshot';
  id: number;
  counts: PublisherCounts;
  outstanding: number;
}

export type SoakMessage =
  | FleetConnected
  | FleetProgress
  | Done
  | FleetSnapshot
  | Verified
  | Published
  | PublisherSnapshot;

/** `request` (lib/ipc.ts) with the soak's own answers. */
export function ask<T extends SoakMessage>(
  p: Proc,
  msg: Record<string, unknown> & { type: string },
  timeoutMs: number,
  onOther?: (m: SoakMessage) => void,
): Promise<T> {
  const other = onOther as ((m: ChildMessage) => void) | undefined;
  return request(p, msg, timeoutMs, other) as unknown as Promise<T>;
}

/** The same request to every process of a group, answers in order. */
export function askAll<T extends SoakMessage>(
  ps: Proc[],
  msg: Record<string, unknown> & { type: string },
  timeoutMs: number,
): Promise<T[]> {
  return Promise.all(ps.map((p) => ask<T>(p, msg, timeoutMs)));
}
